"""Lab 05 (EM in practice): data, isotropic mixtures, loops that call your functions,
figures and visible checks.

The model of the lab is a mixture of M *isotropic* Gaussians in D dimensions,

    p(x) = sum_j pi_j N(x | mu_j, sigma_j^2 I),

with the mixing weights either given directly (``pi``) or through unconstrained
``logits`` with pi = softmax(logits). Shapes (N points)::

    X       (N, D)   data (unit: whatever the data's unit is; the demos use plain numbers)
    mu      (M, D)   component means
    sigma   (M,)     standard deviations (sigma2 = sigma**2 are the variances)
    pi      (M,)     mixing weights, positive, summing to one
    logits  (M,)     pi = softmax(logits)
    gamma   (N, M)   responsibilities P(component j | x_i); rows sum to one

Log-likelihoods are in nats; E = -log L is the error that gradient descent minimises.

Nothing here computes a density, a responsibility or a log-likelihood. The E step and the
log-likelihood are given in a locked cell of the lab's notebook (``responsibilities`` and
``mixture_loglik``: labs 01 to 03 were about them), and the loops (:func:`run_em`,
:func:`run_gradient_descent`, :func:`run_em_with_reset`) take them as arguments,
``e_step=`` and ``loglik=``, beside *your* graded functions, which they only call. The
``check_*`` functions (built by :mod:`emlab.visible` from the cases of
:mod:`emlab.specs.lab05`) call your function on cases whose answer you can work out by hand
(``check_grad_neg_loglik(grad, loglik)`` also compares the gradient with finite differences of
E computed with the ``loglik`` it is given, the notebook's ``mixture_loglik``) and print a line
starting with ``✓`` or raise ``AssertionError`` naming the case and saying in words what is
wrong. Passing them is necessary, not sufficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import softmax

from .specs.lab05 import SPECS

__all__ = [
    "make_blobs", "isotropic_covariances",
    "EMHistory", "run_em", "run_gradient_descent", "run_em_with_reset", "plot_isotropic_state",
    "check_grad_neg_loglik", "check_m_step_isotropic", "check_running_mean_var", "check_reset_starved",
    "check_merge_candidates", "check_split_criterion", "check_information_criteria",
]


# --------------------------------------------------------------------------- data and model
def make_blobs(centres, scales, counts, seed: int = 0) -> np.ndarray:
    """Isotropic Gaussian clusters, shuffled.

    centres (M, D), scales (M,) standard deviations, counts (M,) points per cluster.
    Returns X of shape (sum(counts), D), drawn with ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, float)
    parts = [c + s * rng.standard_normal((n, centres.shape[1])) for c, s, n in zip(centres, scales, counts)]
    X = np.concatenate(parts)
    return X[rng.permutation(len(X))]


def isotropic_covariances(sigma2, D: int = 2) -> np.ndarray:
    """(M, D, D): sigma2_j I for each component (for the ellipse plots)."""
    return np.asarray(sigma2, float)[:, None, None] * np.eye(D)[None]


# --------------------------------------------------------------------------- loops
@dataclass
class EMHistory:
    """What a run did: E = -log L after each iteration (index 0 = the start) and the
    parameters at the end (and, with ``keep``, at every iteration)."""

    E: list = field(default_factory=list)
    mu: np.ndarray | None = None
    sigma2: np.ndarray | None = None
    pi: np.ndarray | None = None
    frames: list = field(default_factory=list)   # (mu, sigma2, pi) per iteration, with keep=True
    resets: list = field(default_factory=list)   # (iteration, component) for run_em_with_reset

    @property
    def n_iter(self) -> int:
        return len(self.E) - 1


def run_em(X, mu, sigma2, pi, m_step, n_iter: int = 50, keep: bool = False, *, e_step, loglik) -> EMHistory:
    """``n_iter`` EM iterations: gamma = e_step(X, mu, sigma2, pi), then your ``m_step(X, gamma)``.

    X (N, D); mu (M, D), sigma2 (M,) variances, pi (M,): the start. ``e_step(X, mu, sigma2, pi)``
    returns gamma (N, M) and ``loglik(X, mu, sigma2, pi)`` log L in nats (the notebook's given
    ``responsibilities`` and ``mixture_loglik``); ``m_step(X, gamma)`` returns (mu, sigma2, pi).
    The history records E = -loglik after each iteration (and, with ``keep``, the parameters)."""
    mu, sigma2, pi = (np.array(a, float) for a in (mu, sigma2, pi))
    h = EMHistory(E=[-float(loglik(X, mu, sigma2, pi))])
    if keep:
        h.frames.append((mu, sigma2, pi))
    for _ in range(n_iter):
        gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        mu, sigma2, pi = (np.asarray(a, float) for a in m_step(X, gamma))
        h.E.append(-float(loglik(X, mu, sigma2, pi)))
        if keep:
            h.frames.append((mu, sigma2, pi))
    h.mu, h.sigma2, h.pi = mu, sigma2, pi
    return h


def run_gradient_descent(X, mu, sigma, logits, grad, step: float, n_iter: int = 50, *, loglik) -> EMHistory:
    """Gradient descent on E / N with your ``grad(X, mu, sigma, logits)``.

    X (N, D); mu (M, D), sigma (M,) standard deviations, logits (M,): the start; E = -log L
    with ``loglik(X, mu, sigma2, pi)`` (the notebook's ``mixture_loglik``) and pi = softmax(logits).
    The means and logits move by ``-step * dE/N``; the standard deviations move in the
    log domain, log sigma <- log sigma - step * sigma * dE/dsigma / N (the chain rule), so that
    they stay positive. A step that makes E overflow stops the run (E then ends in inf)."""
    mu, logits = np.array(mu, float), np.array(logits, float)
    log_sigma = np.log(np.array(sigma, float))
    N = len(X)
    h = EMHistory(E=[-float(loglik(X, mu, np.exp(2 * log_sigma), softmax(logits)))])
    for _ in range(n_iter):
        sigma = np.exp(log_sigma)
        with np.errstate(all="ignore"):   # a step that is too large overflows: E shows it
            d_mu, d_sigma, d_logits = (np.asarray(a, float) for a in grad(X, mu, sigma, logits))
        mu = mu - step * d_mu / N
        log_sigma = log_sigma - step * sigma * d_sigma / N
        logits = logits - step * d_logits / N
        with np.errstate(all="ignore"):
            E = -float(loglik(X, mu, np.exp(2 * log_sigma), softmax(logits)))
        h.E.append(E if np.isfinite(E) else np.inf)
        if not np.isfinite(E):
            break
    h.mu, h.sigma2, h.pi = mu, np.exp(2 * log_sigma), softmax(logits)
    return h


def run_em_with_reset(X, mu, sigma2, pi, m_step, reset, n_iter: int = 50, seed: int = 0, *, e_step,
                      loglik) -> EMHistory:
    """EM with the reset heuristic: after each M step, your
    ``reset(X, gamma, mu, sigma2, pi, candidates)`` with ``candidates`` drawn uniformly from
    the data indices by ``np.random.default_rng(seed)``. Starved components are recorded in
    ``resets`` as (iteration, component). ``e_step`` and ``loglik`` as in :func:`run_em`."""
    rng = np.random.default_rng(seed)
    mu, sigma2, pi = (np.array(a, float) for a in (mu, sigma2, pi))
    N, M = len(X), len(pi)
    h = EMHistory(E=[-float(loglik(X, mu, sigma2, pi))])
    for t in range(1, n_iter + 1):
        gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        starved = np.flatnonzero(gamma.sum(0) < N / (2 * M))
        candidates = rng.integers(0, N, size=M)
        if starved.size:
            mu, sigma2, pi = (np.asarray(a, float) for a in reset(X, gamma, mu, sigma2, pi, candidates))
            h.resets += [(t, int(j)) for j in starved]
            gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        mu, sigma2, pi = (np.asarray(a, float) for a in m_step(X, gamma))
        h.E.append(-float(loglik(X, mu, sigma2, pi)))
    h.mu, h.sigma2, h.pi = mu, sigma2, pi
    return h


# --------------------------------------------------------------------------- figures
def plot_isotropic_state(ax, X, mu, sigma2, pi=None, title=None, *, e_step=None, xlim=(-4, 10), ylim=(-4, 9),
                         legend=True):
    """Points coloured by responsibility, each component's 2-sigma circle and mean.

    X (N, 2), mu (M, 2), sigma2 (M,) variances, pi (M,) weights (equal if None); the points
    are coloured by ``e_step(X, mu, sigma2, pi)`` (the notebook's ``responsibilities``), or
    grey without it; axes limits ``xlim``, ``ylim`` (equal aspect). Returns ax."""
    from .plotting import plot_gmm_state

    pi = pi if pi is not None else np.full(len(sigma2), 1 / len(sigma2))
    gamma = None if e_step is None else np.asarray(e_step(X, mu, sigma2, pi), float)
    plot_gmm_state(ax, X, mu, isotropic_covariances(sigma2, X.shape[1]), gamma, title=title,
                   xlabel="$x_1$ (no unit)", ylabel="$x_2$ (no unit)", lim=None, legend=legend)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


# --------------------------------------------------------------------------- visible checks
# Each check runs its function on the cases of emlab/specs/lab05.py (worked out by hand, plus
# finite differences of the notebook's own mixture_loglik for the gradient) and prints a line
# starting with ✓, or raises AssertionError naming the case and the mistake.
check_grad_neg_loglik = SPECS["grad_neg_loglik"].checker()          # check_grad_neg_loglik(grad, loglik)
check_m_step_isotropic = SPECS["m_step_isotropic"].checker()
check_running_mean_var = SPECS["running_mean_var"].checker()
check_reset_starved = SPECS["reset_starved"].checker()
check_merge_candidates = SPECS["merge_candidates"].checker()
check_split_criterion = SPECS["split_criterion"].checker()
check_information_criteria = SPECS["information_criteria"].checker()
