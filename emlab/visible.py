"""The one runner behind every lab's visible checks, and the spec objects it reads.

A lab states each graded function's visible checks as a :class:`FunctionSpec` (in
``emlab/specs/labNN.py``): the arguments it takes, what it returns (:class:`Output`), small
cases whose answer is worked out by hand (:class:`Case`: a literal expected value, or a
relation every correct answer satisfies), and the mistakes students make (:class:`Mistake`:
what to tell them, and how to recognise it from the output). :func:`run` does the rest the
same way for every lab:

1. the signature: the argument names of the statement, in order;
2. each case: the function is called with copies of its inputs, with numpy's warnings silenced
   (nbgrader counts a test cell that writes to stderr as failed); an exception from the
   student's code is re-raised with the case named (its own traceback shows the student's line);
3. the output: a value, not ``None``; a tuple of the right length; numbers; the right shape;
   finite; inputs untouched;
4. the answer: the case's expected value or relation; when it is wrong, the first recognised
   mistake's message, or else what was expected and how it is worked out.

A failure is a :class:`VisibleCheckFailure` (an ``AssertionError``) that says which function,
which case and what is wrong; IPython shows that message instead of a traceback (and pytest hides
this module's frames); its
``mistake`` attribute names the recognised mistake (tests use it). Success prints one line
starting with ``✓``.

Student-safe: a spec holds numbers and relations written out by hand, never code that computes
a graded answer.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Output", "Case", "Mistake", "Seen", "FunctionSpec", "VisibleCheckFailure", "run", "close", "fmt"]

RTOL = 1e-6
ATOL = 1e-9


class VisibleCheckFailure(AssertionError):
    """A visible check failed. ``function``, ``case`` and ``mistake`` (the recognised mistake's
    name, or a generic one such as ``"wrong_value"``) say what and where."""

    def __init__(self, function: str, case: str | None, mistake: str, message: str):
        where = f"{function}, on the case '{case}':\n" if case else f"{function}: "
        super().__init__(where + message)
        self.function, self.case, self.mistake, self.message = function, case, mistake, message

    def _render_traceback_(self) -> list[str]:
        """What IPython shows in place of a traceback: the message alone (it names the function, the
        case and what is wrong; the runner's frames would only hide it)."""
        return [f"AssertionError: {self}"]


def close(a, b, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and equal to the tolerances (``numpy.allclose``); False for anything not numeric."""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def fmt(a) -> str:
    """An array or number as the messages show it (six significant digits)."""
    try:
        return np.array2string(np.asarray(a, dtype=float), precision=6, separator=", ")
    except (TypeError, ValueError):
        return repr(a)


@dataclass(frozen=True)
class Output:
    """One value a graded function returns.

    name : what the statement calls it (``"gamma"``, ``"mu"``)
    shape : the expected shape, each entry a number or the name of an argument whose length it
        is (``("x",)``: one value per entry of ``x``), or a function of the call's arguments
        giving it; ``()`` for a single number (a Python float, a 0-d array or a one-element array are all accepted)
    meaning : what each entry is, for the shape message ("one probability per point")
    integer : the statement asks for an integer array (indices)
    """

    name: str
    shape: tuple | Callable[[Mapping[str, Any]], tuple] = ()
    meaning: str = ""
    integer: bool = False

    def expected_shape(self, args: Mapping[str, Any]) -> tuple:
        if callable(self.shape):
            return tuple(self.shape(args))
        return tuple(len(args[d]) if isinstance(d, str) else d for d in self.shape)


@dataclass(frozen=True)
class Seen:
    """What one case produced, for relations and mistake tests: ``out`` (the first call's output:
    an array, a float, or a tuple of them for several outputs), ``outs`` (every call's, in order),
    ``args`` (the first call's arguments, as arrays), ``calls`` (every call's) and ``context``
    (the extra arguments the check was given, such as a lab's own log-likelihood)."""

    out: Any
    outs: tuple
    args: Mapping[str, Any]
    calls: tuple
    context: Mapping[str, Any]


@dataclass(frozen=True)
class Mistake:
    """A named mistake: what the student is told, and how to recognise it.

    name : a short identifier (``"variance_as_sd"``); bank mutants name the mistake they make
    message : the hint, in words a student understands (what is wrong and how to fix it)
    gives : the output this mistake produces on the case it is attached to, written out like the
        case's ``expect`` (``None`` entries are not compared)
    test : or a predicate on :class:`Seen` that is true when the mistake is present
    rtol, atol : tolerances for ``gives``
    """

    name: str
    message: str
    gives: Any = None
    test: Callable[[Seen], bool] | None = None
    rtol: float = RTOL
    atol: float = ATOL

    def seen_in(self, seen: Seen) -> bool:
        if self.test is not None:
            try:
                return bool(self.test(seen))
            except Exception:   # a test that cannot read this output does not recognise it
                return False
        if self.gives is None:
            return False
        return _matches(seen.out, self.gives, self.rtol, self.atol)


@dataclass(frozen=True)
class Case:
    """A visible case.

    label : what the case is, in words (the failure message names it)
    args : the keyword arguments of one call (lists become float arrays), or a tuple of such
        mappings for a relation between several calls
    expect : the output worked out by hand (a number, nested lists, or a tuple with one entry per
        output, ``None`` where not compared); or None when only ``holds`` is checked
    why : how the expected value is worked out; shown when the output is wrong
    holds : a relation every correct output satisfies, on :class:`Seen`
    mistakes : the mistakes recognisable on this case, tried in order when the output is wrong
    rtol, atol : tolerances for ``expect``
    infinite : the answer holds +inf or -inf (a limit, such as a Dirac density): the runner's
        finite check is skipped and ``expect`` compared as written (an infinity equals only
        itself; NaN equals nothing, so a NaN output is wrong and meets the case's mistakes)
    """

    label: str
    args: Mapping[str, Any] | tuple
    expect: Any = None
    why: str = ""
    holds: Callable[[Seen], bool] | None = None
    mistakes: tuple[Mistake, ...] = ()
    rtol: float = RTOL
    atol: float = ATOL
    infinite: bool = False

    @property
    def calls(self) -> tuple:
        return self.args if isinstance(self.args, tuple) else (self.args,)


@dataclass(frozen=True)
class FunctionSpec:
    """Everything a graded function's visible check needs.

    name, params : the function's name and argument names, as the statement gives them
    returns : one :class:`Output`, or a tuple of them (the function returns a tuple)
    cases : the visible cases, easiest first
    passed : the line printed (after ``✓``) when every case passes
    mistakes : mistakes recognisable on any case, tried on every output after its type is
        checked and before its shape is (a transposed array, log-responsibilities, ...)
    nonfinite : the hint for NaN or infinite output (usually: a density underflowed)
    context : names of extra arguments the check takes after the function (given to relations
        as ``Seen.context``), such as the lab's own log-likelihood for a finite difference
    integer_arguments : arguments passed as integer arrays (indices), not converted to float
    """

    name: str
    params: tuple[str, ...]
    returns: Output | tuple[Output, ...]
    cases: tuple[Case, ...]
    passed: str
    mistakes: tuple[Mistake, ...] = ()
    nonfinite: Mistake = Mistake("nonfinite", "the result contains NaN or infinite values.")
    context: tuple[str, ...] = ()
    integer_arguments: tuple[str, ...] = ()

    def check(self, func, *context) -> None:
        """Run this function's visible checks on ``func`` (see :func:`run`)."""
        __tracebackhide__ = True
        run(self, func, *context)

    def checker(self) -> Callable:
        """A ``check_<name>(func, ...)`` function for a lab's module, documented from the spec."""
        spec = self

        def check(func, *context):
            __tracebackhide__ = True
            run(spec, func, *context)

        check.__name__ = check.__qualname__ = f"check_{self.name}"
        outs = self.returns if isinstance(self.returns, tuple) else (self.returns,)
        check.__doc__ = (
            f"Check ``{self.name}({', '.join(self.params)})`` -> "
            f"{', '.join(o.name for o in outs)} on {len(self.cases)} cases worked out by hand.\n\n"
            "Prints a line starting with ✓ when every case passes; otherwise raises AssertionError "
            "naming the case and what is wrong. Passing is necessary, not sufficient: the grader also "
            "runs your function on other inputs.")
        return check


# --------------------------------------------------------------------------- the runner
def run(spec: FunctionSpec, func, *context) -> None:
    """Check ``func`` against ``spec``: raise :class:`VisibleCheckFailure` on the first problem,
    print ``✓ <spec.passed>`` when there is none."""
    __tracebackhide__ = True
    if len(context) != len(spec.context):
        names = ", ".join((spec.name,) + spec.context)
        raise TypeError(f"check_{spec.name} takes ({names}); it was given {1 + len(context)} arguments.")
    _check_signature(spec, func)
    ctx = dict(zip(spec.context, context))
    for case in spec.cases:
        _run_case(spec, func, case, ctx)
    print(f"✓ {spec.passed}")


def _fail(spec: FunctionSpec, case: Case | None, mistake: str, message: str):
    __tracebackhide__ = True
    raise VisibleCheckFailure(spec.name, case.label if case else None, mistake, message) from None


def _check_signature(spec: FunctionSpec, func) -> None:
    __tracebackhide__ = True
    if not callable(func):
        _fail(spec, None, "not_a_function", f"{spec.name} should be a function; got {type(func).__name__}.")
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):     # a builtin or a C function: nothing to read
        return
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return
    names = tuple(p.name for p in params)
    extra_required = [p.name for p in params[len(spec.params):] if p.default is p.empty]
    if names[: len(spec.params)] != spec.params or extra_required:
        _fail(spec, None, "signature",
              f"{spec.name} should take the arguments ({', '.join(spec.params)}), in that order"
              + (f" (any further argument needs a default; {', '.join(extra_required)} has none)"
                 if extra_required and names[: len(spec.params)] == spec.params else "")
              + f"; yours takes ({', '.join(names)}).")


def _argument(name: str, value, spec: FunctionSpec):
    if isinstance(value, (list, tuple, np.ndarray)):
        dtype = int if name in spec.integer_arguments else float
        return np.array(value, dtype=dtype)
    return value


def _call(spec: FunctionSpec, func, case: Case, kwargs: Mapping[str, Any]):
    """Call ``func`` positionally with copies of the case's arguments, warnings silenced; fail if
    it modified an array it was given. Returns (raw output, the arguments as passed)."""
    __tracebackhide__ = True
    given = {name: _argument(name, kwargs[name], spec) for name in spec.params if name in kwargs}
    pristine = {k: v.copy() for k, v in given.items() if isinstance(v, np.ndarray)}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = func(*given.values())
    except Exception as exc:
        exc.add_note(f"(raised by {spec.name} while the visible check ran the case '{case.label}')")
        raise
    for name, value in pristine.items():
        if not np.array_equal(given[name], value, equal_nan=True):
            _fail(spec, case, "modified_input",
                  f"{spec.name} modified its argument {name!r}. Work on a copy, or avoid in-place operations "
                  f"such as {name} -= ... or {name}[...] = ....")
    return out, {k: pristine.get(k, v) for k, v in given.items()}


def _convert(spec: FunctionSpec, case: Case, raw, args):
    """The raw output as arrays (or floats), checked for type, count and numbers."""
    __tracebackhide__ = True
    outs = spec.returns if isinstance(spec.returns, tuple) else None
    if raw is None:
        _fail(spec, case, "no_return", f"{spec.name} returned None: did you forget the `return` statement?")
    if outs is None:
        return _number_array(spec, case, raw, spec.returns)
    names = ", ".join(o.name for o in outs)
    if not isinstance(raw, (tuple, list)) or len(raw) != len(outs):
        got = type(raw).__name__ + (f" of length {len(raw)}" if isinstance(raw, (tuple, list)) else "")
        _fail(spec, case, "not_a_tuple", f"{spec.name} should return a tuple ({names}); got {got}.")
    return tuple(_number_array(spec, case, value, o) for value, o in zip(raw, outs))


def _number_array(spec: FunctionSpec, case: Case, value, out: Output):
    """``value`` as a float array of its own (a copy: a function that reuses one buffer must not
    make two calls' outputs the same object), or as a float when the statement asks for one
    number; real numbers only (text or complex numbers are not an answer)."""
    __tracebackhide__ = True
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            kind = np.asarray(value).dtype.kind
            array = np.array(value, dtype=float, copy=True) if kind in "biuf" else None
    except (TypeError, ValueError):
        kind, array = "O", None
    if array is None:
        what = {"U": "text", "S": "bytes", "c": "complex numbers", "O": type(value).__name__}.get(kind, kind)
        _fail(spec, case, "not_numeric", f"{out.name} should be real numbers; got {what}.")
    if out.integer:
        if kind not in "iu":
            _fail(spec, case, "not_integer",
                  f"{out.name} should be an integer array (indices), not {np.asarray(value).dtype}: build it from "
                  "integer indices, or convert with .astype(int).")
        return np.array(value, copy=True)
    if not callable(out.shape) and tuple(out.shape) == () and array.size == 1:
        return float(array.reshape(()))
    return array


def _check_shapes(spec: FunctionSpec, case: Case, out, args):
    __tracebackhide__ = True
    outs = spec.returns if isinstance(spec.returns, tuple) else (spec.returns,)
    values = out if isinstance(spec.returns, tuple) else (out,)
    for o, value in zip(outs, values):
        want = o.expected_shape(args)
        got = np.shape(value)
        if got != want:
            meaning = f", {o.meaning}" if o.meaning else ""
            what = "a single number" if want == () else f"shape {want}"
            _fail(spec, case, "wrong_shape", f"{o.name} has shape {got}; expected {what}{meaning}.")
        if not o.integer and not case.infinite and not np.all(np.isfinite(value)):
            _fail(spec, case, spec.nonfinite.name, f"{o.name} contains NaN or infinite values: {fmt(value)}. "
                                                   f"{spec.nonfinite.message}")


def _matches(out, want, rtol, atol) -> bool:
    """``out`` equals ``want`` entry by entry (``want`` mirrors the outputs; None is skipped)."""
    if isinstance(want, tuple):
        if not isinstance(out, tuple) or len(out) != len(want):
            return False
        return all(w is None or close(o, w, rtol, atol) for o, w in zip(out, want))
    return close(out, want, rtol, atol)


def _run_case(spec: FunctionSpec, func, case: Case, ctx: Mapping[str, Any]) -> None:
    __tracebackhide__ = True
    outs, calls = [], []
    for kwargs in case.calls:
        raw, args = _call(spec, func, case, kwargs)
        out = _convert(spec, case, raw, args)
        seen_so_far = Seen(out, (out,), args, (args,), ctx)
        for mistake in spec.mistakes:
            if mistake.seen_in(seen_so_far):
                _fail(spec, case, mistake.name, mistake.message + f" (got {_show(out)})")
        _check_shapes(spec, case, out, args)
        outs.append(out)
        calls.append(args)
    seen = Seen(outs[0], tuple(outs), calls[0], tuple(calls), ctx)
    right = True
    if case.expect is not None:
        right = _matches(seen.out, case.expect, case.rtol, case.atol)
    if right and case.holds is not None:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                right = bool(case.holds(seen))
        except Exception as exc:
            exc.add_note(f"(raised while the visible check of {spec.name} tested the case '{case.label}')")
            raise
    if right:
        return
    for mistake in case.mistakes:
        if mistake.seen_in(seen):
            _fail(spec, case, mistake.name, f"{mistake.message} (got {_show(seen.out)})")
    expected = f"expected {_show(case.expect)}; " if case.expect is not None else ""
    _fail(spec, case, "wrong_value", f"{expected}got {_show(seen.out) if len(outs) == 1 else ', then '.join(map(_show, outs))}."
          + (f" {case.why}" if case.why else ""))


def _show(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.6g}"
    return fmt(value)


def rows_sum_to_one(gamma, atol: float = 1e-6) -> bool:
    """Every row of ``gamma`` (N, K) sums to one and every entry is in [0, 1]: what any matrix of
    responsibilities satisfies (a relation, not an answer)."""
    g = np.asarray(gamma, dtype=float)
    return bool(g.ndim == 2 and np.all(g >= -atol) and np.all(g <= 1 + atol)
                and np.allclose(g.sum(axis=1), 1.0, atol=atol))

