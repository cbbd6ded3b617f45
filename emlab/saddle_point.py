"""Lab 04 (the ±1 saddle point): optimisers, surfaces, figures, a race and visible checks.

The model of the lab: an equal mixture of two Gaussians with opposite means and one shared
standard deviation, 1/2 N(mu, sigma^2) + 1/2 N(-mu, sigma^2), fitted to exactly two points,
x = +1 and x = -1 (:data:`DATA`). mu and sigma are in the data's unit (sigma is a standard
deviation, not a variance); log-likelihoods are in nats.

A point of parameter space is a pair ``(mu, sigma)``; a path is an array of shape (T, 2),
one row (mu, sigma) per iterate. Critical points: the saddle (0, 1) and, at the boundary
sigma = 0, the Dirac limits (+-1, 0) where the likelihood is unbounded.

Nothing here computes the mixture's density, its log-likelihood, its gradient, its Hessian or
an annealing or EM update: the optimisers, surfaces and fields call *your* functions (``ll``,
``grad_ll``, ``anneal``) passed in as arguments. Even EM (:func:`em_path`), whose closed form
for these two points the lab derives in the open, takes its step through your ``grad_ll``.

The checks call your function on cases whose answer you can work out by hand (mu = 0, where
both components coincide; a point far away; sigma = 0; symmetry in mu; finite differences
of *your* ll) and either print a line starting with ``✓`` or raise ``AssertionError``
explaining what is wrong. Passing them is necessary, not sufficient: the grader also runs
your functions on other inputs.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .checking import close, fail

__all__ = [
    "DATA", "SADDLE", "DIRAC_OPTIMA", "MU_TARGET", "OptimiserPath",
    "em_path", "gradient_ascent", "alternating_path", "iterations_near",
    "grid_values", "gradient_field",
    "plot_surface3d", "plot_contour", "plot_field", "plot_path", "mark_critical_points",
    "optimiser_race",
    "check_log_density", "check_ll", "check_grad_ll", "check_hessian_ll", "check_anneal", "finite_differences",
]

DATA = np.array([1.0, -1.0])           # the two data points
SADDLE = (0.0, 1.0)                    # (mu, sigma) of the saddle
DIRAC_OPTIMA = ((1.0, 0.0), (-1.0, 0.0))   # where ll -> +inf: each component a spike on a point
MU_TARGET = 0.95                       # |mu| >= MU_TARGET counts as "arrived" at the optimum
MU_LABEL = "μ (mean of the + component)"
SIGMA_LABEL = "σ (standard deviation)"
PATH_COLOURS = {"gradient ascent": "#1f5fbf", "EM": "#d62728", "annealing": "#2ca02c",
                "alternating": "#ff7f0e"}

RTOL = 1e-6
ATOL = 1e-9
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- optimisers
@dataclass
class OptimiserPath:
    """Iterates of an optimiser.

    points : (T + 1, 2) array, row t = (mu, sigma) after t iterations (row 0 is the start)
    reason : why it stopped: "tolerance" (the step or gradient fell below tol, wherever that is),
             "target" (|mu| reached MU_TARGET) or "max_iter"
    """

    points: np.ndarray
    reason: str

    @property
    def n_iter(self) -> int:
        return len(self.points) - 1

    def __repr__(self) -> str:
        mu, sigma = self.points[-1]
        return f"OptimiserPath({self.n_iter} iterations, end ({mu:.4f}, {sigma:.4f}), stopped by {self.reason})"


def _arrived(mu: float, mu_target: float | None) -> bool:
    return mu_target is not None and abs(mu) >= mu_target


def em_path(grad: Callable, start, *, tol: float = 1e-8, max_iter: int = 10_000,
            mu_target: float | None = MU_TARGET) -> OptimiserPath:
    """EM from ``start`` = (mu, sigma), sigma > 0, each step taken through your gradient.

    grad : your ``grad_ll(mu, sigma)``, returning (d ll / d mu, d ll / d sigma)
    start : (mu, sigma) with sigma > 0

    For the points +1 and -1 EM has a closed form: the E step gives the + component the
    responsibility sigmoid(2 mu / sigma^2) for x = +1, and the M step gives
    mu' = tanh(mu / sigma^2), which is the gradient step mu + (sigma^2 / 2) d ll / d mu (section 9),
    and sigma'^2 = 1 - mu'^2. Stops when a step moves (mu, sigma) by less than ``tol``
    (Euclidean norm), when |mu| >= ``mu_target`` (None: never), or after ``max_iter`` iterations.
    Returns an OptimiserPath, points (T + 1, 2).
    """
    mu, sigma = map(float, start)
    points, reason = [(mu, sigma)], "max_iter"
    for _ in range(max_iter):
        d_mu = float(np.asarray(grad(mu, sigma), dtype=float).reshape(2)[0])
        mu_new = mu + 0.5 * sigma * sigma * d_mu
        new = (mu_new, math.sqrt(max(1.0 - mu_new * mu_new, 0.0)))
        step = math.hypot(new[0] - mu, new[1] - sigma)
        mu, sigma = new
        points.append(new)
        if _arrived(mu, mu_target):
            reason = "target"
            break
        if step < tol:
            reason = "tolerance"
            break
    return OptimiserPath(np.array(points), reason)


def gradient_ascent(grad: Callable, start, *, step: float = 0.05, tol: float = 1e-8, max_iter: int = 10_000,
                    sigma_min: float = 0.05, mu_target: float | None = MU_TARGET) -> OptimiserPath:
    """Gradient ascent on ll with a fixed step: theta <- theta + step * grad(mu, sigma).

    grad : your ``grad_ll(mu, sigma)``, returning (d ll / d mu, d ll / d sigma)
    start : (mu, sigma) with sigma > 0
    step : the step size (units of parameter per unit of gradient)
    tol : stop when the gradient's norm falls below tol: this is what halts at the saddle
    sigma_min : sigma is kept >= sigma_min (a projected step), since ll grows without bound as sigma -> 0
    mu_target : stop when |mu| >= mu_target (None: never)
    """
    theta = np.array(start, dtype=float)
    points, reason = [theta.copy()], "max_iter"
    for _ in range(max_iter):
        g = np.asarray(grad(theta[0], theta[1]), dtype=float).reshape(2)
        if math.hypot(g[0], g[1]) < tol:
            reason = "tolerance"
            break
        theta = theta + step * g
        theta[1] = max(theta[1], sigma_min)
        points.append(theta.copy())
        if _arrived(theta[0], mu_target):
            reason = "target"
            break
    return OptimiserPath(np.array(points), reason)


def alternating_path(loglik: Callable, start, *, n_sweeps: int = 20, mu_bounds=(-2.0, 2.0),
                     sigma_bounds=(0.05, 3.0), xatol: float = 1e-10) -> OptimiserPath:
    """Alternating (coordinate) maximisation of your ``ll(mu, sigma)``, starting with mu.

    Each sweep maximises over mu at fixed sigma, then over sigma at fixed mu, each with
    scipy.optimize.minimize_scalar (bounded, to ``xatol``). Each sweep adds two rows.
    """
    from scipy.optimize import minimize_scalar

    mu, sigma = map(float, start)
    points = [(mu, sigma)]
    for _ in range(n_sweeps):
        mu = float(minimize_scalar(lambda m: -loglik(m, sigma), bounds=mu_bounds, method="bounded",
                                   options={"xatol": xatol}).x)
        points.append((mu, sigma))
        sigma = float(minimize_scalar(lambda s: -loglik(mu, s), bounds=sigma_bounds, method="bounded",
                                      options={"xatol": xatol}).x)
        points.append((mu, sigma))
    return OptimiserPath(np.array(points), "max_iter")


def iterations_near(path, point=SADDLE, radius: float = 0.1) -> int:
    """How many rows of ``path`` ((T, 2) array or OptimiserPath) lie within ``radius`` of ``point``."""
    p = path.points if isinstance(path, OptimiserPath) else np.asarray(path, dtype=float)
    return int(np.sum(np.hypot(p[:, 0] - point[0], p[:, 1] - point[1]) < radius))


# --------------------------------------------------------------------------- surfaces
def grid_values(f: Callable, mus, sigmas) -> np.ndarray:
    """f(mu, sigma) on a grid: array (len(sigmas), len(mus)), row j for sigmas[j] (as contour expects)."""
    return np.array([[float(f(m, s)) for m in mus] for s in sigmas])


def gradient_field(grad: Callable, mus, sigmas) -> tuple[np.ndarray, np.ndarray]:
    """(U, V): d ll / d mu and d ll / d sigma from your ``grad_ll`` on the grid, each (len(sigmas), len(mus))."""
    G = np.array([[np.asarray(grad(m, s), dtype=float).reshape(2) for m in mus] for s in sigmas])
    return G[..., 0], G[..., 1]


def plot_surface3d(ax, mus, sigmas, L, *, title: str = "log-likelihood ℓ(μ, σ)", cmap="viridis"):
    """3-D surface of L (len(sigmas), len(mus)) on a 3-D ``ax`` (subplot_kw={"projection": "3d"})."""
    M, S = np.meshgrid(mus, sigmas)
    surf = ax.plot_surface(M, S, L, cmap=cmap, linewidth=0, antialiased=True, alpha=0.9)
    ax.set_xlabel(MU_LABEL, labelpad=8)
    ax.set_ylabel(SIGMA_LABEL, labelpad=8)
    ax.set_zlabel("ℓ (nats)", labelpad=6)
    ax.set_title(title)
    return surf


def plot_contour(ax, mus, sigmas, L, *, levels=25, title: str = "log-likelihood ℓ(μ, σ)", cmap="viridis"):
    """Filled contours of L (len(sigmas), len(mus)) with labelled axes; returns the contour set."""
    cs = ax.contourf(mus, sigmas, L, levels=levels, cmap=cmap)
    ax.contour(mus, sigmas, L, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    ax.set_xlabel(MU_LABEL)
    ax.set_ylabel(SIGMA_LABEL)
    ax.set_title(title)
    return cs


def mark_critical_points(ax, *, saddle: bool = True, dirac: bool = True):
    """Mark the saddle (0, 1) and the Dirac optima (+-1, 0) on a (mu, sigma) plot."""
    if saddle:
        ax.plot(*SADDLE, "X", color="black", markersize=13, markeredgecolor="white", label="saddle (0, 1)",
                zorder=5, clip_on=False)
    if dirac:
        ax.plot([m for m, _ in DIRAC_OPTIMA], [s for _, s in DIRAC_OPTIMA], "*", color="gold", markersize=18,
                markeredgecolor="black", label="Dirac optima (±1, 0)", zorder=5, clip_on=False)


def plot_field(ax, mus, sigmas, U, V, *, title: str = "gradient field of ℓ (direction only)"):
    """Quiver of the gradient's direction (arrows of equal length, coloured by log10 of its norm)."""
    norm = np.hypot(U, V)
    safe = np.where(norm > 0, norm, 1.0)
    q = ax.quiver(mus, sigmas, U / safe, V / safe, np.log10(norm + 1e-12), cmap="magma", angles="xy",
                  pivot="mid", scale=30, width=0.004)
    ax.set_xlabel(MU_LABEL)
    ax.set_ylabel(SIGMA_LABEL)
    ax.set_title(title)
    return q


def plot_path(ax, path, *, colour="white", label: str | None = None, marker: str = "o", every: int = 1):
    """Draw a path ((T, 2) array or OptimiserPath): a line through every iterate, markers every
    ``every`` iterates, a square at the start and a triangle at the end."""
    p = path.points if isinstance(path, OptimiserPath) else np.asarray(path, dtype=float)
    ax.plot(p[:, 0], p[:, 1], "-", color=colour, lw=1.6, label=label)
    ax.plot(p[::every, 0], p[::every, 1], marker, color=colour, markersize=3, linestyle="none")
    ax.plot(p[0, 0], p[0, 1], "s", color=colour, markersize=7, markeredgecolor="black")
    ax.plot(p[-1, 0], p[-1, 1], "^", color=colour, markersize=8, markeredgecolor="black")


# --------------------------------------------------------------------------- the race
def optimiser_race(starts, tol: float = 1e-8, grad_ll: Callable | None = None, anneal: Callable | None = None,
                   *, step: float = 0.05, max_iter: int = 20_000, sigma_end: float = 0.3, n_outer: int = 40,
                   n_inner: int = 3, mu_target: float = MU_TARGET) -> list[dict]:
    """Gradient ascent, EM and deterministic annealing from the same starts: how many iterations
    (and seconds) each needs to reach the optimum.

    The optimum is the Dirac limit (+-1, 0), where ll is unbounded; an optimiser has *reached* it
    when |mu| >= ``mu_target`` (0.95 by default: each component within 0.05 of a data point, from
    where every method runs on down to the spike).

    Parameters
    ----------
    starts : sequence of (mu, sigma) pairs, sigma > 0
    tol : stopping tolerance: gradient ascent stops when the gradient's norm is below tol, EM when
        a step moves (mu, sigma) by less than tol. Near the saddle both fall below a loose tol
        long before the optimum: those rows have ``reached`` False and ``stopped`` "tolerance".
    grad_ll : ``grad_ll(mu, sigma) -> (2,)``, the analytic gradient (yours, or the instructor's
        reference: ``emlab`` holds none), for gradient ascent and for EM's steps. Required.
    anneal : ``anneal(mu0, sigmas, n_inner) -> (T, 2)`` path (yours, or the reference). Required.
    step, max_iter : gradient ascent's fixed step size and the iteration cap of ascent and EM
    sigma_end, n_outer, n_inner : annealing's schedule: n_outer sigmas geometrically from the
        start's sigma down to sigma_end, n_inner updates of mu at each

    Returns
    -------
    list of dict, one per (start, method), in the order of ``starts`` then ("gradient ascent",
    "EM", "annealing"), with keys

    - ``start``: (mu, sigma) as floats
    - ``method``: "gradient ascent", "EM" or "annealing"
    - ``iterations``: iterations until |mu| >= mu_target (for annealing, updates of mu: outer
      steps x n_inner), or None if it never got there
    - ``reached``: bool
    - ``stopped``: "target", "tolerance" or "max_iter" (annealing: "target" or "schedule end")
    - ``near_saddle``: iterations spent within 0.1 of the saddle (0, 1)
    - ``seconds``: wall-clock time of the run (time.perf_counter)
    """
    if grad_ll is None or anneal is None:
        raise TypeError("optimiser_race needs grad_ll= and anneal= (your functions, or the reference's): "
                        "emlab computes no gradient and no annealing path of its own.")
    rows = []
    for start in starts:
        mu0, sigma0 = float(start[0]), float(start[1])
        t0 = time.perf_counter()
        ga = gradient_ascent(grad_ll, (mu0, sigma0), step=step, tol=tol, max_iter=max_iter, mu_target=mu_target)
        t1 = time.perf_counter()
        em = em_path(grad_ll, (mu0, sigma0), tol=tol, max_iter=max_iter, mu_target=mu_target)
        t2 = time.perf_counter()
        for method, path, seconds in (("gradient ascent", ga, t1 - t0), ("EM", em, t2 - t1)):
            rows.append({"start": (mu0, sigma0), "method": method,
                         "iterations": path.n_iter if path.reason == "target" else None,
                         "reached": path.reason == "target", "stopped": path.reason,
                         "near_saddle": iterations_near(path), "seconds": seconds})
        t3 = time.perf_counter()
        sigmas = np.geomspace(sigma0, sigma_end, n_outer)
        p = np.asarray(anneal(mu0, sigmas, n_inner), dtype=float)
        seconds = time.perf_counter() - t3
        hit = np.flatnonzero(np.abs(p[:, 0]) >= mu_target)
        rows.append({"start": (mu0, sigma0), "method": "annealing",
                     "iterations": int((hit[0] + 1) * n_inner) if hit.size else None,
                     "reached": bool(hit.size), "stopped": "target" if hit.size else "schedule end",
                     "near_saddle": iterations_near(p) * n_inner, "seconds": seconds})
    return rows


# --------------------------------------------------------------------------- check helpers
_fail = fail


def _fmt(a) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=6, separator=", ")


def _close(a, b, rtol=RTOL, atol=ATOL) -> bool:
    return close(a, b, rtol, atol)


def _check_signature(func, fname: str, expected: tuple[str, ...]) -> None:
    if not callable(func):
        raise AssertionError(f"{fname} should be a function; got {type(func).__name__}.")
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return
    names = tuple(p.name for p in params)
    if len(names) < len(expected) or any(p.default is p.empty for p in params[len(expected):]):
        raise AssertionError(f"{fname} should take the arguments ({', '.join(expected)}), in that order; "
                             f"yours takes ({', '.join(names)}).")


def _call(func, fname: str, label: str, *args):
    """Call ``func`` with copies of array arguments; fail if it modified one."""
    given = [np.array(a, dtype=float) if isinstance(a, (list, np.ndarray)) else a for a in args]
    pristine = [a.copy() if isinstance(a, np.ndarray) else None for a in given]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            out = func(*given)
    except Exception as exc:
        exc.add_note(f"(raised by {fname} while the check ran the case '{label}')")
        raise
    for a, p in zip(given, pristine):
        if p is not None and not np.array_equal(a, p, equal_nan=True):
            _fail(fname, label, f"{fname} modified an array it was given. Work on a copy.")
    if out is None:
        _fail(fname, label, f"{fname} returned None: did you forget the `return` statement?")
    return out


def _array(out, fname, label, shape, meaning):
    try:
        a = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        _fail(fname, label, f"{fname} should return a numeric array; got {type(out).__name__}.")
    if a.shape != shape:
        _fail(fname, label, f"{fname} returned shape {a.shape}; expected {shape} ({meaning}).")
    return a


def _number(out, fname, label):
    try:
        a = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        _fail(fname, label, f"{fname} should return one number; got {type(out).__name__}.")
    if a.size != 1:
        _fail(fname, label, f"{fname} should return one number (a float); got an array of shape {a.shape}.")
    return float(a.reshape(()))


# --------------------------------------------------------------------------- checks
def check_log_density(log_density) -> None:
    """Check ``log_density(x, mu, sigma) -> (n,)`` on cases you can work out by hand.

    With mu = 0 both components are N(0, sigma^2), so the mixture is that one Gaussian.
    """
    __tracebackhide__ = True
    fname = "log_density"
    _check_signature(log_density, fname, ("x", "mu", "sigma"))

    label = "mu = 0, sigma = 2: both components are N(0, 4), so the mixture is N(0, 4)"
    x = np.array([0.0, 1.0, -3.0])
    out = _array(_call(log_density, fname, label, x, 0.0, 2.0), fname, label, (3,), "one log-density per point")
    want = -math.log(2.0) - HALF_LOG_2PI - x ** 2 / 8.0         # log N(x | 0, 2^2), at x = 0, 1 and -3
    if not _close(out, want):
        hint = ""
        if _close(out, np.exp(want)):
            hint = " You returned the density; return its log."
        elif _close(out, -0.5 * math.log(2.0) - HALF_LOG_2PI - x ** 2 / 4.0):   # N(x | 0, 2): 2 as the variance
            hint = " sigma is the standard deviation, not the variance: the exponent divides by 2 sigma^2."
        elif _close(out, want - math.log(0.5)):
            hint = " Each component has weight 1/2."
        _fail(fname, label, f"got {_fmt(out)}; log N(x | 0, 2^2) is {_fmt(want)}.{hint}")

    label = "symmetry: the mixture is the same for mu and -mu, and p(-x) = p(x)"
    x = np.array([0.3, -1.2, 2.0])
    a = _call(log_density, fname, label, x, 0.7, 0.9)
    b = _call(log_density, fname, label, x, -0.7, 0.9)
    c = _call(log_density, fname, label, -x, 0.7, 0.9)
    if not (_close(a, b) and _close(a, c)):
        _fail(fname, label, f"log_density(x, 0.7, 0.9) = {_fmt(a)}, with -mu {_fmt(b)}, at -x {_fmt(c)}; all three "
                            "should be equal. Did you include both components, at +mu and at -mu?")

    label = "a point 50 standard deviations away (x = 50, mu = 0, sigma = 1)"
    out = _array(_call(log_density, fname, label, np.array([50.0]), 0.0, 1.0), fname, label, (1,), "one point")
    want = -HALF_LOG_2PI - 1250.0                                # log N(50 | 0, 1) = -log(2 pi)/2 - 50^2/2
    if not np.isfinite(out[0]):
        _fail(fname, label, f"got {out[0]}; the log-density is finite, {want:.4f}. Both densities underflow to 0 "
                            "and log(0) = -inf: add the two terms in the log domain (np.logaddexp or "
                            "scipy.special.logsumexp of the log-densities).")
    if not _close(out[0], want):
        _fail(fname, label, f"got {out[0]:.6g}; log N(50 | 0, 1) = -log(2 pi)/2 - 1250 = {want:.4f}.")

    label = "sigma = 0: the Dirac mixture 1/2 delta_0.5 + 1/2 delta_-0.5"
    out = _array(_call(log_density, fname, label, np.array([0.5, -0.5, 0.2]), 0.5, 0.0), fname, label, (3,),
                 "one log-density per point")
    if not (out[0] == np.inf and out[1] == np.inf and out[2] == -np.inf):
        _fail(fname, label, f"got {_fmt(out)}; expected [inf, inf, -inf]: with sigma <= 0 the density is an "
                            "infinite spike at x = +-mu and 0 elsewhere.")
    print("✓ log_density passes the visible checks (shape, mu = 0, symmetry, a far point, sigma = 0).")


def check_ll(ll) -> None:
    """Check ``ll(mu, sigma) -> float``, the log-likelihood of the points +1 and -1."""
    __tracebackhide__ = True
    fname = "ll"
    _check_signature(ll, fname, ("mu", "sigma"))
    for sigma in (1.0, 2.0):
        label = f"mu = 0, sigma = {sigma:g}: ll = 2 log N(1 | 0, sigma^2)"
        v = _number(_call(ll, fname, label, 0.0, sigma), fname, label)
        want = 2.0 * (-math.log(sigma) - HALF_LOG_2PI - 0.5 / sigma ** 2)   # 2 log N(1 | 0, sigma^2)
        if not _close(v, want):
            hint = " ll is the sum over the two points, not the mean." if _close(v, want / 2) else ""
            _fail(fname, label, f"got {v:.6f}; expected {want:.6f}.{hint}")
    label = "symmetry: ll(mu, sigma) = ll(-mu, sigma)"
    a, b = (_number(_call(ll, fname, label, m, 0.7), fname, label) for m in (0.6, -0.6))
    if not _close(a, b):
        _fail(fname, label, f"ll(0.6, 0.7) = {a:.6f} but ll(-0.6, 0.7) = {b:.6f}; swapping the components "
                            "changes nothing.")
    label = "components 50 standard deviations from both points (mu = 0.5, sigma = 0.01)"
    v = _number(_call(ll, fname, label, 0.5, 0.01), fname, label)
    if not np.isfinite(v):
        _fail(fname, label, f"got {v}; ll is finite (about -2500). Add the two components in the log domain.")
    label = "sigma = 0 with the atoms on the points (mu = 1)"
    v = _number(_call(ll, fname, label, 1.0, 0.0), fname, label)
    if v != np.inf:
        _fail(fname, label, f"got {v}; expected inf: spikes on both points give an infinite likelihood.")
    print("✓ ll passes the visible checks (mu = 0, symmetry, far components, sigma = 0).")


def check_grad_ll(grad_ll) -> None:
    """Check ``grad_ll(mu, sigma) -> (2,)`` on facts you can derive by hand: zero at the saddle,
    the derivative of ll(0, sigma) = 2 log N(1 | 0, sigma^2) in sigma, and the parity in mu
    (ll is even in mu, so d ll / d mu is odd and d ll / d sigma even)."""
    __tracebackhide__ = True
    fname = "grad_ll"
    _check_signature(grad_ll, fname, ("mu", "sigma"))
    meaning = "(d ll / d mu, d ll / d sigma)"
    label = "the saddle (0, 1): both derivatives are 0"
    g = _array(_call(grad_ll, fname, label, 0.0, 1.0), fname, label, (2,), meaning)
    if not _close(g, [0.0, 0.0], atol=1e-9):
        _fail(fname, label, f"got {_fmt(g)}; (0, 1) is a critical point, the gradient is (0, 0).")
    label = "mu = 0, sigma = 2: d ll / d mu = 0 (ll is even in mu), d ll / d sigma = 2 (-1/sigma + 1/sigma^3)"
    g = _array(_call(grad_ll, fname, label, 0.0, 2.0), fname, label, (2,), meaning)
    want = np.array([0.0, 2.0 * (-1.0 / 2.0 + 1.0 / 8.0)])
    if not _close(g, want):
        hint = " The order is (d ll / d mu, d ll / d sigma)." if _close(g[::-1], want) else ""
        _fail(fname, label, f"got {_fmt(g)}; expected {_fmt(want)}.{hint}")
    for mu, sigma, sign, why in [(0.3, 0.7, 1.0, "below sigma = 1, mu = 0 is a minimum along mu, so ll rises as mu grows"),
                                 (0.3, 1.5, -1.0, "above sigma = 1, mu = 0 is the maximum along mu, so ll falls as mu grows")]:
        label = f"mu = {mu:g}, sigma = {sigma:g}: the sign of d ll / d mu"
        g = _array(_call(grad_ll, fname, label, mu, sigma), fname, label, (2,), meaning)
        if not np.sign(g[0]) == sign:
            _fail(fname, label, f"got d ll / d mu = {g[0]:.6g}; it should be {'positive' if sign > 0 else 'negative'}: "
                                f"{why} (section 3).")
    # off both axes every term of the chain rule counts (at mu = 0 some vanish): a value worked
    # out once, to 12 digits, from the lab's formulas
    label = "mu = 0.5, sigma = 0.8 (off both axes: no term of the derivative vanishes)"
    g = _array(_call(grad_ll, fname, label, 0.5, 0.8), fname, label, (2,), meaning)
    want = np.array([0.479448712942, -0.169623391177])
    if not _close(g, want):
        which = [name for name, ok in zip(("d ll / d mu", "d ll / d sigma"), np.isclose(g, want, rtol=RTOL, atol=ATOL))
                 if not ok]
        _fail(fname, label, f"got {_fmt(g)}; expected {_fmt(want)}. Wrong: {' and '.join(which)}. Differentiate "
                            "each component's log-density through the chain rule (sigma appears in the "
                            "normalising factor and in the exponent) and weight it by its responsibility.")
    label = "parity: grad_ll(-0.6, 0.8) = (-d ll / d mu, d ll / d sigma) of grad_ll(0.6, 0.8)"
    a = _array(_call(grad_ll, fname, label, 0.6, 0.8), fname, label, (2,), meaning)
    b = _array(_call(grad_ll, fname, label, -0.6, 0.8), fname, label, (2,), meaning)
    if not _close(b, [-a[0], a[1]]):
        _fail(fname, label, f"grad_ll(0.6, 0.8) = {_fmt(a)} but grad_ll(-0.6, 0.8) = {_fmt(b)}.")
    print("✓ grad_ll passes the visible checks (zero at the saddle, mu = 0, signs, parity in mu). "
          "Compare it with finite differences of your ll below.")


def check_hessian_ll(hessian_ll) -> None:
    """Check ``hessian_ll(mu, sigma) -> (2, 2)``: [[0, 0], [0, -4]] at the saddle, symmetry, the
    second derivative of ll(0, sigma) in sigma, and the parity in mu."""
    __tracebackhide__ = True
    fname = "hessian_ll"
    _check_signature(hessian_ll, fname, ("mu", "sigma"))
    meaning = "order (mu, sigma)"
    label = "the saddle (0, 1)"
    H = _array(_call(hessian_ll, fname, label, 0.0, 1.0), fname, label, (2, 2), meaning)
    if not _close(H, [[0.0, 0.0], [0.0, -4.0]], atol=1e-8):
        _fail(fname, label, f"got {_fmt(H)}; at the saddle the Hessian is [[0, 0], [0, -4]].")
    label = "mu = 0, sigma = 2: d2 ll / d sigma2 = 2 (1/sigma^2 - 3/sigma^4), mixed derivative 0"
    H = _array(_call(hessian_ll, fname, label, 0.0, 2.0), fname, label, (2, 2), meaning)
    want = 2.0 * (1.0 / 4.0 - 3.0 / 16.0)
    if not (_close(H[1, 1], want) and _close([H[0, 1], H[1, 0]], [0.0, 0.0])):
        _fail(fname, label, f"got {_fmt(H)}; expected d2 ll / d sigma2 = {want:.6f} and 0 off the diagonal.")
    label = "mu = 0.5, sigma = 0.8 (off both axes: the mixed derivative is not 0)"
    H = _array(_call(hessian_ll, fname, label, 0.5, 0.8), fname, label, (2, 2), meaning)
    want = np.array([[-0.326964773142, -4.696165815927], [-4.696165815927, -1.24198224112]])
    if not _close(H, want):
        hint = (" The mixed derivative d2 ll / d mu d sigma is missing: off the axes it is far from 0."
                if _close(H[[0, 1], [0, 1]], want[[0, 1], [0, 1]]) and _close(H[0, 1], 0.0) else
                " Differentiate your gradient once more, term by term, in mu and in sigma.")
        _fail(fname, label, f"got {_fmt(H)}; expected {_fmt(want)}.{hint}")
    label = "symmetry and parity at mu = +-0.6, sigma = 0.8"
    a = _array(_call(hessian_ll, fname, label, 0.6, 0.8), fname, label, (2, 2), meaning)
    b = _array(_call(hessian_ll, fname, label, -0.6, 0.8), fname, label, (2, 2), meaning)
    if not _close(a, a.T):
        _fail(fname, label, f"got {_fmt(a)}: not symmetric; the two mixed derivatives are the same.")
    if not _close(b, a * np.array([[1.0, -1.0], [-1.0, 1.0]])):
        _fail(fname, label, f"hessian_ll(0.6, 0.8) = {_fmt(a)}, hessian_ll(-0.6, 0.8) = {_fmt(b)}: ll is even in "
                            "mu, so the mixed derivative changes sign and the diagonal does not.")
    print("✓ hessian_ll passes the visible checks ([[0, 0], [0, -4]] at the saddle, mu = 0, symmetry, parity). "
          "Compare it with finite differences of your grad_ll below.")


def finite_differences(value: Callable, derivative: Callable, points, *, h: float = 1e-5) -> None:
    """Print ``derivative(mu, sigma)`` next to central finite differences of ``value`` at each point.

    value, derivative : your (ll, grad_ll) or (grad_ll, hessian_ll)
    points : sequence of (mu, sigma), sigma > h

    Prints one line per point and the largest relative difference; raises nothing (a
    difference here may come from ``value`` as well as from ``derivative``).
    """
    worst = 0.0
    for mu, sigma in points:
        d = np.asarray(derivative(mu, sigma), dtype=float)
        fd = np.stack([(np.asarray(value(mu + h, sigma), float) - np.asarray(value(mu - h, sigma), float)) / (2 * h),
                       (np.asarray(value(mu, sigma + h), float) - np.asarray(value(mu, sigma - h), float)) / (2 * h)],
                      axis=-1)
        rel = float(np.max(np.abs(d - fd)) / max(np.max(np.abs(fd)), 1e-12))
        worst = max(worst, rel)
        print(f"(mu, sigma) = ({mu:+.2f}, {sigma:.2f}): analytic {_fmt(np.round(d, 4)).replace(chr(10), '')}, "
              f"finite differences {_fmt(np.round(fd, 4)).replace(chr(10), '')}")
    verdict = "agree" if worst < 1e-5 else "DISAGREE: check the derivation"
    print(f"largest relative difference below 1e-5: {worst < 1e-5} ({verdict})")


def check_anneal(anneal) -> None:
    """Check ``anneal(mu0, sigmas, n_inner) -> (len(sigmas), 2)``: the contract, the start on the
    line mu = 0, the symmetry mu0 -> -mu0, and one update by hand."""
    __tracebackhide__ = True
    fname = "anneal"
    _check_signature(anneal, fname, ("mu0", "sigmas", "n_inner"))
    sigmas = np.array([2.0, 1.5, 1.0, 0.7, 0.5])
    label = "mu0 = 0.3, sigmas (2, 1.5, 1, 0.7, 0.5), 4 inner updates"
    p = _array(_call(anneal, fname, label, 0.3, sigmas, 4), fname, label, (5, 2),
               "one row (mu, sigma) per sigma of the schedule")
    if not _close(p[:, 1], sigmas, rtol=1e-12, atol=0):
        _fail(fname, label, f"the second column is {_fmt(p[:, 1])}; it should be the schedule {_fmt(sigmas)}: "
                            "row t is (mu, sigmas[t]).")
    q = _array(_call(anneal, fname, label, -0.3, sigmas, 4), fname, label, (5, 2), "one row per sigma")
    if not _close(q[:, 0], -p[:, 0]):
        _fail(fname, label + " and the same from -0.3", f"mu from 0.3: {_fmt(p[:, 0])}; from -0.3: {_fmt(q[:, 0])}. "
                            "The problem is symmetric, so the paths should be mirror images.")
    label = "mu0 = 0 exactly"
    p0 = _array(_call(anneal, fname, label, 0.0, sigmas, 4), fname, label, (5, 2), "one row per sigma")
    if not np.all(p0[:, 0] == 0):
        _fail(fname, label, f"got mu = {_fmt(p0[:, 0])}; mu = 0 is a fixed point of tanh(mu / sigma^2).")
    label = "mu0 = 0.5, one sigma (2), one update: mu = tanh(0.5 / 4)"
    p1 = _array(_call(anneal, fname, label, 0.5, np.array([2.0]), 1), fname, label, (1, 2), "one row")
    if not _close(p1[0, 0], math.tanh(0.125)):
        _fail(fname, label, f"got mu = {p1[0, 0]:.6f}; tanh(0.5 / 2^2) = {math.tanh(0.125):.6f}.")
    label = "mu0 = 0.5, sigmas (2, 0.5), one update each: mu = tanh(0.5 / 4), then tanh(mu / 0.25)"
    p2 = _array(_call(anneal, fname, label, 0.5, np.array([2.0, 0.5]), 1), fname, label, (2, 2), "two rows")
    first = math.tanh(0.125)
    want = np.array([[first, 2.0], [math.tanh(first / 0.25), 0.5]])
    if not _close(p2, want):
        _fail(fname, label, f"got {_fmt(p2)}; expected {_fmt(want)}. The second update uses the second sigma, "
                            "and starts from the mu the first one reached.")
    label = "mu0 = 0.5, one sigma (2), three inner updates: mu = tanh(. / 4) applied three times"
    p3 = _array(_call(anneal, fname, label, 0.5, np.array([2.0]), 3), fname, label, (1, 2), "one row")
    want3 = 0.5
    for _ in range(3):
        want3 = math.tanh(want3 / 4.0)
    if not _close(p3[0, 0], want3):
        _fail(fname, label, f"got mu = {p3[0, 0]:.6f}; three updates give {want3:.6f}. Each sigma of the schedule "
                            "gets n_inner updates of mu before the next sigma.")
    label = "mu0 = 0.5, sigmas (0.5, 2) in that order (a schedule is used as given), one update each"
    p4 = _array(_call(anneal, fname, label, 0.5, np.array([0.5, 2.0]), 1), fname, label, (2, 2), "two rows")
    first = math.tanh(0.5 / 0.25)
    want4 = np.array([[first, 0.5], [math.tanh(first / 4.0), 2.0]])
    if not _close(p4, want4):
        _fail(fname, label, f"got {_fmt(p4)}; expected {_fmt(want4)}: the sigmas are used in the order given, "
                            "never sorted.")
    print("✓ anneal passes the visible checks (shape, schedule column, mu0 = 0, symmetry, two updates by hand).")
