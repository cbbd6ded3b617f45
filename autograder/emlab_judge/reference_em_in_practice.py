"""Reference implementation of lab 05 (EM in practice). Trusted: never visible to students.

Mixtures of M isotropic Gaussians N(x | mu_j, sigma_j^2 I) in D dimensions, mixing
weights pi_j = softmax(logits)_j. Shapes (N points)::

    X (N, D)   mu (M, D)   sigma (M,) standard deviations   sigma2 (M,) variances
    logits (M,)   pi (M,)   gamma (N, M) responsibilities

Log-likelihoods are in nats.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax

__all__ = ["log_joint", "responsibilities", "grad_neg_loglik", "m_step_isotropic", "running_mean_var",
           "reset_starved", "merge_candidates", "split_criterion", "information_criteria",
           "full_loglik", "n_parameters_full"]


def log_joint(X, mu, sigma2, pi):
    """(N, M): log pi_j + log N(x_i | mu_j, sigma2_j I)."""
    X = np.asarray(X, float)
    mu = np.asarray(mu, float)
    sigma2 = np.asarray(sigma2, float)
    D = X.shape[1]
    sq = ((X[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    return (np.log(np.asarray(pi, float))[None, :] - 0.5 * D * np.log(2 * np.pi * sigma2)[None, :]
            - sq / (2 * sigma2[None, :]))


def responsibilities(X, mu, sigma2, pi):
    lj = log_joint(X, mu, sigma2, pi)
    return np.exp(lj - logsumexp(lj, axis=1, keepdims=True))


def grad_neg_loglik(X, mu, sigma, logits):
    """Gradient of E = -sum_i log sum_j pi_j N(x_i | mu_j, sigma_j^2 I), pi = softmax(logits).

    Returns (d_mu (M, D), d_sigma (M,), d_logits (M,))."""
    X = np.asarray(X, float)
    mu = np.asarray(mu, float)
    sigma = np.asarray(sigma, float)
    D = X.shape[1]
    pi = softmax(np.asarray(logits, float))
    g = responsibilities(X, mu, sigma ** 2, pi)
    diff = X[:, None, :] - mu[None, :, :]                       # (N, M, D)
    sq = (diff ** 2).sum(-1)                                      # (N, M)
    d_mu = -(g[:, :, None] * diff).sum(0) / sigma[:, None] ** 2
    d_sigma = (g * (D / sigma[None, :] - sq / sigma[None, :] ** 3)).sum(0)
    d_logits = -(g - pi[None, :]).sum(0)
    return d_mu, d_sigma, d_logits


def m_step_isotropic(X, gamma):
    X = np.asarray(X, float)
    gamma = np.asarray(gamma, float)
    N, D = X.shape
    Nk = gamma.sum(0)
    mu = gamma.T @ X / Nk[:, None]
    sq = ((X[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
    sigma2 = (gamma * sq).sum(0) / (D * Nk)
    return mu, sigma2, Nk / N


def running_mean_var(x):
    """Means and ML variances (divide by n) of x[:1], x[:2], ..., x[:n]."""
    x = np.asarray(x, float)
    n = np.arange(1, x.size + 1)
    mean = np.cumsum(x) / n
    # exact two-pass variance of each prefix (no cancellation)
    var = np.array([np.mean((x[:k] - mean[k - 1]) ** 2) for k in n])
    return mean, var


def reset_starved(X, gamma, mu, sigma2, pi, candidates):
    X = np.asarray(X, float)
    gamma = np.asarray(gamma, float)
    mu = np.array(mu, float)
    sigma2 = np.array(sigma2, float)
    pi = np.array(pi, float)
    N, D = X.shape
    M = mu.shape[0]
    starved = gamma.sum(0) < N / (2 * M)
    data_var = ((X - X.mean(0)) ** 2).sum() / (N * D)
    idx = np.asarray(candidates, int)
    mu[starved] = X[idx[starved]]
    sigma2[starved] = data_var
    pi[starved] = 1.0 / M
    return mu, sigma2, pi / pi.sum()


def merge_criterion_matrix(gamma):
    gamma = np.asarray(gamma, float)
    return gamma.T @ gamma


def merge_candidates(gamma):
    """(pairs (P, 2) int with i < j, J (P,)) in decreasing order of J_merge = gamma_i . gamma_j."""
    Jm = merge_criterion_matrix(gamma)
    i, j = np.triu_indices(Jm.shape[0], k=1)
    J = Jm[i, j]
    order = np.argsort(-J, kind="stable")
    return np.column_stack([i, j])[order], J[order]


def split_criterion(X, gamma, mu, sigma2):
    """(M,): sum_n f_k(x_n) log(f_k(x_n) / N(x_n | mu_k, sigma2_k I)), f_k = gamma_nk / N_k."""
    gamma = np.asarray(gamma, float)
    w = gamma / gamma.sum(0, keepdims=True)
    lp = log_joint(X, mu, sigma2, np.ones(len(sigma2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(w > 0, w * (np.log(np.where(w > 0, w, 1.0)) - lp), 0.0)
    return terms.sum(0)


def full_loglik(X, mu, Sigma, pi):
    from scipy.stats import multivariate_normal
    X = np.asarray(X, float)
    lj = np.column_stack([np.log(pi[k]) + multivariate_normal(mu[k], Sigma[k]).logpdf(X).reshape(-1)
                          for k in range(len(pi))])
    return float(logsumexp(lj, axis=1).sum())


def n_parameters_full(K, D):
    return K * D + K * D * (D + 1) // 2 + K - 1


def information_criteria(X, mu, Sigma, pi):
    """(BIC, AIC) of a full-covariance mixture: -2 l + p log N and -2 l + 2 p."""
    X = np.asarray(X, float)
    N, D = X.shape
    K = len(pi)
    ll = full_loglik(X, np.asarray(mu, float), np.asarray(Sigma, float), np.asarray(pi, float))
    p = n_parameters_full(K, D)
    return -2 * ll + p * np.log(N), -2 * ll + 2 * p
