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

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .checking import loglik_never_decreases
from .specs.lab01 import SPECS

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


# --------------------------------------------------------------------------- visible checks (emlab/specs/lab01.py)
check_e_step = SPECS["e_step"].checker()
check_m_step = SPECS["m_step"].checker()
check_incomplete_loglik = SPECS["incomplete_loglik"].checker()


# --------------------------------------------------------------------------- monotone
def check_monotone(history, *more, rtol: float = 1e-9) -> None:
    """Check that the log-likelihood never went down during an EM run; print a ``✓`` line.

    history : TwoMeansHistory (from :func:`run_two_means_em`), or a sequence of float: the log-likelihoods after 0, 1, 2, ...
        iterations, in nats
    more : further runs' histories, each checked the same way (one ✓ line for them all)
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the iteration where l decreased and by how much.
    """
    __tracebackhide__ = True
    loglik_never_decreases(history, rtol, more=more, runner="run_two_means_em",
                           nonfinite=(": use the log-sum-exp trick in incomplete_loglik."),
                           decrease=("EM never decreases it, so e_step, m_step and incomplete_loglik disagree: check that "
                                    "e_step returns the probability of group 1 (mean mu1), that m_step weights mu2 by 1 - "
                                    "z_hat, and that incomplete_loglik uses the same density and the weights 1/2."))
