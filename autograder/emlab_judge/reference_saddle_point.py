"""Reference implementations for lab 04 (the ±1 saddle point), instructor side only.

The model: an equal mixture of two Gaussians with opposite means and one shared standard
deviation,

    p(x | mu, sigma) = 1/2 N(x | mu, sigma^2) + 1/2 N(x | -mu, sigma^2),

fitted to exactly two points, x = +1 and x = -1. For these data

    ll(mu, sigma) = 2 [ -log sigma - 1/2 log(2 pi) - (1 + mu^2) / (2 sigma^2) + log cosh(mu / sigma^2) ],

with a saddle at (0, 1) (Hessian [[0, 0], [0, -4]]) and the likelihood unbounded towards the
Dirac limits (+-1, 0).

Written independently of the notebook's solution cells: ``log_density`` with scipy's
``norm.logpdf`` and ``np.logaddexp``; ``grad_ll`` and ``hessian_ll`` from the closed form
above (log cosh and sech^2 written so that they never overflow).

``sigma <= 0`` is the Dirac mixture 1/2 delta_mu + 1/2 delta_{-mu} (the limit sigma -> 0):
its log "density" is +inf at the atoms x = +-mu and -inf everywhere else, so ll is +inf at
mu = +-1 and -inf elsewhere. The gradient and Hessian are defined for sigma > 0 only.

Shapes and units (x and mu in the data's unit, sigma a standard deviation, not a variance,
log-likelihoods in nats):

    x       (n,)        points
    mu      float       mean of the + component (the other is at -mu)
    sigma   float       shared standard deviation
    sigmas  (T,)        annealing schedule, standard deviations from high to low
    path    (T, 2)      anneal's output: row t = (mu after the inner loop at sigmas[t], sigmas[t])
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = ["DATA", "log_density", "ll", "grad_ll", "hessian_ll", "anneal", "em_step"]

DATA = np.array([1.0, -1.0])
LOG_HALF = np.log(0.5)


def log_density(x, mu, sigma) -> np.ndarray:
    """log p(x_i | mu, sigma) for each point, (n,). Finite for sigma > 0; for sigma <= 0 the
    Dirac mixture: +inf at x = +-mu, -inf elsewhere."""
    x = np.asarray(x, dtype=float)
    mu, sigma = float(mu), float(sigma)
    if sigma <= 0.0:
        on_atom = (x == mu) | (x == -mu)
        return np.where(on_atom, np.inf, -np.inf)
    return LOG_HALF + np.logaddexp(norm.logpdf(x, mu, sigma), norm.logpdf(x, -mu, sigma))


def ll(mu, sigma) -> float:
    """The log-likelihood of the two points +1 and -1, nats."""
    return float(np.sum(log_density(DATA, mu, sigma)))


def _log_cosh(a):
    return np.logaddexp(a, -a) - np.log(2.0)


def _sech2(a):
    e = np.exp(-2.0 * abs(a))
    return 4.0 * e / (1.0 + e) ** 2


def ll_closed_form(mu, sigma) -> float:
    """ll from the closed form (sigma > 0), used by the tests as a second route."""
    s2 = sigma * sigma
    return float(2.0 * (-np.log(sigma) - 0.5 * np.log(2 * np.pi) - (1 + mu * mu) / (2 * s2)
                        + _log_cosh(mu / s2)))


def grad_ll(mu, sigma) -> np.ndarray:
    """(d ll / d mu, d ll / d sigma) at (mu, sigma), sigma > 0; shape (2,)."""
    mu, sigma = float(mu), float(sigma)
    s2 = sigma * sigma
    t = np.tanh(mu / s2)
    d_mu = 2.0 * (t - mu) / s2
    d_sigma = 2.0 * (-1.0 / sigma + (1.0 + mu * mu) / sigma ** 3 - 2.0 * mu * t / sigma ** 3)
    return np.array([d_mu, d_sigma])


def hessian_ll(mu, sigma) -> np.ndarray:
    """The 2 x 2 matrix of second derivatives of ll, order (mu, sigma), sigma > 0."""
    mu, sigma = float(mu), float(sigma)
    s2 = sigma * sigma
    a = mu / s2
    t, s = np.tanh(a), _sech2(a)
    h_mm = 2.0 * (s / s2 - 1.0) / s2
    h_ms = -4.0 * (t - mu) / sigma ** 3 - 4.0 * mu * s / sigma ** 5
    h_ss = 2.0 * (1.0 / s2 - 3.0 * (1.0 + mu * mu) / sigma ** 4 + 6.0 * mu * t / sigma ** 4
                  + 4.0 * mu * mu * s / sigma ** 6)
    return np.array([[h_mm, h_ms], [h_ms, h_ss]])


def em_step(mu, sigma):
    """One EM iteration for the data (+1, -1): (mu', sigma') with mu' = tanh(mu / sigma^2),
    sigma'^2 = 1 - mu'^2."""
    mu_new = float(np.tanh(mu / (sigma * sigma)))
    return mu_new, float(np.sqrt(max(1.0 - mu_new * mu_new, 0.0)))


def anneal(mu0, sigmas, n_inner) -> np.ndarray:
    """Deterministic annealing: for each sigma_t in ``sigmas`` (in the given order), n_inner
    updates mu <- tanh(mu / sigma_t^2) (the EM update of mu at fixed sigma, equal to
    mu + sigma_t^2 / 2 * d ll / d mu), starting from the previous mu (mu0 at first).
    Returns (T, 2): row t = (mu after the n_inner updates at sigma_t, sigma_t)."""
    sigmas = np.asarray(sigmas, dtype=float)
    path = np.empty((sigmas.size, 2))
    mu = float(mu0)
    for t, sigma in enumerate(sigmas):
        for _ in range(int(n_inner)):
            mu = float(np.tanh(mu / sigma ** 2))
        path[t] = mu, sigma
    return path
