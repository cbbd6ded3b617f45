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
checks call your function on cases whose answer you can work out by hand and either print a
line starting with ``✓`` or raise ``AssertionError`` explaining in words what is wrong. Passing them is
necessary, not sufficient: the grader also runs your functions on other inputs.
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
    "TRUE_LAM", "TRUE_MU", "TRUE_SIGMA", "COLOURS", "simulate_mixture", "mixture_density",
    "EMHistory", "run_em", "bound_along", "plot_data", "plot_bound", "gamma_problem",
    "check_compute_loglik", "check_calc_probs", "check_compute_q", "check_update_mu", "check_update_sigma",
    "check_update_lambda", "check_monotone",
]

TRUE_LAM = (0.75, 0.25)   # weights of the simulated mixture
TRUE_MU = (0.0, 4.0)      # its means
TRUE_SIGMA = (1.0, 1.0)   # its standard deviations
COLOURS = ("#d62728", "#1f5fbf", "#2ca02c", "#ff7f0e", "#9467bd")  # component j in COLOURS[j]
ELL_COLOUR, Q_COLOUR, GAP_COLOUR = "black", "#ff7f0e", "#9467bd"

RTOL = 1e-6
ATOL = 1e-8
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


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


# --------------------------------------------------------------------------- check helpers
def _fmt(a) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=6, suppress_small=True, separator=", ")


def _close(a, b, rtol=RTOL, atol=ATOL) -> bool:
    return close(a, b, rtol, atol)


_fail = fail


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
        raise AssertionError(f"{fname} should take the arguments ({', '.join(expected)}), in that order; yours "
                             f"takes ({', '.join(names)}).")


def _call(func, fname: str, label: str, args: dict):
    """Call ``func`` with copies of ``args``; fail if it modified an array it was given."""
    given = {k: np.array(v, dtype=float) for k, v in args.items()}
    pristine = {k: v.copy() for k, v in given.items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            out = func(**given)
    except Exception as exc:
        exc.add_note(f"(raised by {fname} while the check ran the case '{label}')")
        raise
    for name, value in pristine.items():
        if not np.array_equal(given[name], value, equal_nan=True):
            _fail(fname, label, f"{fname} modified its argument {name!r}. Work on a copy, or avoid in-place "
                                f"operations such as {name} /= ... or {name}[...] = ....")
    if out is None:
        _fail(fname, label, f"{fname} returned None: did you forget the `return` statement?")
    return out


def _scalar(out, fname, label, n_points):
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        _fail(fname, label, f"{fname} should return one number; got {type(out).__name__}.")
    if arr.size != 1:
        _fail(fname, label, f"{fname} should return one number (a sum over all {n_points} points); got an "
                            f"array of shape {arr.shape}.")
    value = float(arr.reshape(()))
    if not math.isfinite(value):
        _fail(fname, label, f"got {value}. A point far from every component makes every density underflow to "
                            "0, and log(0) = -inf: work with log-densities and combine them with "
                            "scipy.special.logsumexp.")
    return value


def _vec(out, fname, label, k, what="one number per component"):
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        _fail(fname, label, f"{fname} should return a numeric array; got {type(out).__name__}.")
    if arr.shape != (k,):
        _fail(fname, label, f"{fname} returned shape {arr.shape}; expected ({k},), {what}.")
    if not np.all(np.isfinite(arr)):
        _fail(fname, label, f"{fname} returned {_fmt(arr)}: NaN or infinite values.")
    return arr


def gamma_problem(gamma, n: int, k: int) -> str | None:
    """What is wrong with a (n, k) array of probabilities that any correct one would not have."""
    gamma = np.asarray(gamma, dtype=float)
    if gamma.shape != (n, k):
        hint = " It looks transposed: rows are points, columns components." if gamma.shape == (k, n) else ""
        return f"gamma has shape {gamma.shape}; expected ({n}, {k}): one row per point, one column per component.{hint}"
    if not np.all(np.isfinite(gamma)):
        return ("gamma contains NaN or infinite values. For a point far from every component all the densities "
                "underflow to 0 and 0/0 = NaN: work with log-densities and normalise with "
                "scipy.special.logsumexp.")
    if np.any(gamma < -ATOL) or np.any(gamma > 1 + 1e-9):
        return f"gamma has entries outside [0, 1] (from {gamma.min():.4g} to {gamma.max():.4g}); they are probabilities."
    sums = gamma.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        i = int(np.argmax(np.abs(sums - 1.0)))
        return (f"each row of gamma should sum to 1 (a point's probabilities over the components), but row {i} "
                f"sums to {sums[i]:.6g}: divide by the sum over the components.")
    return None


# --------------------------------------------------------------------------- compute_loglik
def check_compute_loglik(compute_loglik) -> None:
    """Check ``compute_loglik(x, lam, mu, sigma) -> float`` on cases worked out by hand."""
    __tracebackhide__ = True
    fname = "compute_loglik"
    _check_signature(compute_loglik, fname, ("x", "lam", "mu", "sigma"))

    def run(label, x, lam, mu, sigma):
        return _scalar(_call(compute_loglik, fname, label, {"x": x, "lam": lam, "mu": mu, "sigma": sigma}),
                       fname, label, len(x))

    label = "one component N(0, 1), one point x = 0"
    v = run(label, [0.0], [1.0], [0.0], [1.0])
    if not _close(v, -HALF_LOG_2PI):
        _fail(fname, label, f"the density of N(0, 1) at 0 is 1/sqrt(2 pi), so the answer is -log sqrt(2 pi) = "
                            f"{-HALF_LOG_2PI:.6f}; got {v:.6f}.")
    label = "one component N(5, 2^2), points 3, 5 and 7 (sigma = 2 is a standard deviation)"
    v = run(label, [3.0, 5.0, 7.0], [1.0], [5.0], [2.0])
    want = -3 * (HALF_LOG_2PI + math.log(2.0)) - (0.5 + 0.0 + 0.5)
    if _close(v, want / 3):
        _fail(fname, label, "you return the mean over the points; the log-likelihood is the sum.")
    if _close(v, -3 * (HALF_LOG_2PI + 0.5 * math.log(2.0)) - (1.0 + 0.0 + 1.0)):
        _fail(fname, label, "sigma is used as a variance; it is the standard deviation (variance sigma^2).")
    if not _close(v, want):
        _fail(fname, label, f"each point contributes -log(sqrt(2 pi) 2) - (x - 5)^2 / (2 * 2^2): the sum is "
                            f"{want:.6f}; got {v:.6f}.")
    label = "x = 0, components N(0, 1) and N(1000, 1) with weights 0.3 and 0.7"
    v = run(label, [0.0], [0.3, 0.7], [0.0, 1000.0], [1.0, 1.0])
    want = math.log(0.3) - HALF_LOG_2PI
    if _close(v, -HALF_LOG_2PI):
        _fail(fname, label, "the weight lam_1 = 0.3 is missing: p(x) = sum_j lam_j N(x | mu_j, sigma_j^2).")
    if v < -1000:
        _fail(fname, label, f"got {v:.4f}: the log is inside the sum over the components. The log-likelihood "
                            "is the log OF the sum, log(lam_1 N_1 + lam_2 N_2).")
    if not _close(v, want):
        _fail(fname, label, f"the component at 1000 adds almost nothing, so the answer is log 0.3 - log sqrt(2 pi) "
                            f"= {want:.6f}; got {v:.6f}.")
    label = "x = 1000, far from both components N(0, 1) and N(1, 1), equal weights"
    v = run(label, [1000.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0])
    want = math.log(0.5) - HALF_LOG_2PI - 999.0 ** 2 / 2 + math.log1p(math.exp(-999.5))
    if not _close(v, want):
        _fail(fname, label, f"the component at 1 dominates: log 0.5 - log sqrt(2 pi) - 999^2 / 2 = {want:.4f}; "
                            f"got {v:.4f}.")
    print("✓ compute_loglik looks right: one number, the sum over points, sigma a standard deviation, the "
          "weights inside the log, a point far from every component, inputs untouched.")


# --------------------------------------------------------------------------- calc_probs
def check_calc_probs(calc_probs) -> None:
    """Check ``calc_probs(x, lam, mu, sigma) -> gamma (n, k)`` on cases worked out by hand."""
    __tracebackhide__ = True
    fname = "calc_probs"
    _check_signature(calc_probs, fname, ("x", "lam", "mu", "sigma"))

    def run(label, x, lam, mu, sigma):
        out = _call(calc_probs, fname, label, {"x": x, "lam": lam, "mu": mu, "sigma": sigma})
        g = np.asarray(out, dtype=float)
        problem = gamma_problem(g, len(x), len(lam))
        if problem:
            _fail(fname, label, problem)
        return g

    label = "three identical components N(2, 1.5^2) with weights 0.2, 0.5, 0.3"
    g = run(label, [-1.0, 2.0, 6.5], [0.2, 0.5, 0.3], [2.0, 2.0, 2.0], [1.5, 1.5, 1.5])
    if not _close(g, np.tile([0.2, 0.5, 0.3], (3, 1))):
        _fail(fname, label, "identical components explain every point equally well, so the posterior of each "
                            f"point is the prior: every row should be [0.2, 0.5, 0.3]; got\n{_fmt(g)}.")
    label = "x = 0 with N(0, 2^2) (weight 0.75) and N(4, 2^2) (weight 0.25): mu_2 is 2 sigma away"
    g = run(label, [0.0], [0.75, 0.25], [0.0, 4.0], [2.0, 2.0])
    want = 0.75 / (0.75 + 0.25 * math.exp(-2.0))
    if not _close(g[0, 0], want):
        hint = ""
        if _close(g[0, 0], 1 / (1 + math.exp(-2.0))):
            hint = " You get 1 / (1 + exp(-2)): the weights lam are missing."
        elif _close(g[0, 0], 0.75 / (0.75 + 0.25 * math.exp(-0.5))):
            hint = " sigma seems to be used as a variance (sigma^2 = 4 as the standard deviation)."
        _fail(fname, label, "the density of component 2 at x = 0 is that of component 1 times exp(-2^2 / 2), so "
                            f"Bayes' rule gives 0.75 / (0.75 + 0.25 exp(-2)) = {want:.6f}; got {g[0, 0]:.6f}.{hint}")
    label = "points -1000 and 1000, components N(0, 1) and N(1, 1), equal weights"
    g = run(label, [-1000.0, 1000.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0])
    if not _close(g, [[1.0, 0.0], [0.0, 1.0]], atol=1e-12):
        _fail(fname, label, "both points are far from both components, but -1000 is nearer mu_1 = 0 and 1000 "
                            f"nearer mu_2 = 1, so the rows should be [1, 0] and [0, 1]; got\n{_fmt(g)}.")
    label = "one component (k = 1), four points"
    g = run(label, [0.3, -2.0, 5.0, 40.0], [1.0], [0.0], [3.0])
    if not _close(g, np.ones((4, 1))):
        _fail(fname, label, f"with one component every point belongs to it: gamma is a column of ones; got {_fmt(g)}.")
    print("✓ calc_probs looks right: shape (n, k), rows summing to 1, the prior for identical components, a "
          "value by Bayes' rule, points far from every component, inputs untouched.")


# --------------------------------------------------------------------------- compute_q
def check_compute_q(compute_q) -> None:
    """Check ``compute_q(x, lam, mu, sigma, gamma) -> float`` on cases worked out by hand."""
    __tracebackhide__ = True
    fname = "compute_q"
    _check_signature(compute_q, fname, ("x", "lam", "mu", "sigma", "gamma"))

    def run(label, x, lam, mu, sigma, gamma):
        return _scalar(_call(compute_q, fname, label, {"x": x, "lam": lam, "mu": mu, "sigma": sigma,
                                                        "gamma": gamma}), fname, label, len(x))

    # Two identical components N(0, 1), weights 1/2: the posterior is [1/2, 1/2] and Q = ℓ = sum log N(x_i | 0, 1).
    x = [0.0, 1.0, -2.0]
    ell = -3 * HALF_LOG_2PI - (0.0 + 1.0 + 4.0) / 2
    label = "two identical components N(0, 1), weights 1/2, gamma = 1/2 everywhere (the posterior)"
    v = run(label, x, [0.5, 0.5], [0.0, 0.0], [1.0, 1.0], np.full((3, 2), 0.5))
    if _close(v, ell - 3 * math.log(2.0)):
        _fail(fname, label, "gamma is the posterior here, so Q must equal the log-likelihood, "
                            f"{ell:.6f}; you get {v:.6f}, log 2 per point too low: the entropy term "
                            "- sum gamma log gamma is missing.")
    if _close(v, ell - 6 * math.log(2.0)):
        _fail(fname, label, "the entropy term has the wrong sign: Q subtracts sum gamma log gamma.")
    if not _close(v, ell):
        _fail(fname, label, f"gamma is the posterior here, so Q must equal the log-likelihood, {ell:.6f}; "
                            f"got {v:.6f}.")
    label = "the same points, hard gamma: x = 0 and 1 to component 1, x = -2 to component 2 (0 log 0 = 0)"
    gamma = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    v = run(label, x, [0.6, 0.4], [0.0, -2.0], [1.0, 2.0], gamma)
    want = (2 * math.log(0.6) + math.log(0.4) - 2 * HALF_LOG_2PI - 0.5 - (HALF_LOG_2PI + math.log(2.0)))
    if not _close(v, want):
        _fail(fname, label, "with 0/1 gamma the entropy is 0 and Q adds log(lam_j N(x_i | mu_j, sigma_j^2)) of "
                            f"each point's own component: {want:.6f}; got {v:.6f}. Terms with gamma = 0 count "
                            "nothing (0 log 0 = 0: scipy.special.xlogy(gamma, gamma) gives it).")
    label = "x = 1000, far from N(0, 1) and N(1, 1), gamma = [0.3, 0.7]"
    v = run(label, [1000.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0], [[0.3, 0.7]])
    want = (math.log(0.5) - HALF_LOG_2PI - 0.3 * 1000.0 ** 2 / 2 - 0.7 * 999.0 ** 2 / 2
            - 0.3 * math.log(0.3) - 0.7 * math.log(0.7))
    if not _close(v, want):
        _fail(fname, label, f"expected {want:.4f}, got {v:.4f}. Use log-densities: the density itself "
                            "underflows to 0 there, but its log is a finite number.")
    print("✓ compute_q looks right: Q = ℓ when gamma is the posterior, the entropy term with its sign, "
          "0 log 0 = 0, a point far from every component, inputs untouched.")


# --------------------------------------------------------------------------- updates
def check_update_mu(update_mu) -> None:
    """Check ``update_mu(x, gamma) -> (k,)`` on cases worked out by hand."""
    __tracebackhide__ = True
    fname = "update_mu"
    _check_signature(update_mu, fname, ("x", "gamma"))
    x = np.array([1.0, 2.0, 6.0, 10.0, 3.0])
    label = "hard gamma: points 1, 2, 3 to component 1, 6 and 10 to component 2"
    gamma = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0]], dtype=float)
    m = _vec(_call(update_mu, fname, label, {"x": x, "gamma": gamma}), fname, label, 2)
    if not _close(m, [2.0, 8.0]):
        hint = " You divide by n = 5, not by each component's total weight (3 and 2)." \
            if _close(m, [6.0 / 5, 16.0 / 5]) else ""
        _fail(fname, label, f"with 0/1 gamma each mean is the plain mean of its points: [2, 8]; got {_fmt(m)}.{hint}")
    label = "three components, every gamma = 1/3"
    m = _vec(_call(update_mu, fname, label, {"x": x, "gamma": np.full((5, 3), 1 / 3)}), fname, label, 3)
    if not _close(m, np.full(3, x.mean())):
        _fail(fname, label, f"equal weights give every component the overall mean {x.mean():g}; got {_fmt(m)}.")
    label = "soft gamma, two components"
    gamma = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4]])
    m = _vec(_call(update_mu, fname, label, {"x": x, "gamma": gamma}), fname, label, 2)
    if not _close(gamma.sum(axis=0) @ m, x.sum()):
        _fail(fname, label, "the weights of each point add up to 1, so N_1 mu_1 + N_2 mu_2 (N_j = sum_i gamma_ij) "
                            "must equal the sum of the points: divide each weighted sum by its own N_j.")
    print("✓ update_mu looks right: group means for 0/1 gamma, the overall mean for equal weights, the weighted "
          "means add up, inputs untouched.")


def check_update_sigma(update_sigma) -> None:
    """Check ``update_sigma(x, gamma, mu) -> (k,)`` standard deviations on cases worked out by hand."""
    __tracebackhide__ = True
    fname = "update_sigma"
    _check_signature(update_sigma, fname, ("x", "gamma", "mu"))
    x = np.array([1.0, 3.0, 10.0, 14.0])
    gamma = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    label = "hard gamma, points 1 and 3 (mean 2) and 10 and 14 (mean 12)"
    s = _vec(_call(update_sigma, fname, label, {"x": x, "gamma": gamma, "mu": [2.0, 12.0]}), fname, label, 2)
    if _close(s, [1.0, 4.0]):
        _fail(fname, label, "you return the variances [1, 4]; return the standard deviations, their square roots.")
    if _close(s, [math.sqrt(0.5), math.sqrt(2.0)]) or _close(s, [0.5, 2.0]):
        _fail(fname, label, "you divide by n = 4; divide each sum by its own component's weight N_j = 2.")
    if not _close(s, [1.0, 2.0]):
        _fail(fname, label, f"each component's points lie 1 and 2 from its mean: standard deviations [1, 2]; got "
                            f"{_fmt(s)}.")
    label = "one component, points 1 and 3, mu given as 0 (not their mean)"
    s = _vec(_call(update_sigma, fname, label, {"x": [1.0, 3.0], "gamma": [[1.0], [1.0]], "mu": [0.0]}),
             fname, label, 1)
    if not _close(s, [math.sqrt(5.0)]):
        _fail(fname, label, "measure the spread about the mu you are given: sqrt((1^2 + 3^2) / 2) = sqrt(5); got "
                            f"{_fmt(s)}.")
    print("✓ update_sigma looks right: standard deviations (not variances), each divided by its own weight, about "
          "the given means, inputs untouched.")


def check_update_lambda(update_lambda) -> None:
    """Check ``update_lambda(gamma) -> (k,)`` on cases worked out by hand."""
    __tracebackhide__ = True
    fname = "update_lambda"
    _check_signature(update_lambda, fname, ("gamma",))
    label = "hard gamma, three components with 2, 1 and 1 points"
    gamma = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=float)
    lam = _vec(_call(update_lambda, fname, label, {"gamma": gamma}), fname, label, 3)
    if _close(lam, [2.0, 1.0, 1.0]):
        _fail(fname, label, "you return the counts N_j; the weights are N_j / n, which sum to 1.")
    if not _close(lam, [0.5, 0.25, 0.25]):
        _fail(fname, label, f"the weights are the fractions of points in each component, [0.5, 0.25, 0.25]; got "
                            f"{_fmt(lam)}.")
    label = "soft gamma, two components"
    lam = _vec(_call(update_lambda, fname, label, {"gamma": [[0.9, 0.1], [0.2, 0.8]]}), fname, label, 2)
    if not _close(lam, [0.55, 0.45]):
        _fail(fname, label, f"average the columns: [(0.9 + 0.2) / 2, (0.1 + 0.8) / 2] = [0.55, 0.45]; got {_fmt(lam)}.")
    print("✓ update_lambda looks right: the average of each column of gamma, summing to 1, inputs untouched.")


# --------------------------------------------------------------------------- monotone
def check_monotone(history, rtol: float = 1e-9) -> None:
    """Check that the log-likelihood never went down during an EM run; print a ``✓`` line.

    history : the history from :func:`run_em`, or a sequence of float: the log-likelihoods after 0, 1, 2, ...
        iterations, in nats
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the iteration where l decreased and by how much.
    """
    __tracebackhide__ = True
    loglik_never_decreases(history, rtol, runner="run_em",
                           nonfinite=(": use log-densities and scipy.special.logsumexp in compute_loglik."),
                           decrease=("EM never decreases it, so your functions disagree: check that calc_probs uses the "
                                    "weights, that the updates divide by each component's own weight, and that update_sigma "
                                    "returns standard deviations."))
