"""information_criteria: l as the log of a sum of densities, not with log-sum-exp: infinite for a far point. Right on every ordinary case.

Visible mistake: information_criteria.log_of_underflowed_density.
"""

import numpy as np
from scipy.special import logsumexp, softmax  # noqa: F401 (not every function needs both)


def responsibilities(X, mu, sigma2, pi):
    """The E step the notebook gives in a locked cell (emlab computes none), repeated so that
    this module runs on its own: gamma (N, M) for X (N, D), mu (M, D), sigma2 (M,), pi (M,)."""
    X, mu, sigma2 = np.asarray(X, float), np.asarray(mu, float), np.asarray(sigma2, float)
    log_joint = (np.log(np.asarray(pi, float)) - 0.5 * X.shape[1] * np.log(2 * np.pi * sigma2)
                 - ((X[:, None, :] - mu[None, :, :]) ** 2).sum(-1) / (2 * sigma2))
    return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))


def grad_neg_loglik(X, mu, sigma, logits):
    D = X.shape[1]
    pi = softmax(logits)
    gamma = responsibilities(X, mu, sigma ** 2, pi)
    diff = X[:, None, :] - mu[None, :, :]
    sq = np.sum(diff ** 2, axis=2)
    d_mu = -np.einsum("nm,nmd->md", gamma, diff) / sigma[:, None] ** 2
    d_sigma = np.sum(gamma * (D / sigma - sq / sigma ** 3), axis=0)
    d_logits = -np.sum(gamma - pi, axis=0)
    return d_mu, d_sigma, d_logits


def m_step_isotropic(X, gamma):
    N, D = X.shape
    Nk = gamma.sum(axis=0)
    mu = gamma.T @ X / Nk[:, None]
    sq = np.sum((X[:, None, :] - mu[None, :, :]) ** 2, axis=2)
    sigma2 = np.sum(gamma * sq, axis=0) / (D * Nk)
    return mu, sigma2, Nk / N


def running_mean_var(x):
    means, variances = np.zeros(len(x)), np.zeros(len(x))
    m, s2 = 0.0, 0.0
    for n, xn in enumerate(x, start=1):
        m_old = m
        m = m_old + (xn - m_old) / n
        s2 = s2 + ((xn - m_old) * (xn - m) - s2) / n
        means[n - 1], variances[n - 1] = m, s2
    return means, variances


def reset_starved(X, gamma, mu, sigma2, pi, candidates):
    N, D = X.shape
    M = len(pi)
    mu, sigma2, pi = mu.copy(), sigma2.copy(), pi.copy()
    starved = gamma.sum(axis=0) < N / (2 * M)
    data_var = np.sum((X - X.mean(axis=0)) ** 2) / (N * D)
    mu[starved] = X[candidates[starved]]
    sigma2[starved] = data_var
    pi[starved] = 1.0 / M
    return mu, sigma2, pi / pi.sum()


def merge_candidates(gamma):
    G = gamma.T @ gamma
    i, j = np.triu_indices(G.shape[0], k=1)
    J = G[i, j]
    order = np.argsort(-J)
    return np.column_stack([i, j])[order], J[order]


def split_criterion(X, gamma, mu, sigma2):
    D = X.shape[1]
    f = gamma / gamma.sum(axis=0)
    sq = np.sum((X[:, None, :] - mu[None, :, :]) ** 2, axis=2)
    log_p = -0.5 * D * np.log(2 * np.pi * sigma2) - sq / (2 * sigma2)
    safe = np.where(f > 0, f, 1.0)
    return np.sum(np.where(f > 0, f * (np.log(safe) - log_p), 0.0), axis=0)


def information_criteria(X, mu, Sigma, pi):
    from scipy.stats import multivariate_normal
    N, D = X.shape
    K = len(pi)
    density = sum(pi[k] * np.atleast_1d(multivariate_normal(mu[k], Sigma[k]).pdf(X)) for k in range(K))
    with np.errstate(divide="ignore"):
        ll = np.sum(np.log(density))
    p = K * D + K * D * (D + 1) // 2 + K - 1
    return -2 * ll + p * np.log(N), -2 * ll + 2 * p
