"""Lab 01 (two means): simulated heights, figures, an EM loop and visible checks.

The model of the lab: every person belongs to one of two groups with probability 1/2
each; group 1 has mean height ``mu1``, group 2 mean height ``mu2``, and both groups share
one *known* standard deviation ``sigma``. All heights, means and standard deviations are
in centimetres (cm); log-likelihoods are in nats (natural logarithm).

Shapes (n people)::

    x      (n,)   heights in cm
    z      (n,)   the true group: 1 for group 1, 0 for group 2 (hidden in practice)
    z_hat  (n,)   E(z | x) = P(z = 1 | x): the probability that each person is in group 1

Nothing here computes a density, a responsibility or a log-likelihood:
:func:`run_two_means_em` and :func:`loglik_surface` only call *your* functions. The checks
call your function on a few cases whose answer you can work out by hand (a point halfway
between the means, two equal means, swapped means, 0/1 responsibilities, one point at
the mean of a standard normal, ...) and either print a line starting with ``✓`` or raise
``AssertionError`` explaining in words what is wrong. Passing them is necessary, not
sufficient: the grader also runs your functions on other inputs.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .checking import close, fail, loglik_never_decreases

__all__ = [
    "TRUE_MU1", "TRUE_MU2", "TRUE_SIGMA", "HEIGHT_LABEL", "GROUP_COLOURS",
    "simulate_heights", "TwoMeansHistory", "run_two_means_em", "loglik_surface",
    "plot_heights", "plot_em_run", "plot_surface", "plot_em_path",
    "check_e_step", "check_m_step", "check_incomplete_loglik", "check_monotone",
]

TRUE_MU1 = 164.0    # cm, mean height of group 1 in the simulated experiment
TRUE_MU2 = 178.0    # cm, mean height of group 2
TRUE_SIGMA = 7.0    # cm, the standard deviation shared by both groups
HEIGHT_LABEL = "height (cm)"
GROUP_COLOURS = ("#d62728", "#1f5fbf")   # group 1 red, group 2 blue (as in lab 03)

RTOL = 1e-6
ATOL = 1e-9
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- data
def simulate_heights(n: int = 400, mu1: float = TRUE_MU1, mu2: float = TRUE_MU2, sigma: float = TRUE_SIGMA,
                     seed: int = 0):
    """Simulate the experiment: n people, each in group 1 or 2 with probability 1/2.

    Parameters
    ----------
    n : int
        Number of people.
    mu1, mu2 : float
        Mean height of group 1 and of group 2, in cm.
    sigma : float
        Standard deviation of the heights within each group, in cm (not the variance).
    seed : int
        Seed of ``np.random.default_rng``: the same seed gives the same people.

    Returns
    -------
    x : array of shape (n,)
        Heights in cm.
    z : array of shape (n,), integers
        The true group of each person: 1 for group 1, 0 for group 2.
    """
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < 0.5).astype(int)
    x = np.where(z == 1, mu1, mu2) + sigma * rng.standard_normal(n)
    return x, z


# --------------------------------------------------------------------------- EM loop
@dataclass
class TwoMeansHistory:
    """Everything an EM run visited; index ``t`` is "after t iterations" (t = 0: the start).

    Attributes
    ----------
    mu1, mu2 : lists of float
        The estimates of the two means after 0, 1, ..., n_iter iterations, in cm.
    loglik : list of float
        The incomplete log-likelihood of those estimates, in nats.
    z_hat : list of arrays of shape (n,)
        ``z_hat[t]`` = e_step(x, mu1[t], mu2[t], sigma), the responsibilities that the
        next M step uses.
    n_iter : int
        Number of iterations done (every list has n_iter + 1 entries).
    stopped_by_tol : bool
        True if the run stopped because the log-likelihood rose by less than ``tol``.
    """

    mu1: list = field(default_factory=list)
    mu2: list = field(default_factory=list)
    loglik: list = field(default_factory=list)
    z_hat: list = field(default_factory=list)
    n_iter: int = 0
    stopped_by_tol: bool = False

    def __repr__(self) -> str:
        if not self.loglik:
            return "TwoMeansHistory(empty)"
        return (f"TwoMeansHistory(n_iter={self.n_iter}, mu1 {self.mu1[-1]:.2f} cm, mu2 {self.mu2[-1]:.2f} cm, "
                f"loglik {self.loglik[0]:.3f} -> {self.loglik[-1]:.3f})")


def _z_hat_of(value, n: int) -> np.ndarray:
    arr = np.array(value, dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"e_step returned an array of shape {arr.shape}; expected ({n},), one probability per "
                         "person. Run check_e_step(e_step) to find out more.")
    return arr


def _means_of(value) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError("m_step should return a tuple (mu1, mu2) of two numbers. Run check_m_step(m_step).")
    return float(np.asarray(value[0], dtype=float).reshape(())), float(np.asarray(value[1], dtype=float).reshape(()))


def run_two_means_em(x, mu1: float, mu2: float, sigma: float, e_step: Callable, m_step: Callable,
                     incomplete_loglik: Callable, max_iter: int = 100, tol: float | None = None) -> TwoMeansHistory:
    """Run EM for the two-means model with the functions you wrote.

    Each iteration is::

        z_hat = e_step(x, mu1, mu2, sigma)          # (n,): P(z = 1 | x_i)
        mu1, mu2 = m_step(x, z_hat)                  # two floats, cm
        l = incomplete_loglik(x, mu1, mu2, sigma)    # float, nats

    Parameters
    ----------
    x : array of shape (n,)
        Heights in cm.
    mu1, mu2 : float
        Starting means in cm.
    sigma : float
        The known shared standard deviation in cm (kept fixed).
    e_step, m_step, incomplete_loglik : callables
        Your functions.
    max_iter : int
        The most iterations.
    tol : float or None
        Stop after the first iteration that raises the log-likelihood by less than
        ``tol`` nats. None: run ``max_iter`` iterations.

    Returns
    -------
    TwoMeansHistory
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x should have shape (n,); got {x.shape}.")
    n = x.shape[0]
    hist = TwoMeansHistory()

    def record(m1, m2):
        hist.mu1.append(m1)
        hist.mu2.append(m2)
        hist.loglik.append(float(np.asarray(incomplete_loglik(x.copy(), m1, m2, sigma), dtype=float).reshape(())))

    mu1, mu2 = float(mu1), float(mu2)
    record(mu1, mu2)
    for _ in range(max_iter):
        with np.errstate(over="ignore"):   # exp overflowing to inf in 1 / (1 + exp(-a)) is harmless
            z_hat = _z_hat_of(e_step(x.copy(), mu1, mu2, sigma), n)
        hist.z_hat.append(z_hat)
        mu1, mu2 = _means_of(m_step(x.copy(), z_hat.copy()))
        record(mu1, mu2)
        hist.n_iter += 1
        if tol is not None and hist.loglik[-1] - hist.loglik[-2] < tol:
            hist.stopped_by_tol = True
            break
    with np.errstate(over="ignore"):
        hist.z_hat.append(_z_hat_of(e_step(x.copy(), mu1, mu2, sigma), n))
    return hist


def loglik_surface(x, sigma: float, incomplete_loglik: Callable, mu1_grid, mu2_grid) -> np.ndarray:
    """Your incomplete log-likelihood on a grid of (mu1, mu2), for a contour plot.

    Parameters
    ----------
    x : array of shape (n,)
        Heights in cm.
    sigma : float
        Known standard deviation in cm.
    incomplete_loglik : callable
        Your function ``incomplete_loglik(x, mu1, mu2, sigma)``.
    mu1_grid, mu2_grid : arrays of shapes (a,) and (b,)
        Values of mu1 and mu2 in cm.

    Returns
    -------
    array of shape (b, a): entry [j, i] is the log-likelihood at (mu1_grid[i], mu2_grid[j]),
    in nats (the layout ``ax.contour(mu1_grid, mu2_grid, L)`` expects).
    """
    x = np.asarray(x, dtype=float)
    a, b = np.asarray(mu1_grid, dtype=float), np.asarray(mu2_grid, dtype=float)
    return np.array([[float(incomplete_loglik(x, m1, m2, sigma)) for m1 in a] for m2 in b])


# --------------------------------------------------------------------------- figures
def plot_heights(ax, x, z=None, *, bins=None, title: str | None = None, legend: bool = True):
    """Histogram of heights: by group when ``z`` is given, else one grey histogram.

    Parameters
    ----------
    ax : matplotlib Axes
    x : array of shape (n,)
        Heights in cm.
    z : array of shape (n,), optional
        1 for group 1, 0 for group 2. Each group is drawn in its colour, the two
        histograms stacked, so together they make the histogram of all the heights.
    bins : int or sequence, optional
        Histogram bins (default: 2 cm wide).
    title : str, optional
    legend : bool
        Name the groups.

    Returns
    -------
    ax
    """
    x = np.asarray(x, dtype=float)
    if bins is None:
        bins = np.arange(np.floor(x.min() / 2) * 2, np.ceil(x.max() / 2) * 2 + 2, 2.0)
    if z is None:
        ax.hist(x, bins=bins, color="0.6", edgecolor="white", label=f"all {len(x)} people")
    else:
        z = np.asarray(z)
        ax.hist([x[z == 1], x[z == 0]], bins=bins, stacked=True, color=list(GROUP_COLOURS), edgecolor="white",
                label=[f"group 1 ({int(np.sum(z == 1))} people)", f"group 2 ({int(np.sum(z == 0))} people)"])
    ax.set_xlabel(HEIGHT_LABEL)
    ax.set_ylabel("number of people per 2 cm")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper right")
    return ax


def plot_em_run(ax_means, ax_loglik, hist: TwoMeansHistory, true_means=None):
    """Two panels of an EM run: both mean estimates, and the log-likelihood, per iteration.

    Parameters
    ----------
    ax_means, ax_loglik : matplotlib Axes
    hist : TwoMeansHistory
    true_means : (mu1, mu2) in cm, optional
        Drawn as dashed horizontal lines.
    """
    t = np.arange(hist.n_iter + 1)
    for k, (est, name) in enumerate([(hist.mu1, r"$\mu_1$"), (hist.mu2, r"$\mu_2$")]):
        ax_means.plot(t, est, "o-", markersize=3.5, color=GROUP_COLOURS[k], label=f"estimate of {name}")
        if true_means is not None:
            ax_means.axhline(true_means[k], color=GROUP_COLOURS[k], linestyle="--", linewidth=1,
                             label=f"true {name} = {true_means[k]:g} cm")
    ax_means.set(xlabel="iteration t (0 = the start)", ylabel="mean height (cm)", title="the two means")
    ax_means.legend(loc="best")
    ax_means.grid(True, alpha=0.3)
    ax_loglik.plot(t, hist.loglik, "o-", markersize=3.5, color="0.2")
    ax_loglik.set(xlabel="iteration t (0 = the start)", ylabel=r"log-likelihood $\ell(\mu_1, \mu_2)$ (nats)",
                  title="incomplete log-likelihood")
    ax_loglik.grid(True, alpha=0.3)


def plot_surface(ax, mu1_grid, mu2_grid, L, *, levels: int = 25, below_max: float = 120.0):
    """Contours of a log-likelihood surface over (mu1, mu2), the diagonal mu1 = mu2 dotted.

    Parameters
    ----------
    ax : matplotlib Axes
    mu1_grid, mu2_grid : arrays of shapes (a,), (b,), in cm
    L : array of shape (b, a)
        From :func:`loglik_surface`, in nats.
    levels : int
        Number of filled contour levels.
    below_max : float
        Show only the top ``below_max`` nats (lower values share the darkest colour).

    Returns
    -------
    the filled contour set (for a colour bar)
    """
    L = np.asarray(L, dtype=float)
    top = float(L.max())
    cs = ax.contourf(mu1_grid, mu2_grid, np.maximum(L, top - below_max), levels=levels, cmap="viridis")
    ax.contour(mu1_grid, mu2_grid, np.maximum(L, top - below_max), levels=levels, colors="white",
               linewidths=0.3, alpha=0.5)
    lo = max(min(mu1_grid), min(mu2_grid))
    hi = min(max(mu1_grid), max(mu2_grid))
    ax.plot([lo, hi], [lo, hi], ":", color="white", linewidth=1.5)
    ax.set(xlabel=r"$\mu_1$ (cm)", ylabel=r"$\mu_2$ (cm)", aspect="equal")
    return cs


def plot_em_path(ax, hist: TwoMeansHistory, colour="white", label: str | None = None):
    """Draw the path (mu1_t, mu2_t) of an EM run: start as a square, end as a star."""
    ax.plot(hist.mu1, hist.mu2, "-o", color=colour, markersize=3, linewidth=1.5, label=label)
    ax.plot(hist.mu1[0], hist.mu2[0], "s", color=colour, markersize=8, markeredgecolor="black")
    ax.plot(hist.mu1[-1], hist.mu2[-1], "*", color=colour, markersize=15, markeredgecolor="black")


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
    if names[: len(expected)] != expected or any(p.default is p.empty for p in params[len(expected):]):
        raise AssertionError(
            f"{fname} should take the arguments ({', '.join(expected)}), in that order; yours takes "
            f"({', '.join(names)}).")


def _call(func, fname: str, label: str, args: dict):
    """Call ``func`` with copies of ``args``; fail if it modified an array it was given."""
    given = {k: (np.array(v, dtype=float) if isinstance(v, (list, np.ndarray)) else v) for k, v in args.items()}
    pristine = {k: v.copy() for k, v in given.items() if isinstance(v, np.ndarray)}
    try:
        # numpy's overflow warnings (exp of a huge number is inf, and 1 / (1 + inf) = 0 is right) go to
        # stderr, which nbgrader reads as a failed test: silence them while your function runs.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            out = func(**given)
    except Exception as exc:
        exc.add_note(f"(raised by {fname} while the check ran the case '{label}')")
        raise
    for name, value in pristine.items():
        if not np.array_equal(given[name], value, equal_nan=True):
            _fail(fname, label, f"{fname} modified its argument {name!r}. Work on a copy, or avoid in-place "
                                f"operations such as {name} -= ... or {name}[...] = ....")
    return out


# --------------------------------------------------------------------------- e_step
def check_e_step(e_step) -> None:
    """Check ``e_step(x, mu1, mu2, sigma) -> z_hat`` on cases you can work out by hand.

    ``x`` (n,) heights in cm; ``mu1``, ``mu2``, ``sigma`` floats in cm; ``z_hat`` (n,) with
    ``z_hat[i] = P(z_i = 1 | x_i)``, the probability that person i is in group 1 (mean
    mu1). Raises AssertionError explaining the first problem; prints a ``✓`` line otherwise.
    """
    __tracebackhide__ = True
    fname = "e_step"
    _check_signature(e_step, fname, ("x", "mu1", "mu2", "sigma"))

    def run(label, x, mu1, mu2, sigma):
        x = np.asarray(x, dtype=float)
        out = _call(e_step, fname, label, {"x": x, "mu1": mu1, "mu2": mu2, "sigma": sigma})
        if out is None:
            _fail(fname, label, "e_step returned None: did you forget the `return` statement?")
        try:
            p = np.asarray(out, dtype=float)
        except (TypeError, ValueError):
            _fail(fname, label, f"e_step should return a numeric array; got {type(out).__name__}.")
        if p.shape != x.shape:
            extra = ""
            if p.ndim == 2 and p.shape[0] == x.shape[0] and p.shape[1] == 2:
                extra = (" It looks like one column per group: return only P(z = 1 | x), the probability of "
                         "group 1 (the other is 1 minus it).")
            elif p.size == x.size:
                extra = " Right number of entries, wrong shape: return a flat array of shape (n,)."
            _fail(fname, label, f"the result has shape {p.shape}; expected {x.shape}, one probability per "
                                f"person.{extra}")
        if not np.all(np.isfinite(p)):
            _fail(fname, label, (
                f"the result contains NaN or infinite values: {_fmt(p)}. When a height is far from both "
                "means, both Gaussian densities underflow to 0 and 0/0 is NaN. Work with the log-densities: "
                "the ratio of the two densities is exp of the difference of their logs, and that difference "
                "is a finite number."))
        if np.any(p < -ATOL) or np.any(p > 1 + ATOL):
            _fail(fname, label, f"the results should be probabilities, between 0 and 1; got {_fmt(p)}.")
        return p

    # 1. Halfway between the means: equally likely under both groups.
    label = "heights 164, 171 and 178 cm with mu1 = 164, mu2 = 178, sigma = 7"
    p = run(label, [164.0, 171.0, 178.0], 164.0, 178.0, 7.0)
    if not _close(p[1], 0.5):
        _fail(fname, label, (
            "171 cm is exactly halfway between the means, so both groups explain it equally well and, with "
            f"equal weights 1/2, P(z = 1 | x) = 1/2; got {p[1]:.6f}. Check that both densities use the same "
            "sigma and that the two groups get the same weight."))
    if p[0] < 0.5 and p[2] > 0.5:
        _fail(fname, label, (
            f"164 cm (the mean of group 1) gets P = {p[0]:.4f} and 178 cm gets {p[2]:.4f}: the groups are the "
            "wrong way round. Return P(z = 1 | x), the probability of group 1, the group with mean mu1."))
    if not (p[0] > 0.5 > p[2]):
        _fail(fname, label, f"a height at mu1 should be more likely in group 1 (P > 1/2) and one at mu2 less "
                            f"likely (P < 1/2); got {_fmt(p)}.")

    # 2. A value worked out by hand: x at mu1, mu2 two standard deviations away.
    label = "x = 170 cm with mu1 = 170, mu2 = 176, sigma = 3 (mu2 is 2 sigma away)"
    p = run(label, [170.0], 170.0, 176.0, 3.0)
    want = 1.0 / (1.0 + math.exp(-2.0))
    if not _close(p, [want]):
        if _close(p, [1.0 / (1.0 + math.exp(-4.0))]):
            hint = "you get 1 / (1 + exp(-4)): the exponent is missing its factor 1/2."
        elif _close(p, [1.0 / (1.0 + math.exp(-6.0))]):
            hint = "you get 1 / (1 + exp(-6)): sigma is used as the variance; square it."
        elif _close(p, [1.0 / (1.0 + math.exp(-2.0 / 3.0))]) or _close(p, [1.0 / (1.0 + math.exp(-1.0 / 3.0))]):
            hint = "the distance is divided by sigma only once: the exponent is -(x - mu)^2 / (2 sigma^2)."
        else:
            hint = f"got {p[0]:.6f}."
        _fail(fname, label, (
            "at x = mu1 the density of group 1 is 1 / (sqrt(2 pi) sigma); x is 2 sigma from mu2, so the density of "
            "group 2 is that times exp(-2^2 / 2) = exp(-2). Bayes' rule with weights 1/2 gives "
            f"P = 1 / (1 + exp(-2)) = {want:.6f}; " + hint))

    # 3. Equal means: the data say nothing, the posterior is the prior 1/2.
    label = "equal means mu1 = mu2 = 170 cm, sigma = 7, five heights"
    xs = np.array([150.0, 163.5, 170.0, 181.0, 199.0])
    p = run(label, xs, 170.0, 170.0, 7.0)
    if not _close(p, np.full(5, 0.5)):
        _fail(fname, label, f"when mu1 = mu2 both groups are the same Gaussian, so every P(z = 1 | x) is the "
                            f"prior 1/2; got {_fmt(p)}.")

    # 4. Swapping the means swaps the groups: P becomes 1 - P.
    label = "the same five heights with (mu1, mu2) = (160, 175) and then swapped to (175, 160), sigma = 6"
    p = run(label, xs, 160.0, 175.0, 6.0)
    q = run(label, xs, 175.0, 160.0, 6.0)
    if not _close(p + q, np.ones(5)):
        _fail(fname, label, (
            "swapping mu1 and mu2 swaps the roles of the groups, so the probability of group 1 becomes the "
            f"old probability of group 2, 1 - P. Got P = {_fmt(p)} and after the swap {_fmt(q)}."))

    # 5. Far from both means: the densities underflow, their ratio does not.
    label = "heights 1000 cm and -800 cm, mu1 = 164, mu2 = 178, sigma = 7"
    p = run(label, [1000.0, -800.0], 164.0, 178.0, 7.0)
    if not _close(p, [0.0, 1.0], atol=1e-12):
        _fail(fname, label, (
            "1000 cm is about 120 standard deviations from both means, so both densities are below the smallest "
            "float; but 1000 cm is nearer mu2, so P(z = 1 | x) = 0 there, and -800 cm is nearer mu1, so P = 1. "
            f"Got {_fmt(p)}. Compute the difference of the log-densities (a finite number) and turn it into a "
            "probability without exponentiating the densities themselves."))

    # 6. Many people, an unusual sigma: only the shape and the symmetry.
    label = "200 heights, mu1 = 181, mu2 = 159, sigma = 12.5"
    xr = np.linspace(120.0, 220.0, 200)
    p = run(label, xr, 181.0, 159.0, 12.5)
    if not _close(p, 1.0 - p[::-1]):
        _fail(fname, label, "the heights are symmetric around 170 cm, halfway between the means, so the heights "
                            "170 + d and 170 - d should get P and 1 - P; they do not.")
    if not np.all(np.diff(p) >= -ATOL):
        _fail(fname, label, "with mu1 above mu2, P(z = 1 | x) should grow with the height x; it does not.")

    print("✓ e_step looks right: shape (n,), 1/2 halfway and for equal means, 1 - P when the means swap, "
          "a value by hand, heights far from both means, inputs untouched.")


# --------------------------------------------------------------------------- m_step
def check_m_step(m_step) -> None:
    """Check ``m_step(x, z_hat) -> (mu1, mu2)`` on cases you can work out by hand.

    ``x`` (n,) heights in cm; ``z_hat`` (n,) probabilities of group 1. Returns the
    weighted means in cm: mu1 weights each height by z_hat, mu2 by 1 - z_hat. Raises
    AssertionError explaining the first problem; prints a ``✓`` line otherwise.
    """
    __tracebackhide__ = True
    fname = "m_step"
    _check_signature(m_step, fname, ("x", "z_hat"))

    def run(label, x, z_hat):
        out = _call(m_step, fname, label, {"x": x, "z_hat": z_hat})
        if out is None:
            _fail(fname, label, "m_step returned None: did you forget the `return` statement?")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            _fail(fname, label, f"m_step should return a tuple (mu1, mu2) of two numbers; got {type(out).__name__}"
                                + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "") + ".")
        values = []
        for name, v in zip(("mu1", "mu2"), out):
            arr = np.asarray(v, dtype=float)
            if arr.size != 1:
                _fail(fname, label, f"{name} should be one number; got an array of shape {arr.shape}. "
                                    "Sum over the people.")
            values.append(float(arr.reshape(())))
        if not all(math.isfinite(v) for v in values):
            _fail(fname, label, (
                f"got ({values[0]}, {values[1]}): a NaN or infinite mean, which is 0 / 0, a group whose total "
                "weight is 0. Use z_hat itself as the weights (do not round it to 0 or 1): mu1 = sum(z_hat x) / "
                "sum(z_hat), mu2 = sum((1 - z_hat) x) / sum(1 - z_hat)."))
        return values

    # 1. Hard 0/1 responsibilities: the group means.
    label = "0/1 responsibilities: heights 160, 162, 170 (group 1) and 175, 185 (group 2)"
    x = np.array([160.0, 175.0, 162.0, 185.0, 170.0])
    z = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    m1, m2 = run(label, x, z)
    if not _close([m1, m2], [164.0, 180.0]):
        if _close([m1, m2], [180.0, 164.0]):
            hint = "you have them the wrong way round: mu1 belongs to z_hat = 1, mu2 to 1 - z_hat."
        elif _close([m1, m2], [492.0 / 5, 360.0 / 5]):
            hint = "the sums are divided by n = 5; divide by the total weight of each group, 3 and 2."
        elif _close([m1, m2], [164.0, 170.4]) or _close(m2, x.mean()):
            hint = "mu2 should weight each height by 1 - z_hat, not use all the heights."
        else:
            hint = f"got ({m1:.4f}, {m2:.4f})."
        _fail(fname, label, "when z_hat is 0 or 1, mu1 is the plain mean of the heights with z_hat = 1, "
                            "(160 + 162 + 170) / 3 = 164, and mu2 the mean of the others, (175 + 185) / 2 = 180; "
                            + hint)

    # 2. Everyone shared half and half: both means are the mean of all the heights.
    label = "z_hat = 1/2 for everyone"
    x = np.array([151.0, 166.0, 172.5, 180.0, 193.0, 169.0])
    m1, m2 = run(label, x, np.full(6, 0.5))
    if not _close([m1, m2], [x.mean(), x.mean()]):
        _fail(fname, label, f"with every weight 1/2 both weighted means are the plain mean {x.mean():.4f} cm; "
                            f"got ({m1:.4f}, {m2:.4f}).")

    # 3. Soft weights: identities that hold for any z_hat.
    label = "soft responsibilities, 8 heights"
    x = np.array([158.0, 171.0, 165.5, 183.0, 176.0, 149.0, 190.5, 168.0])
    z = np.array([0.9, 0.3, 0.75, 0.05, 0.2, 0.99, 0.01, 0.6])
    m1, m2 = run(label, x, z)
    n1, n2 = z.sum(), (1 - z).sum()
    if not math.isclose(n1 * m1 + n2 * m2, x.sum(), rel_tol=1e-9):
        _fail(fname, label, (
            "the weights of the two groups add up to 1 for every person, so N1 mu1 + N2 mu2 (N1 = sum of z_hat, "
            f"N2 = sum of 1 - z_hat) must equal the sum of all the heights, {x.sum():.4f}; got "
            f"{n1 * m1 + n2 * m2:.4f}. Check mu1 = sum(z_hat x) / sum(z_hat) and mu2 = sum((1 - z_hat) x) / "
            "sum(1 - z_hat)."))
    if not (x.min() <= m1 <= x.max() and x.min() <= m2 <= x.max()):
        _fail(fname, label, f"a weighted mean lies between the smallest and the largest height; got ({m1:.4f}, "
                            f"{m2:.4f}). Divide by the sum of the weights.")
    if not m1 < m2:
        _fail(fname, label, "the short people carry most of the weight z_hat, so mu1 should be below mu2; got "
                            f"({m1:.4f}, {m2:.4f}).")
    # Changing the weight of one person moves only towards that person.
    z2 = z.copy()
    z2[5] = 0.0
    m1b, m2b = run(label + ", with the 149 cm person moved to group 2", x, z2)
    if not (m1b > m1 and m2b < m2):
        _fail(fname, label, "moving the shortest person (149 cm) from group 1 to group 2 should raise mu1 and "
                            f"lower mu2; got mu1 {m1:.4f} -> {m1b:.4f}, mu2 {m2:.4f} -> {m2b:.4f}.")

    print("✓ m_step looks right: 0/1 weights give the group means, weights 1/2 the overall mean, the weighted "
          "means add up, inputs untouched.")


# --------------------------------------------------------------------------- incomplete_loglik
def check_incomplete_loglik(incomplete_loglik) -> None:
    """Check ``incomplete_loglik(x, mu1, mu2, sigma) -> float`` on cases you can work out by hand.

    The result is sum_i log(1/2 N(x_i | mu1, sigma^2) + 1/2 N(x_i | mu2, sigma^2)), in nats,
    with x (n,), mu1, mu2 and sigma in cm. Raises AssertionError explaining the first
    problem; prints a ``✓`` line otherwise.
    """
    __tracebackhide__ = True
    fname = "incomplete_loglik"
    _check_signature(incomplete_loglik, fname, ("x", "mu1", "mu2", "sigma"))

    def run(label, x, mu1, mu2, sigma):
        x = np.asarray(x, dtype=float)
        out = _call(incomplete_loglik, fname, label, {"x": x, "mu1": mu1, "mu2": mu2, "sigma": sigma})
        if out is None:
            _fail(fname, label, "incomplete_loglik returned None: did you forget the `return` statement?")
        arr = np.asarray(out, dtype=float)
        if arr.size != 1:
            _fail(fname, label, f"the result should be one number (the sum over all {x.size} people); got an "
                                f"array of shape {arr.shape}.")
        value = float(arr.reshape(()))
        if not math.isfinite(value):
            _fail(fname, label, (
                f"got {value}. Far from both means both densities underflow to 0 and log(0) = -inf: combine the "
                "two log-densities with the log-sum-exp trick (np.logaddexp or scipy.special.logsumexp) instead "
                "of taking the log of a sum of densities."))
        return value, x.size

    def expect(label, value, want, n, hint=""):
        if _close(value, want, rtol=1e-9, atol=1e-9):
            return
        known = [(want / n, "It looks like the mean over the people; the log-likelihood is the sum."),
                 (-want, "It has the wrong sign: return log p(x), not -log p(x)."),
                 (math.exp(want) if want > -700 else None, "It looks like the likelihood itself; take its log.")]
        hint = next((h for v, h in known if v is not None and n > 1 and _close(value, v)), hint) \
            if n > 1 else next((h for v, h in known[1:] if v is not None and _close(value, v)), hint)
        _fail(fname, label, f"expected {want:.6f}, got {value:.6f}. {hint}".rstrip())

    # 1. One point at the mean of a standard normal.
    label = "one point x = 0 with mu1 = mu2 = 0, sigma = 1"
    value, n = run(label, [0.0], 0.0, 0.0, 1.0)
    expect(label, value, -HALF_LOG_2PI, n,
           "both groups are N(0, 1), whose density at 0 is 1 / sqrt(2 pi); half of it plus half of it is "
           "1 / sqrt(2 pi), so the answer is -log(sqrt(2 pi)) = -0.918939.")

    # 2. Equal means: one Gaussian, summed over people; sigma is a standard deviation.
    label = "heights 160, 170 and 180 cm with mu1 = mu2 = 170, sigma = 10"
    value, n = run(label, [160.0, 170.0, 180.0], 170.0, 170.0, 10.0)
    want = -3 * (HALF_LOG_2PI + math.log(10.0)) - (1.0 + 0.0 + 1.0) / 2
    if _close(value, -3 * HALF_LOG_2PI - 1.0):
        _fail(fname, label, f"expected {want:.6f}, got {value:.6f}: the term -log(sigma) of each log-density "
                            "(from the 1 / sigma in front of the Gaussian) is missing.")
    if _close(value, -3 * (HALF_LOG_2PI + 0.5 * math.log(10.0)) - 200.0 / 20.0):
        _fail(fname, label, f"expected {want:.6f}, got {value:.6f}: sigma is used as the variance. sigma is the "
                            "standard deviation; the variance is sigma^2.")
    expect(label, value, want, n,
           "with mu1 = mu2 the mixture is one Gaussian: each height contributes -log(sqrt(2 pi) sigma) - "
           "(x - mu)^2 / (2 sigma^2), here -log(sqrt(2 pi) 10) - 1/2, -log(sqrt(2 pi) 10) and "
           "-log(sqrt(2 pi) 10) - 1/2.")

    # 3. The weights 1/2 matter: a point at mu1 with mu2 far away.
    label = "one point x = 0 with mu1 = 0, mu2 = 1000, sigma = 1"
    value, n = run(label, [0.0], 0.0, 1000.0, 1.0)
    want = -math.log(2.0) - HALF_LOG_2PI
    if _close(value, -HALF_LOG_2PI):
        _fail(fname, label, "you get -log(sqrt(2 pi)): the weight 1/2 of each group is missing. The likelihood is "
                            "1/2 / sqrt(2 pi) + (almost nothing), so the answer is -log 2 - log(sqrt(2 pi)).")
    if value < -1000:
        _fail(fname, label, f"got {value:.4f}: the log seems to be inside the sum over the groups. The "
                            "log-likelihood is the log OF the sum: log(1/2 N(x | mu1) + 1/2 N(x | mu2)).")
    expect(label, value, want, n, "the group at 1000 cm adds almost nothing, so the answer is log(1/2 N(0 | 0, 1)).")

    # 4. Symmetry: swapping the means changes nothing.
    label = "heights 150, 165, 172 and 190 cm with (mu1, mu2) = (160, 180) and swapped, sigma = 8"
    xs = [150.0, 165.0, 172.0, 190.0]
    a, _ = run(label, xs, 160.0, 180.0, 8.0)
    b, _ = run(label, xs, 180.0, 160.0, 8.0)
    if not _close(a, b):
        _fail(fname, label, f"both groups have weight 1/2, so swapping mu1 and mu2 cannot change the likelihood; "
                            f"got {a:.6f} and {b:.6f}.")

    # 5. A point far from both means.
    label = "one point x = 1000 with mu1 = 0, mu2 = 1, sigma = 1"
    value, n = run(label, [1000.0], 0.0, 1.0, 1.0)
    expect(label, value, -math.log(2.0) - HALF_LOG_2PI - 999.0 ** 2 / 2 + math.log1p(math.exp(-999.5)), n,
           "the group at mu2 = 1 dominates: the answer is log(1/2) - log(sqrt(2 pi)) - 999^2 / 2.")

    print("✓ incomplete_loglik looks right: one number, the sum over people, sigma a standard deviation, the "
          "weights 1/2 inside the log, a point far from both means, inputs untouched.")


# --------------------------------------------------------------------------- monotone
def check_monotone(history, rtol: float = 1e-9) -> None:
    """Check that the log-likelihood never went down during an EM run; print a ``✓`` line.

    history : TwoMeansHistory (from :func:`run_two_means_em`), or a sequence of float: the log-likelihoods after 0, 1, 2, ...
        iterations, in nats
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the iteration where l decreased and by how much.
    """
    __tracebackhide__ = True
    loglik_never_decreases(history, rtol, runner="run_two_means_em",
                           nonfinite=(": use the log-sum-exp trick in incomplete_loglik."),
                           decrease=("EM never decreases it, so e_step, m_step and incomplete_loglik disagree: check that "
                                    "e_step returns the probability of group 1 (mean mu1), that m_step weights mu2 by 1 - "
                                    "z_hat, and that incomplete_loglik uses the same density and the weights 1/2."))
