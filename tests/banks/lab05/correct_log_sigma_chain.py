"""Correct: gradient through log sigma and the chain rule; cumulative sums; lexsort."""

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
    sq = ((X[:, None, :] - mu[None]) ** 2).sum(-1)
    lj = np.log(pi) - D * np.log(sigma) - 0.5 * D * np.log(2 * np.pi) - sq / (2 * sigma ** 2)
    gamma = np.exp(lj - logsumexp(lj, axis=1, keepdims=True))
    Nk = gamma.sum(0)
    d_mu = (Nk[:, None] * mu - gamma.T @ X) / sigma[:, None] ** 2
    d_log_sigma = D * Nk - (gamma * sq).sum(0) / sigma ** 2      # dE/dlog(sigma)
    d_sigma = d_log_sigma / sigma                                 # chain rule
    d_logits = len(X) * pi - Nk
    return d_mu, d_sigma, d_logits


def m_step_isotropic(X, gamma):
    N, D = X.shape
    Nk = gamma.sum(0)
    mu = (gamma.T @ X) / Nk[:, None]
    second = gamma.T @ np.sum(X ** 2, axis=1) / Nk                # E||x||^2 under each component
    sigma2 = (second - np.sum(mu ** 2, axis=1)) / D
    return mu, sigma2, Nk / Nk.sum()


def running_mean_var(x):
    x = np.asarray(x, float)
    shift = x[0]                                                  # shifted sums: no cancellation
    y = x - shift
    n = np.arange(1, len(x) + 1)
    m = np.cumsum(y) / n
    var = np.cumsum(y ** 2) / n - m ** 2
    return m + shift, np.maximum(var, 0.0)


def reset_starved(X, gamma, mu, sigma2, pi, candidates):
    N, D = X.shape
    M = len(pi)
    starved = np.sum(gamma, axis=0) * 2 * M < N
    new_mu = np.where(starved[:, None], X[np.asarray(candidates)], mu)
    new_s2 = np.where(starved, np.var(X, axis=0).mean(), sigma2)
    new_pi = np.where(starved, 1.0 / M, pi)
    return new_mu, new_s2, new_pi / new_pi.sum()


def merge_candidates(gamma):
    M = gamma.shape[1]
    i, j = np.triu_indices(M, 1)
    J = np.einsum("ni,nj->ij", gamma, gamma)[i, j]
    order = np.lexsort((j, i, -J))
    return np.stack([i[order], j[order]], axis=1), J[order]


def split_criterion(X, gamma, mu, sigma2):
    from scipy.special import xlogy
    from scipy.stats import multivariate_normal
    M = gamma.shape[1]
    f = gamma / gamma.sum(0)
    log_p = np.column_stack([np.atleast_1d(multivariate_normal(mu[k], sigma2[k] * np.eye(X.shape[1])).logpdf(X))
                             for k in range(M)])
    return xlogy(f, f).sum(0) - (f * log_p).sum(0)


def information_criteria(X, mu, Sigma, pi):
    N, D = X.shape
    K = len(pi)
    cols = []
    for k in range(K):
        L = np.linalg.cholesky(Sigma[k])
        z = np.linalg.solve(L, (X - mu[k]).T)
        cols.append(np.log(pi[k]) - 0.5 * D * np.log(2 * np.pi) - np.log(np.diag(L)).sum() - 0.5 * (z ** 2).sum(0))
    ll = logsumexp(np.column_stack(cols), axis=1).sum()
    p = (K - 1) + K * (D + D * (D + 1) / 2)
    bic = -2 * ll + p * np.log(N)
    return bic, bic - p * np.log(N) + 2 * p
