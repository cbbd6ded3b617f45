"""Lab 02 (the lower bound): simulated data, an EM loop, the bound's curves, figures and
visible checks.

The model of the lab: a univariate mixture of k Gaussians,

    p(x) = sum_j lam_j N(x | mu_j, sigma_j^2),

with weights ``lam`` (non-negative, summing to 1), means ``mu`` and *standard deviations*
``sigma`` (as R's ``dnorm(x, mean, sd)``; the variance is sigma^2). Log-likelihoods are
in nats (natural logarithm).

Shapes (n points, k components)::

    x      (n,)    observations (unit of the data: none for the simulated data, minutes for
                   Old Faithful's waiting times)
    lam    (k,)    mixing weights
    mu     (k,)    means, unit of x
    sigma  (k,)    standard deviations, unit of x
    gamma  (n, k)  gamma[i, j] = q(z_i = j): a probability for each point and component,
                   rows summing to 1 (the posterior p(z_i = j | x_i) after an E step)

Nothing here computes a density, a posterior, a bound or an update: :func:`run_em`,
:func:`bound_along`, :func:`mixture_density` and the figures only call *your* functions. The
checks (``check_<name>``, built from the cases of :mod:`emlab.specs.lab02` and run by
:mod:`emlab.visible`) call your function on cases whose answer you can work out by hand
(identical components, a point 2 sigma from a mean, hard 0/1 gamma, a point far from every
component, ...) and either print a line starting with ``✓`` or raise ``AssertionError``
naming the case and explaining in words what is wrong. Passing them is necessary, not
sufficient: the grader also runs your functions on other inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .checking import loglik_never_decreases
from .specs.lab02 import SPECS

__all__ = [
    "TRUE_LAM", "TRUE_MU", "TRUE_SIGMA", "COLOURS", "simulate_mixture", "mixture_density",
    "EMHistory", "run_em", "bound_along", "plot_data", "plot_bound",
    "check_compute_loglik", "check_calc_probs", "check_compute_q", "check_update_mu", "check_update_sigma",
    "check_update_lambda", "check_monotone",
]

TRUE_LAM = (0.75, 0.25)   # weights of the simulated mixture
TRUE_MU = (0.0, 4.0)      # its means
TRUE_SIGMA = (1.0, 1.0)   # its standard deviations
COLOURS = ("#d62728", "#1f5fbf", "#2ca02c", "#ff7f0e", "#9467bd")  # component j in COLOURS[j]
ELL_COLOUR, Q_COLOUR, GAP_COLOUR = "black", "#ff7f0e", "#9467bd"


# --------------------------------------------------------------------------- data
def simulate_mixture(n: int = 300, lam=TRUE_LAM, mu=TRUE_MU, sigma=TRUE_SIGMA, seed: int = 1):
    """Draw n points from the mixture: first a label z_i with P(z_i = j) = lam[j], then
    x_i ~ N(mu[z_i], sigma[z_i]^2).

    Parameters
    ----------
    n : int
    lam, mu, sigma : sequences of length k
        Weights (summing to 1), means and standard deviations (not variances).
    seed : int
        Seed of ``np.random.default_rng``: the same seed gives the same points.

    Returns
    -------
    x : (n,) float array, the points
    z : (n,) int array, the true labels 0, ..., k-1 (hidden in practice)
    """
    rng = np.random.default_rng(seed)
    lam, mu, sigma = (np.asarray(a, dtype=float) for a in (lam, mu, sigma))
    z = rng.choice(len(lam), size=n, p=lam)
    return mu[z] + sigma[z] * rng.standard_normal(n), z


def mixture_density(grid, lam, mu, sigma, compute_loglik: Callable) -> np.ndarray:
    """The weighted components lam_j N(g | mu_j, sigma_j^2) at each grid value, for drawing,
    computed through *your* ``compute_loglik``: for one point g and one component of weight 1,
    ``compute_loglik([g], [1], [mu_j], [sigma_j])`` is log N(g | mu_j, sigma_j^2).

    grid : (m,) values of x; lam, mu, sigma : (k,) weights, means, standard deviations.
    Returns (m, k), per unit of x; its row sums are the mixture density."""
    g = np.asarray(grid, dtype=float).reshape(-1)
    lam, mu, sigma = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (lam, mu, sigma))
    one = np.ones(1)
    out = np.empty((g.size, lam.size))
    for j in range(lam.size):
        for i, value in enumerate(g):
            log_n = float(np.asarray(compute_loglik(np.array([value]), one.copy(), mu[j:j + 1].copy(),
                                                    sigma[j:j + 1].copy()), dtype=float).reshape(()))
            out[i, j] = lam[j] * math.exp(log_n)
    return out


# --------------------------------------------------------------------------- EM loop
@dataclass
class EMHistory:
    """Everything an EM run visited; index t is "after t iterations" (t = 0: the start).

    lam, mu, sigma : lists of (k,) arrays
    loglik : list of floats, compute_loglik at those parameters (nats)
    gamma : list of (n, k) arrays; gamma[t] = calc_probs at the parameters of step t,
        the posterior that iteration t + 1's M step uses (one more than the parameters)
    n_iter : iterations done; stopped_by_tol : True if the last one raised the
        log-likelihood by at most ``epsilon``
    """

    lam: list = field(default_factory=list)
    mu: list = field(default_factory=list)
    sigma: list = field(default_factory=list)
    loglik: list = field(default_factory=list)
    gamma: list = field(default_factory=list)
    n_iter: int = 0
    stopped_by_tol: bool = False

    def __repr__(self) -> str:
        if not self.loglik:
            return "EMHistory(empty)"
        return f"EMHistory(n_iter={self.n_iter}, loglik {self.loglik[0]:.3f} -> {self.loglik[-1]:.3f})"

    def theta(self, t: int):
        """(lam, mu, sigma) after t iterations."""
        return self.lam[t], self.mu[t], self.sigma[t]


def _vector(value, k: int, what: str) -> np.ndarray:
    arr = np.array(value, dtype=float).reshape(-1)
    if arr.shape != (k,):
        raise ValueError(f"{what} returned shape {np.shape(value)}; expected ({k},), one number per component. "
                         f"Run its check cell to find out more.")
    return arr


def run_em(x, lam, mu, sigma, calc_probs: Callable, update_lambda: Callable, update_mu: Callable,
           update_sigma: Callable, compute_loglik: Callable, *, equal_sigma: bool = False,
           epsilon: float | None = 1e-8, max_iter: int = 500) -> EMHistory:
    """EM for a univariate mixture of k Gaussians, built from your functions.

    Each iteration is::

        gamma = calc_probs(x, lam, mu, sigma)         # E step, (n, k)
        lam = update_lambda(gamma)                     # M step, (k,)
        mu = update_mu(x, gamma)                       # (k,)
        sigma = update_sigma(x, gamma, mu)             # (k,), about the NEW means
        l_t = compute_loglik(x, lam, mu, sigma)        # nats

    With ``equal_sigma=True`` every component gets the same standard deviation, the pooled
    sqrt(sum_j lam_j sigma_j^2) of your updates (what R's mixtools fits when sigma is given
    as one number). The run stops after the first iteration that raises the log-likelihood
    by at most ``epsilon`` (mixtools' rule), or after ``max_iter`` iterations
    (``epsilon=None``: always ``max_iter``).
    """
    x = np.array(x, dtype=float)
    lam = np.array(lam, dtype=float).reshape(-1)
    k = lam.size
    mu = np.array(mu, dtype=float).reshape(-1)
    sigma = np.broadcast_to(np.array(sigma, dtype=float), (k,)).copy()
    hist = EMHistory()

    def record(lam, mu, sigma):
        hist.lam.append(lam)
        hist.mu.append(mu)
        hist.sigma.append(sigma)
        hist.loglik.append(float(np.asarray(compute_loglik(x.copy(), lam.copy(), mu.copy(), sigma.copy()),
                                            dtype=float).reshape(())))

    record(lam, mu, sigma)
    for _ in range(max_iter):
        gamma = np.array(calc_probs(x.copy(), lam.copy(), mu.copy(), sigma.copy()), dtype=float)
        if gamma.shape != (x.size, k):
            raise ValueError(f"calc_probs returned shape {gamma.shape}; expected ({x.size}, {k}).")
        hist.gamma.append(gamma)
        lam = _vector(update_lambda(gamma.copy()), k, "update_lambda")
        mu = _vector(update_mu(x.copy(), gamma.copy()), k, "update_mu")
        sigma = _vector(update_sigma(x.copy(), gamma.copy(), mu.copy()), k, "update_sigma")
        if equal_sigma:
            sigma = np.full(k, math.sqrt(float(np.sum(lam * sigma ** 2))))
        record(lam, mu, sigma)
        hist.n_iter += 1
        step = hist.loglik[-1] - hist.loglik[-2]
        if epsilon is not None and not step > epsilon:
            hist.stopped_by_tol = True
            break
    hist.gamma.append(np.array(calc_probs(x.copy(), lam.copy(), mu.copy(), sigma.copy()), dtype=float))
    return hist


def bound_along(x, lam, mu, sigma, gamma, component: int, grid, compute_loglik: Callable, compute_q: Callable):
    """ℓ and Q along one mean: mu[component] runs over ``grid``, everything else held.

    Parameters
    ----------
    x : (n,); lam, mu, sigma : (k,) the parameters held (theta_t)
    gamma : (n, k) held fixed, normally calc_probs at theta_t
    component : which mean moves (0 for mu_1)
    grid : (m,) values of that mean

    Returns
    -------
    (ell, q): two (m,) arrays in nats, your compute_loglik and compute_q at each grid value.
    """
    ell, q = [], []
    for value in np.asarray(grid, dtype=float):
        m = np.array(mu, dtype=float)
        m[component] = value
        ell.append(float(compute_loglik(x, lam, m, sigma)))
        q.append(float(compute_q(x, lam, m, sigma, gamma)))
    return np.array(ell), np.array(q)


# --------------------------------------------------------------------------- figures
def plot_data(ax, x, lam=None, mu=None, sigma=None, *, compute_loglik: Callable | None = None, bins=30,
              unit: str = "", title: str | None = None, grid=None, xlabel: str = "x"):
    """Density histogram of x, with the mixture and its weighted components when given.

    Parameters
    ----------
    ax : matplotlib Axes
    x : (n,) the points
    lam, mu, sigma : (k,) optional; drawn as the mixture density (black) and each
        lam_j N(mu_j, sigma_j^2) in its colour, computed by :func:`mixture_density` through
        ``compute_loglik`` (yours), which they need
    unit : the unit of x for the axis labels ("" for none); xlabel : what x is
    """
    x = np.asarray(x, dtype=float)
    u = f" ({unit})" if unit else ""
    ax.hist(x, bins=bins, density=True, color="0.8", edgecolor="white", label=f"data, n = {x.size}")
    if lam is not None:
        if compute_loglik is None:
            raise TypeError("plot_data draws the mixture through your compute_loglik: pass "
                            "compute_loglik=compute_loglik (emlab computes no density of its own).")
        if grid is None:
            pad = 0.1 * (x.max() - x.min())
            grid = np.linspace(x.min() - pad, x.max() + pad, 400)
        comps = mixture_density(grid, lam, mu, sigma, compute_loglik)
        for j in range(comps.shape[1]):
            ax.plot(grid, comps[:, j], "--", color=COLOURS[j % len(COLOURS)], linewidth=1.8,
                    label=rf"$\lambda_{j + 1} \mathcal{{N}}(\mu_{j + 1}, \sigma_{j + 1}^2)$, "
                          rf"$\lambda_{j + 1}$ = {float(np.atleast_1d(lam)[j]):.2f}")
        ax.plot(grid, comps.sum(axis=1), color="black", linewidth=2, label="mixture density")
    ax.set(xlabel=f"{xlabel}{u}", ylabel=f"density (1/{unit})" if unit else "density")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize=9)
    return ax


def plot_bound(ax, grid, ell, q, *, current: float, argmax_q: float | None = None, name: str = r"\mu_1",
               title: str | None = None, legend: bool = True):
    """ℓ and Q over one parameter, the current value and Q's maximiser marked.

    grid, ell, q : (m,) from :func:`bound_along`; current : the parameter's value at theta_t
    (where Q touches ℓ); argmax_q : where Q is highest (the M step's value), drawn with ℓ there.
    """
    ax.plot(grid, ell, color=ELL_COLOUR, linewidth=2, label=rf"$\ell$ as a function of ${name}$")
    ax.plot(grid, q, color=Q_COLOUR, linewidth=2, label=rf"bound $Q({name} \mid \theta_t)$")
    ax.axvline(current, color="0.5", linestyle=":", linewidth=1.2)
    ell_now = float(np.interp(current, grid, ell))
    ax.plot(current, ell_now, "o", color="0.3", markersize=7, label=rf"current ${name}$: $Q = \ell$")
    if argmax_q is not None:
        ax.axvline(argmax_q, color=Q_COLOUR, linestyle="--", linewidth=1.2)
        ax.plot(argmax_q, float(np.interp(argmax_q, grid, q)), "^", color=Q_COLOUR, markersize=8,
                label=rf"max of $Q$: new ${name}$")
        ax.plot(argmax_q, float(np.interp(argmax_q, grid, ell)), "*", color=ELL_COLOUR, markersize=12,
                label=r"$\ell$ there (higher)")
    ax.set(xlabel=rf"${name}$ (other parameters held at $\theta_t$)", ylabel="nats")
    lo = min(np.min(q[np.isfinite(q)]), np.min(ell))
    hi = np.max(ell)
    ax.set_ylim(max(lo, hi - 4 * (hi - ell_now) - 40), hi + 0.08 * (hi - max(lo, hi - 4 * (hi - ell_now) - 40)))
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="lower center", fontsize=9)
    ax.grid(True, alpha=0.3)
    return ax


# --------------------------------------------------------------------------- visible checks
# Each check runs the cases of emlab/specs/lab02.py through the shared runner (emlab.visible).
check_compute_loglik = SPECS["compute_loglik"].checker()
check_calc_probs = SPECS["calc_probs"].checker()
check_compute_q = SPECS["compute_q"].checker()
check_update_mu = SPECS["update_mu"].checker()
check_update_sigma = SPECS["update_sigma"].checker()
check_update_lambda = SPECS["update_lambda"].checker()


# --------------------------------------------------------------------------- monotone
def check_monotone(history, *more, rtol: float = 1e-9) -> None:
    """Check that the log-likelihood never went down during an EM run; print a ``✓`` line.

    history : the history from :func:`run_em`, or a sequence of float: the log-likelihoods after 0, 1, 2, ...
        iterations, in nats
    more : further runs' histories, each checked the same way (one ✓ line for them all)
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the iteration where l decreased and by how much.
    """
    __tracebackhide__ = True
    loglik_never_decreases(history, rtol, more=more, runner="run_em",
                           nonfinite=(": use log-densities and scipy.special.logsumexp in compute_loglik."),
                           decrease=("EM never decreases it, so your functions disagree: check that calc_probs uses the "
                                    "weights, that the updates divide by each component's own weight, and that update_sigma "
                                    "returns standard deviations."))
