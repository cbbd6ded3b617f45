"""Reference implementations for lab 02 (the lower bound Q against the log-likelihood),
instructor side only.

The model: a univariate mixture of k Gaussians with weights lam (summing to 1), means mu
and standard deviations sigma (standard deviations, as R's ``dnorm``, not variances):

    p(x) = sum_k lam_k N(x | mu_k, sigma_k^2)

Written independently of the notebook's solution cells: vectorised over points and
components and computed in the log domain (``scipy.stats.norm.logpdf``,
``scipy.special.logsumexp``, ``scipy.special.xlogy`` for 0 log 0 = 0), so that a point
far from every component gives finite log-densities.

Shapes and units (n points, k components):

    x      (n,)    observations (any unit, e.g. minutes)
    lam    (k,)    mixing weights, >= 0, summing to 1 (dimensionless)
    mu     (k,)    component means, unit of x
    sigma  (k,)    component standard deviations, unit of x (> 0)
    gamma  (n, k)  row-stochastic: gamma[i, j] = q(z_i = j), e.g. the posterior
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, xlogy
from scipy.stats import norm

__all__ = ["log_joint", "compute_loglik", "calc_probs", "log_posterior", "compute_q", "kl_gap",
           "update_mu", "update_sigma", "update_lambda", "fit_em"]


def _params(lam, mu, sigma):
    return (np.atleast_1d(np.asarray(lam, dtype=float)), np.atleast_1d(np.asarray(mu, dtype=float)),
            np.atleast_1d(np.asarray(sigma, dtype=float)))


def log_joint(x, lam, mu, sigma) -> np.ndarray:
    """(n, k) array: log(lam_j N(x_i | mu_j, sigma_j^2)), natural log of a density in 1/unit of x."""
    x = np.asarray(x, dtype=float)
    lam, mu, sigma = _params(lam, mu, sigma)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 gives log 0 = -inf, which is right
        log_lam = np.log(lam)
    return log_lam[None, :] + norm.logpdf(x[:, None], loc=mu[None, :], scale=sigma[None, :])


def compute_loglik(x, lam, mu, sigma) -> float:
    """The incomplete log-likelihood sum_i log sum_j lam_j N(x_i | mu_j, sigma_j^2), in nats."""
    return float(np.sum(logsumexp(log_joint(x, lam, mu, sigma), axis=1)))


def log_posterior(x, lam, mu, sigma) -> np.ndarray:
    """(n, k) array: log p(z_i = j | x_i), finite wherever lam_j > 0."""
    lj = log_joint(x, lam, mu, sigma)
    return lj - logsumexp(lj, axis=1, keepdims=True)


def calc_probs(x, lam, mu, sigma) -> np.ndarray:
    """(n, k) posterior probabilities gamma[i, j] = p(z_i = j | x_i); rows sum to 1."""
    return np.exp(log_posterior(x, lam, mu, sigma))


def compute_q(x, lam, mu, sigma, gamma) -> float:
    """The lower bound sum_ij gamma_ij log(lam_j N(x_i | mu_j, sigma_j^2)) - sum_ij gamma_ij log gamma_ij.

    Q <= loglik for every row-stochastic gamma, with equality when gamma is the posterior
    at (lam, mu, sigma). 0 log 0 = 0 in both sums (a term with gamma_ij = 0 counts nothing).
    """
    gamma = np.asarray(gamma, dtype=float)
    lj = log_joint(x, lam, mu, sigma)
    expected = np.sum(np.where(gamma > 0, gamma * np.where(gamma > 0, lj, 0.0), 0.0))
    return float(expected - np.sum(xlogy(gamma, gamma)))


def kl_gap(x, lam, mu, sigma, gamma) -> float:
    """sum_i KL(gamma_i || p(z_i | x_i)) in nats: the gap loglik - Q."""
    gamma = np.asarray(gamma, dtype=float)
    lp = log_posterior(x, lam, mu, sigma)
    return float(np.sum(np.where(gamma > 0, gamma * (np.log(np.where(gamma > 0, gamma, 1.0)) - lp), 0.0)))


def update_mu(x, gamma) -> np.ndarray:
    """(k,) weighted means sum_i gamma_ij x_i / sum_i gamma_ij: the maximiser of Q over mu."""
    x = np.asarray(x, dtype=float)
    gamma = np.asarray(gamma, dtype=float)
    return gamma.T @ x / gamma.sum(axis=0)


def update_sigma(x, gamma, mu) -> np.ndarray:
    """(k,) standard deviations sqrt(sum_i gamma_ij (x_i - mu_j)^2 / sum_i gamma_ij), about the given mu."""
    x = np.asarray(x, dtype=float)
    gamma = np.asarray(gamma, dtype=float)
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    return np.sqrt(np.sum(gamma * (x[:, None] - mu[None, :]) ** 2, axis=0) / gamma.sum(axis=0))


def update_lambda(gamma) -> np.ndarray:
    """(k,) weights sum_i gamma_ij / n: the maximiser of Q over lam under sum_j lam_j = 1."""
    return np.asarray(gamma, dtype=float).mean(axis=0)


def fit_em(x, lam, mu, sigma, *, equal_sigma: bool = False, epsilon: float = 1e-8, max_iter: int = 1000):
    """EM from the given start, stopping as R's mixtools ``normalmixEM`` does.

    Each iteration: gamma = posterior at the current parameters; lam, mu, then sigma about
    the new mu; with ``equal_sigma`` one pooled standard deviation sqrt(sum_j lam_j sigma_j^2)
    for every component (mixtools' fit when sigma is given as one number). Stops after the
    first iteration that raises the log-likelihood by at most ``epsilon``.

    Returns
    -------
    dict with lam, mu, sigma ((k,) arrays), loglik (float, at the returned parameters),
    history (list of log-likelihoods, the start first) and n_iter (iterations done).
    """
    x = np.asarray(x, dtype=float)
    lam, mu, sigma = _params(lam, mu, sigma)
    k = max(len(lam), len(mu))
    sigma = np.broadcast_to(sigma, (k,)).astype(float)
    history = [compute_loglik(x, lam, mu, sigma)]
    n_iter = 0
    while n_iter < max_iter:
        gamma = calc_probs(x, lam, mu, sigma)
        lam = update_lambda(gamma)
        mu = update_mu(x, gamma)
        sigma = update_sigma(x, gamma, mu)
        if equal_sigma:
            sigma = np.full(k, np.sqrt(np.sum(lam * sigma ** 2)))
        history.append(compute_loglik(x, lam, mu, sigma))
        n_iter += 1
        if history[-1] - history[-2] <= epsilon:
            break
    return {"lam": lam, "mu": mu, "sigma": sigma, "loglik": history[-1], "history": history, "n_iter": n_iter}
