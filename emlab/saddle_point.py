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

The checks (``check_<name>``, built from the cases of ``emlab/specs/lab04.py``) call your
function on cases whose answer you can work out by hand (mu = 0, where both components
coincide; a point far away; sigma = 0; symmetry in mu; the saddle; one annealing update by
hand) and either print a line starting with ``✓`` or raise ``AssertionError`` explaining what
is wrong. :func:`finite_differences` compares your derivatives with finite differences of
*your* ll and grad_ll, and only prints. Passing the checks is necessary, not sufficient: the
grader also runs your functions on other inputs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .specs.lab04 import SPECS
from .checking import loglik_never_decreases
from .visible import fmt

__all__ = [
    "DATA", "SADDLE", "DIRAC_OPTIMA", "MU_TARGET", "OptimiserPath",
    "em_path", "gradient_ascent", "alternating_path", "iterations_near",
    "grid_values", "gradient_field",
    "plot_surface3d", "plot_contour", "plot_field", "plot_path", "mark_critical_points",
    "optimiser_race",
    "check_log_density", "check_ll", "check_grad_ll", "check_hessian_ll", "check_anneal", "finite_differences", "check_monotone",
]

DATA = np.array([1.0, -1.0])           # the two data points
SADDLE = (0.0, 1.0)                    # (mu, sigma) of the saddle
DIRAC_OPTIMA = ((1.0, 0.0), (-1.0, 0.0))   # where ll -> +inf: each component a spike on a point
MU_TARGET = 0.95                       # |mu| >= MU_TARGET counts as "arrived" at the optimum
MU_LABEL = "μ (mean of the + component)"
SIGMA_LABEL = "σ (standard deviation)"
PATH_COLOURS = {"gradient ascent": "#1f5fbf", "EM": "#d62728", "annealing": "#2ca02c",
                "alternating": "#ff7f0e"}


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


# --------------------------------------------------------------------------- checks
check_log_density = SPECS["log_density"].checker()
check_ll = SPECS["ll"].checker()
check_grad_ll = SPECS["grad_ll"].checker()
check_hessian_ll = SPECS["hessian_ll"].checker()
check_anneal = SPECS["anneal"].checker()


def check_monotone(path: OptimiserPath, *more: OptimiserPath, ll: Callable, rtol: float = 1e-9) -> None:
    """Check that the log-likelihood never went down along EM's path (or several paths); print a
    ``✓`` line.

    path, more : OptimiserPath from :func:`em_path` or :func:`alternating_path` (both climb l at
        every step; gradient ascent with a fixed step need not)
    ll : your ``ll(mu, sigma)``, evaluated at every point of each path
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the path and the iteration where l decreased.
    """
    __tracebackhide__ = True
    values = [[float(ll(m, s)) for m, s in np.asarray(p.points, dtype=float)] for p in (path, *more)]
    loglik_never_decreases(values[0], rtol, more=values[1:], runner="em_path",
                           nonfinite=": a point of the path has sigma <= 0 or ll overflowed; check ll.",
                           decrease=("EM and the one-dimensional maximisations climb l at every step, so a decrease "
                                     "means ll and grad_ll disagree (em_path steps through your gradient): check "
                                     "grad_ll against finite differences of ll."))


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
        print(f"(mu, sigma) = ({mu:+.2f}, {sigma:.2f}): analytic {fmt(np.round(d, 4)).replace(chr(10), '')}, "
              f"finite differences {fmt(np.round(fd, 4)).replace(chr(10), '')}")
    verdict = "agree" if worst < 1e-5 else "DISAGREE: check the derivation"
    print(f"largest relative difference below 1e-5: {worst < 1e-5} ({verdict})")
