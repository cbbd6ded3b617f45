"""Nothing in the student package (emlab/) answers a graded exercise.

emlab/ is given to students (``make student-bundle``) and runs in their kernel: it may load
data, draw, run loops that call *their* functions and check those on hand-derived cases, but
it must never compute what a graded function returns, not even through a private helper.

The scan calls every callable the package defines (every function and class of every module,
public and private, and every method, static method and property getter of those classes) on
every graded function's hidden cases (emlab_grader.cases.cases_for), through the simple
adapters below, and has the trusted judge (emlab_judge.judge.judge) rule on each output, as
grading would (the output goes through the kernel's record encoding first). A helper that
earns more than half of a graded function's hidden-case weight (Case.weight) through one
adapter answers that exercise, since grading gives partial credit per case: the test fails
naming the helper, the adapter and the graded function. The graded functions are the
``check("<assignment>", "<function>", ...)`` calls in the source notebooks' test cells
(emlab_judge.verdicts.checked_functions).

One adapter is one recipe, the same for every case of a graded function:

arguments
    - by name: the case's arguments whose names the helper's parameters share, the helper's
      defaults for the rest;
    - by position: every ordered subset of the graded function's arguments (its own order,
      subsets and reorderings) that fits the helper's positional parameters, defaults for
      the rest;
    - the case written as each lab writes a mixture (lab 01: x, mu1, mu2, sigma; lab 02: x,
      lam, mu, sigma; lab 03: X, mu, Sigma, pi; lab 04: x, mu, sigma with components at +-mu;
      lab 05: X, mu, sigma2, pi, also sigma and logits), by name and by position;
    - one component at a time: (data, mean, standard deviation or variance), by name or by
      position, the K outputs stacked as the columns of an (n, K) array;
    - iterated: a one-step update ``f(mu, sigma)`` run along anneal's schedule.
outputs
    as returned; its first element when it is a tuple or list; exp and log of either; for an
    (n, K) array, its column 0, and the array read as log joint densities, joint densities,
    or component log-densities or densities (with the case's weights), turned into per-point
    log-densities (log-sum-exp over the columns), responsibilities (softmax) and their column
    0, or the bound Q under the case's gamma; and the sum and the mean of each.

Skipped, and listed when the scan runs: functions whose first parameter is a matplotlib Axes
(``ax``, ``ax_means``, ...); they draw on it and return what they drew.

``test_the_scan_finds_planted_answers`` plants reference implementations from the trusted side
as helpers and checks that the scan finds them: the scan can fail.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import io
import itertools
import math
import pkgutil
import signal
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
import numpy as np
from scipy.special import logsumexp, softmax, xlogy

from conftest import REPO
from emlab_grader.cases import cases_for
from emlab_grader.record import decode, encode
from emlab_judge.judge import judge
from emlab_judge.verdicts import checked_functions

MAJORITY = 0.5          # a helper earning more than this share of a function's case weight answers it
CALL_SECONDS = 2.0      # one adapted call running longer is stopped, counted as no answer, and listed
MAX_READ = 100_000      # outputs larger than this (no graded output is) are judged only as returned
SADDLE_DATA = np.array([1.0, -1.0])   # lab 04's two points (its ll, grad_ll, hessian_ll take only mu, sigma)


# --------------------------------------------------------------------------- what the package offers
def package_callables(package: str = "emlab") -> list[tuple[str, Callable]]:
    """(dotted name, callable) for every function and class defined in the package's modules
    (not imported into them), and every function-valued attribute of those classes (methods,
    static and class methods, property getters); each object once."""
    root = importlib.import_module(package)
    found, seen = [], set()

    def add(name, obj):
        if id(obj) not in seen:
            seen.add(id(obj))
            found.append((name, obj))

    for info in sorted(pkgutil.walk_packages(root.__path__, prefix=f"{package}."), key=lambda i: i.name):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if not callable(obj) or getattr(obj, "__module__", None) != module.__name__:
                continue
            add(f"{module.__name__}.{name}", obj)
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                    if inspect.isfunction(func):
                        add(f"{module.__name__}.{name}.{attr}", func)
    return found


def draws_on_axes(func) -> bool:
    """True for a function whose first parameter is a matplotlib Axes (named ``ax`` or ``ax_*``)."""
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and (params[0] == "ax" or params[0].startswith("ax_"))


def graded_functions() -> list[tuple[str, str]]:
    """Every (assignment, function) that a source notebook's graded test cell checks."""
    pairs = set()
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                pairs.update(checked_functions(cell))
    return sorted(pairs)


# --------------------------------------------------------------------------- a case in every lab's words
@dataclass
class Mixture:
    """A hidden case's mixture in one general form; None where the case does not give it.

    X (n, D) data; x (n,) the same data when D = 1; weights (K,); means (K, D); sds (K,)
    isotropic standard deviations (None for full covariances); Sigma (K, D, D); gamma (n, K)
    responsibilities the case gives."""

    X: np.ndarray
    x: np.ndarray | None = None
    weights: np.ndarray | None = None
    means: np.ndarray | None = None
    sds: np.ndarray | None = None
    Sigma: np.ndarray | None = None
    gamma: np.ndarray | None = None


def _floats(value):
    return None if value is None else np.asarray(value, dtype=float)


def _univariate(x, weights=None, means=None, sds=None, gamma=None) -> Mixture:
    """A mixture of K univariate components: x (n,), weights, means and sds (K,)."""
    x, sds = _floats(x), _floats(sds)
    return Mixture(X=x[:, None], x=x, weights=_floats(weights),
                   means=None if means is None else _floats(means)[:, None], sds=sds,
                   Sigma=None if sds is None else (sds ** 2)[:, None, None], gamma=_floats(gamma))


def as_mixture(assignment: str, kw: dict) -> Mixture | None:
    """The case's model in general form, or None when the case holds no data (lab 04's
    anneal, lab 02's update_lambda, lab 05's merge_candidates)."""
    lab = assignment[:2]
    if lab == "01":
        gamma = None if "z_hat" not in kw else np.column_stack([kw["z_hat"], 1.0 - kw["z_hat"]])
        if "mu1" in kw:
            return _univariate(kw["x"], [0.5, 0.5], [kw["mu1"], kw["mu2"]], [kw["sigma"]] * 2, gamma)
        return _univariate(kw["x"], gamma=gamma)
    if lab == "02":
        if "x" not in kw:
            return None
        return _univariate(kw["x"], kw.get("lam"), kw.get("mu"), kw.get("sigma"), kw.get("gamma"))
    if lab == "04":
        if "mu" not in kw:
            return None
        mu, sigma = float(kw["mu"]), float(kw["sigma"])
        return _univariate(kw.get("x", SADDLE_DATA), [0.5, 0.5], [mu, -mu], [sigma, sigma])
    if "X" not in kw:
        return None
    X = _floats(kw["X"])
    sds = _floats(kw["sigma"]) if "sigma" in kw else np.sqrt(_floats(kw["sigma2"])) if "sigma2" in kw else None
    weights = kw["pi"] if "pi" in kw else softmax(kw["logits"]) if "logits" in kw else None
    Sigma = kw.get("Sigma")
    if Sigma is None and sds is not None:
        Sigma = (sds ** 2)[:, None, None] * np.eye(X.shape[1])
    return Mixture(X=X, x=X[:, 0] if X.shape[1] == 1 else None, weights=_floats(weights),
                   means=_floats(kw.get("mu")), sds=sds, Sigma=_floats(Sigma), gamma=_floats(kw.get("gamma")))


@dataclass
class View:
    """A case as one lab writes a mixture's arguments: ``values`` by name, ``order`` (the
    lab's argument order, cut at the first one the case lacks) by position."""

    values: dict
    order: tuple


def _view(values: dict, order: tuple) -> View:
    values = {k: v for k, v in values.items() if v is not None}
    cut = next((i for i, k in enumerate(order) if k not in values), len(order))
    return View(values, order[:cut])


def _two_groups(m: Mixture) -> bool:
    """Lab 01's model: two univariate groups, weights 1/2, one shared standard deviation."""
    return (m.x is not None and m.means is not None and m.sds is not None and len(m.means) == 2
            and m.weights is not None and np.allclose(m.weights, 0.5) and m.sds[0] == m.sds[1])


def lab_views(m: Mixture | None) -> dict[str, View]:
    """{convention: View} for every lab convention that can express the case."""
    if m is None:
        return {}
    out = {}
    mu = m.means
    if m.x is not None:
        z_hat = m.gamma[:, 0] if m.gamma is not None and m.gamma.shape[1] == 2 else None
        groups = _two_groups(m)
        out["lab 01"] = _view({"x": m.x, "mu1": mu[0, 0] if groups else None, "mu2": mu[1, 0] if groups else None,
                               "sigma": m.sds[0] if groups else None, "z_hat": z_hat},
                              ("x", "mu1", "mu2", "sigma") if groups else ("x", "z_hat"))
        out["lab 02"] = _view({"x": m.x, "lam": m.weights, "mu": None if mu is None else mu[:, 0], "sigma": m.sds,
                               "gamma": m.gamma},
                              ("x", "lam", "mu", "sigma", "gamma") if m.weights is not None else ("x", "gamma"))
        if groups and mu[0, 0] == -mu[1, 0]:
            out["lab 04"] = _view({"x": m.x, "mu": mu[0, 0], "sigma": m.sds[0]}, ("x", "mu", "sigma"))
    params = m.means is not None and m.Sigma is not None
    out["lab 03"] = _view({"X": m.X, "mu": mu, "Sigma": m.Sigma, "pi": m.weights, "gamma": m.gamma},
                          ("X", "mu", "Sigma", "pi") if params else ("X", "gamma"))
    if m.sds is not None or m.means is None:
        out["lab 05"] = _view({"X": m.X, "mu": mu, "sigma": m.sds, "sigma2": None if m.sds is None else m.sds ** 2,
                               "pi": m.weights, "logits": None if m.weights is None else np.log(m.weights),
                               "gamma": m.gamma},
                              ("X", "mu", "sigma2", "pi") if m.sds is not None else ("X", "gamma"))
    return out


LAB_CONVENTIONS = ("lab 01", "lab 02", "lab 03", "lab 04", "lab 05")


# --------------------------------------------------------------------------- argument adapters
class NotApplicable(Exception):
    """The adapter cannot express this case for this helper."""


@dataclass(frozen=True)
class Adapter:
    """One recipe for calling a helper: ``run(helper, case kwargs, Case context) -> output``."""

    label: str
    run: Callable


@dataclass
class Params:
    """A helper's parameters: positional names, how many are required, keyword-only names,
    the required keyword-only ones."""

    positional: tuple
    required: int
    keyword: tuple
    required_keyword: tuple
    var_positional: bool

    @classmethod
    def of(cls, func) -> Params | None:
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            return None
        ps = list(sig.parameters.values())
        positional = [p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        keyword = [p for p in ps if p.kind == p.KEYWORD_ONLY]
        return cls(tuple(p.name for p in positional), sum(p.default is p.empty for p in positional),
                   tuple(p.name for p in keyword), tuple(p.name for p in keyword if p.default is p.empty),
                   any(p.kind == p.VAR_POSITIONAL for p in ps))

    def by_name(self, available) -> tuple | None:
        """The names to pass as keywords from ``available``, or None when a required one is missing."""
        accepted = set(self.positional) | set(self.keyword)
        names = tuple(n for n in available if n in accepted)
        needed = set(self.positional[:self.required]) | set(self.required_keyword)
        return names if needed <= set(names) else None

    def fits(self, count: int) -> bool:
        """Whether ``count`` positional arguments (defaults for the rest) make a valid call."""
        return not self.required_keyword and self.required <= count and (
            count <= len(self.positional) or self.var_positional)


@dataclass
class Context:
    """What the adapters know of one hidden case besides its kwargs."""

    mixture: Mixture | None
    views: dict


def fresh(value):
    """A copy of an input for one call (a helper may modify what it is given)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (float, int, np.generic, str, type(None))):
        return value
    return copy.deepcopy(value)


def _call_by_name(names):
    return lambda h, kw, ctx: h(**{n: fresh(kw[n]) for n in names})


def _call_by_position(names):
    return lambda h, kw, ctx: h(*[fresh(kw[n]) for n in names])


def _view_by_name(convention, params):
    def run(h, kw, ctx):
        view = ctx.views.get(convention)
        names = None if view is None else params.by_name(view.values)
        if not names:  # (no name in common: the plain call is made by the other adapters)
            raise NotApplicable
        return h(**{n: fresh(view.values[n]) for n in names})
    return run


def _view_by_position(convention, params):
    def run(h, kw, ctx):
        view = ctx.views.get(convention)
        if view is None:
            raise NotApplicable
        count = min(len(view.order), len(params.positional)) if not params.var_positional else len(view.order)
        if not count or not params.fits(count):
            raise NotApplicable
        return h(*[fresh(view.values[n]) for n in view.order[:count]])
    return run


COMPONENT_NAMES = {"x": "data", "X": "data", "mean": "mean", "mu": "mean", "loc": "mean", "sigma": "sd", "sd": "sd",
                   "scale": "sd", "sigma2": "var", "var": "var"}


def _component_names(params) -> tuple | None:
    """The helper's parameters that name one component's data, mean, sd or variance, or None."""
    return params.by_name([n for n in COMPONENT_NAMES if n in params.positional + params.keyword])


def _per_component(params, how):
    """Call the helper once per component (``how``: "by name", or the order of data, mean,
    sd or var by position); stack its (n,) outputs as the columns of an (n, K) array."""
    names = _component_names(params)

    def run(h, kw, ctx):
        m = ctx.mixture
        if m is None or m.means is None or m.sds is None:
            raise NotApplicable
        data = m.x if m.x is not None else m.X
        columns = []
        for mean, sd in zip(m.means, m.sds):
            values = {"data": fresh(data), "mean": fresh(mean[0] if m.x is not None else mean), "sd": fresh(sd),
                      "var": fresh(sd ** 2)}
            if how == "by name":
                out = h(**{n: values[COMPONENT_NAMES[n]] for n in names})
            else:
                out = h(*[values[k] for k in how])
            column = np.asarray(out, dtype=float)
            if column.shape != (data.shape[0],):
                raise NotApplicable
            columns.append(column)
        return np.column_stack(columns)
    return run


def _first(value):
    return value[0] if isinstance(value, (tuple, list, np.ndarray)) and np.ndim(value) > 0 else value


def _iterated(by_name: bool):
    """anneal's schedule with the helper as the one-step update mu <- f(mu, sigma)[0]."""
    def run(h, kw, ctx):
        mu, rows = float(kw["mu0"]), []
        for sigma in np.asarray(kw["sigmas"], dtype=float):
            for _ in range(int(kw["n_inner"])):
                mu = float(_first(h(mu=mu, sigma=sigma) if by_name else h(mu, sigma)))
            rows.append((mu, sigma))
        return np.array(rows).reshape(-1, 2)
    return run


def argument_adapters(params: Params, names: tuple) -> list[Adapter]:
    """Every adapter that can call a helper with these parameters on a graded function whose
    arguments are ``names`` (in its order)."""
    adapters, calls = [], set()
    matched = params.by_name(names)
    if matched is not None:
        calls.add(((), matched))
        adapters.append(Adapter(f"by name ({', '.join(matched)})", _call_by_name(matched)))
    top = len(names) if params.var_positional else min(len(params.positional), len(names))
    for k in range(params.required, top + 1):
        if not params.fits(k):
            continue
        for chosen in itertools.permutations(names, k):
            if (chosen, ()) not in calls:  # (the empty call may have been made by name already)
                calls.add((chosen, ()))
                adapters.append(Adapter(f"by position ({', '.join(chosen)})", _call_by_position(chosen)))
    for convention in LAB_CONVENTIONS:
        adapters.append(Adapter(f"by name, the case written as {convention} writes it",
                                _view_by_name(convention, params)))
        adapters.append(Adapter(f"by position, the case written as {convention} writes it",
                                _view_by_position(convention, params)))
    if _component_names(params):
        adapters.append(Adapter("one component at a time, by name", _per_component(params, "by name")))
    for how in (("data", "mean", "sd"), ("data", "mean", "var")):
        if params.fits(3):
            adapters.append(Adapter(f"one component at a time, by position ({', '.join(how)})",
                                    _per_component(params, how)))
    if {"mu0", "sigmas", "n_inner"} <= set(names):
        if params.fits(2):
            adapters.append(Adapter("iterated along anneal's schedule as mu <- f(mu, sigma)[0]", _iterated(False)))
        if params.by_name(("mu", "sigma")) == ("mu", "sigma"):
            adapters.append(Adapter("iterated along anneal's schedule as mu <- f(mu=mu, sigma=sigma)[0]",
                                    _iterated(True)))
    return adapters


# --------------------------------------------------------------------------- output readings
def _numeric(value):
    """``value`` as a float array of at most MAX_READ elements, else None (read as returned only)."""
    if value is None:
        return None
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if arr.size <= MAX_READ else None


def _log_joints(A: np.ndarray, m: Mixture | None):
    """(how, L): ways of reading an (n, K) array as the log joint densities log(w_k p_k(x_n))."""
    yield "read as log joint densities", A
    yield "read as joint densities", np.log(A)
    if m is not None and m.weights is not None and A.shape[1] == len(m.weights):
        yield "read as component log-densities with the case's weights", np.log(m.weights) + A
        yield "read as component densities with the case's weights", np.log(m.weights) + np.log(A)


def readings(out, m: Mixture | None) -> dict:
    """{how: value}: every way the adapters read a helper's output."""
    found = {}
    bases = [("the output", out)]
    if isinstance(out, (tuple, list)) and out:
        bases.append(("its first element", out[0]))
    for name, base in bases:
        found[name] = base
        arr = _numeric(base)
        if arr is None:
            continue
        derived = {f"exp of {name}": np.exp(arr), f"log of {name}": np.log(arr)}
        if arr.ndim == 2 and arr.shape[1] > 0:
            derived[f"column 0 of {name}"] = arr[:, 0]
            for how, L in _log_joints(arr, m):
                gamma = softmax(L, axis=1)
                derived[f"log-sum-exp over the columns of {name} {how}"] = logsumexp(L, axis=1)
                derived[f"softmax over the columns of {name} {how}"] = gamma
                derived[f"column 0 of the softmax of {name} {how}"] = gamma[:, 0]
                if m is not None and m.gamma is not None and m.gamma.shape == L.shape:
                    derived[f"Q under the case's gamma of {name} {how}"] = (
                        np.sum(np.where(m.gamma > 0, m.gamma * L, 0.0)) - np.sum(xlogy(m.gamma, m.gamma)))
        for how, value in [(name, arr), *derived.items()]:
            if how != name:
                found[how] = value
            found[f"the sum of {how}"] = np.sum(value)
            found[f"the mean of {how}"] = np.mean(value) if np.size(value) else np.nan
    return found


def _memo_key(value):
    """A hashable stand-in for a numeric value (arrays by dtype, shape and bytes), or None."""
    if isinstance(value, (tuple, list)):
        keys = tuple(_memo_key(v) for v in value)
        return None if None in keys else (type(value).__name__, keys)
    if isinstance(value, (bool, int, float, np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.size <= MAX_READ:
            return (type(value).__name__, arr.dtype.str, arr.shape, arr.tobytes())
    return None


def accepted(assignment: str, function: str, kwargs: dict, value, memo: dict | None = None, case=None) -> bool:
    """The judge's verdict on ``value`` as the graded function's output, recorded as the kernel
    records it. ``memo`` remembers verdicts by (``case``, value): many readings and many helpers
    give the same value (a True from a comparison, a sum equal to its only term)."""
    key = None if memo is None else _memo_key(value)
    if key is not None and (case, key) in memo:
        return memo[case, key]
    try:
        ok = judge(assignment, function, kwargs, decode(encode(value))).ok
    except Exception:  # a value the record or the judge cannot take is no answer
        ok = False
    if key is not None:
        memo[case, key] = ok
    return ok


# --------------------------------------------------------------------------- calling safely
class CallTimedOut(BaseException):
    """A helper call ran past CALL_SECONDS (a BaseException, so the helper cannot swallow it)."""


def _time_up(signum, frame):
    raise CallTimedOut


@contextlib.contextmanager
def quiet():
    """For a whole scan: no output, no warnings, no floating-point errors, short array
    printing (helpers format their inputs into messages), and the SIGALRM handler that
    stops a call running past CALL_SECONDS (on the main thread, where signals work)."""
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGALRM, _time_up) if on_main else None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(), np.errstate(all="ignore"), np.printoptions(threshold=6, edgeitems=2):
            warnings.simplefilter("ignore")
            yield
    finally:
        if on_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


FAILED = object()


def call(adapter: Adapter, helper, kwargs: dict, ctx: Context, timeouts: list, label: str):
    """The adapter's call of the helper (each adapter passes copies of the case's inputs), or
    FAILED; stopped after CALL_SECONDS inside :func:`quiet` (on the main thread)."""
    timed = threading.current_thread() is threading.main_thread()
    if timed:
        signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
    try:
        return adapter.run(helper, kwargs, ctx)
    except CallTimedOut:
        timeouts.append(label)
    except (Exception, SystemExit):  # the helper or the adapter could not take these inputs
        pass
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return FAILED


# --------------------------------------------------------------------------- the scan
@dataclass
class Leak:
    """A helper that answers a graded function through one adapter."""

    helper: str
    assignment: str
    function: str
    adapter: str
    reading: str
    earned: float
    total: float

    def __str__(self):
        return (f"{self.helper} answers {self.assignment} {self.function} ({self.earned:g} of its "
                f"{self.total:g} hidden-case weight): called {self.adapter}, {self.reading}")


@dataclass
class ScanResult:
    leaks: list = field(default_factory=list)
    timeouts: list = field(default_factory=list)
    calls: int = 0


def scan_function(helpers, assignment: str, function: str, result: ScanResult) -> None:
    """Every helper, through every adapter, on every hidden case of one graded function; a
    helper's best adapter that earns a majority of the case weight is a leak."""
    cases = cases_for(assignment, function)
    total = sum(c.weight for c in cases)
    names = tuple(cases[0].kwargs)
    contexts, memo = [], {}
    for case in cases:
        mixture = as_mixture(assignment, case.kwargs)
        contexts.append(Context(mixture, lab_views(mixture)))
    for hname, helper in helpers:
        params = Params.of(helper)
        if params is None:
            continue
        best = None
        for adapter in argument_adapters(params, names):
            earned, seen = defaultdict(float), 0.0
            for index, (case, ctx) in enumerate(zip(cases, contexts)):
                result.calls += 1
                out = call(adapter, helper, case.kwargs, ctx, result.timeouts,
                           f"{hname} {adapter.label} on {assignment} {function}, case '{case.label}'")
                if out is not FAILED:
                    for how, value in readings(out, ctx.mixture).items():
                        if accepted(assignment, function, case.kwargs, value, memo, index):
                            earned[how] += case.weight
                seen += case.weight
                if max(earned.values(), default=0.0) + (total - seen) <= MAJORITY * total:
                    break  # no reading can reach a majority any more
            how, got = max(earned.items(), key=lambda item: item[1], default=(None, 0.0))
            if got > MAJORITY * total and (best is None or got > best.earned):
                best = Leak(hname, assignment, function, adapter.label, f"reading {how}", got, total)
        if best is not None:
            result.leaks.append(best)


def scan(helpers, graded) -> ScanResult:
    """Scan every graded function with every helper."""
    result = ScanResult()
    with quiet():
        for assignment, function in graded:
            scan_function(helpers, assignment, function, result)
    return result


def scanned_helpers() -> tuple[list, list]:
    """(helpers the scan calls, names of the plotting functions it skips)."""
    helpers, skipped = [], []
    for name, obj in package_callables():
        if draws_on_axes(obj):
            skipped.append(name)
        else:
            helpers.append((name, obj))
    return helpers, skipped


# --------------------------------------------------------------------------- the tests
def test_no_helper_answers_a_graded_exercise():
    helpers, skipped = scanned_helpers()
    graded = graded_functions()
    assert len(graded) >= 20, f"found only {graded} in the source notebooks' test cells"
    assert len(helpers) >= 30, f"found only {[n for n, _ in helpers]} in emlab"
    start = time.monotonic()
    result = scan(helpers, graded)
    seconds = time.monotonic() - start
    print(f"\n{len(helpers)} callables of emlab scanned on {len(graded)} graded functions "
          f"({result.calls} adapted calls, {seconds:.1f} s)")
    print(f"skipped, they only draw on a matplotlib Axes: {', '.join(skipped)}")
    if result.timeouts:
        print(f"stopped after {CALL_SECONDS:g} s (no answer counted):\n  " + "\n  ".join(result.timeouts))
    assert not result.leaks, (
        f"{len(result.leaks)} helper(s) of the student package answer graded exercises (a majority of "
        "the hidden-case weight through one adapter). Move what a lab needs of them into a locked cell of "
        "its notebook, or compute it through the student's own functions:\n  "
        + "\n  ".join(map(str, sorted(result.leaks, key=str))))


def test_the_scan_finds_planted_answers():
    """Reference implementations from the trusted side, planted as helpers, are found: the scan can fail."""
    from emlab_judge import reference_em_in_practice as ref05
    from emlab_judge import reference_saddle_point as ref04

    def log_normal(x, mean, sigma):
        """log N(x | mean, sigma^2), elementwise: one component's log-density."""
        return -np.log(sigma) - 0.5 * math.log(2 * math.pi) - (x - mean) ** 2 / (2 * sigma ** 2)

    planted = [("planted.responsibilities", ref05.responsibilities), ("planted.log_joint", ref05.log_joint),
               ("planted.em_step", ref04.em_step), ("planted.log_normal", log_normal)]
    graded = [("01-two-means", "e_step"), ("01-two-means", "incomplete_loglik"), ("02-lower-bound", "calc_probs"),
              ("02-lower-bound", "compute_q"), ("04-saddle-point", "log_density"), ("04-saddle-point", "ll"),
              ("04-saddle-point", "anneal")]
    found = {(leak.helper, leak.function) for leak in scan(planted, graded).leaks}
    expected = {("planted.responsibilities", "e_step"), ("planted.responsibilities", "calc_probs"),
                ("planted.log_joint", "incomplete_loglik"), ("planted.log_joint", "compute_q"),
                ("planted.log_joint", "log_density"), ("planted.em_step", "anneal"),
                ("planted.log_normal", "e_step"), ("planted.log_normal", "log_density"), ("planted.log_normal", "ll")}
    assert expected <= found, f"the scan missed {sorted(expected - found)}"
