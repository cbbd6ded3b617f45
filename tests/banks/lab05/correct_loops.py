"""Correct: plain Python loops over points and components."""

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
    N, D = X.shape
    M = len(sigma)
    a = np.asarray(logits, float)
    pi = np.exp(a - a.max())
    pi = pi / pi.sum()
    d_mu, d_sigma, d_logits = np.zeros((M, D)), np.zeros(M), np.zeros(M)
    for i in range(N):
        logs = np.array([np.log(pi[j]) - D * np.log(sigma[j]) - 0.5 * D * np.log(2 * np.pi)
                         - np.sum((X[i] - mu[j]) ** 2) / (2 * sigma[j] ** 2) for j in range(M)])
        g = np.exp(logs - logsumexp(logs))
        for j in range(M):
            d_mu[j] += g[j] * (mu[j] - X[i]) / sigma[j] ** 2
            d_sigma[j] += g[j] * (D / sigma[j] - np.sum((X[i] - mu[j]) ** 2) / sigma[j] ** 3)
            d_logits[j] -= g[j] - pi[j]
    return d_mu, d_sigma, d_logits


def m_step_isotropic(X, gamma):
    N, D = X.shape
    M = gamma.shape[1]
    mu, sigma2, pi = np.zeros((M, D)), np.zeros(M), np.zeros(M)
    for j in range(M):
        Nj = 0.0
        for i in range(N):
            Nj += gamma[i, j]
            mu[j] += gamma[i, j] * X[i]
        mu[j] /= Nj
        for i in range(N):
            sigma2[j] += gamma[i, j] * np.dot(X[i] - mu[j], X[i] - mu[j])
        sigma2[j] /= D * Nj
        pi[j] = Nj / N
    return mu, sigma2, pi


def running_mean_var(x):
    n = len(x)
    means, variances = [], []
    total = 0.0
    for k in range(n):
        total += x[k]
        m = total / (k + 1)
        means.append(m)
        variances.append(sum((x[i] - m) ** 2 for i in range(k + 1)) / (k + 1))
    return np.array(means), np.array(variances)


def reset_starved(X, gamma, mu, sigma2, pi, candidates):
    N, D = X.shape
    M = len(pi)
    new_mu, new_s2, new_pi = np.array(mu, float), np.array(sigma2, float), np.array(pi, float)
    centre = X.mean(axis=0)
    var = sum(np.sum((x - centre) ** 2) for x in X) / (N * D)
    for j in range(M):
        if sum(gamma[:, j]) < N / (2 * M):
            new_mu[j] = X[int(candidates[j])]
            new_s2[j] = var
            new_pi[j] = 1 / M
    return new_mu, new_s2, new_pi / sum(new_pi)


def merge_candidates(gamma):
    M = gamma.shape[1]
    scored = []
    for i in range(M):
        for j in range(i + 1, M):
            scored.append((float(np.dot(gamma[:, i], gamma[:, j])), i, j))
    scored.sort(key=lambda t: -t[0])
    pairs = np.array([[i, j] for _, i, j in scored], dtype=int)
    return pairs, np.array([s for s, _, _ in scored])


def split_criterion(X, gamma, mu, sigma2):
    N, D = X.shape
    M = gamma.shape[1]
    J = np.zeros(M)
    for k in range(M):
        Nk = gamma[:, k].sum()
        for n in range(N):
            f = gamma[n, k] / Nk
            if f > 0:
                log_p = -0.5 * D * np.log(2 * np.pi * sigma2[k]) - np.sum((X[n] - mu[k]) ** 2) / (2 * sigma2[k])
                J[k] += f * (np.log(f) - log_p)
    return J


def information_criteria(X, mu, Sigma, pi):
    N, D = X.shape
    K = len(pi)
    ll = 0.0
    for n in range(N):
        terms = []
        for k in range(K):
            diff = X[n] - mu[k]
            sign, logdet = np.linalg.slogdet(Sigma[k])
            terms.append(np.log(pi[k]) - 0.5 * (D * np.log(2 * np.pi) + logdet
                                                + diff @ np.linalg.solve(Sigma[k], diff)))
        ll += logsumexp(terms)
    p = K * D + K * D * (D + 1) // 2 + (K - 1)
    return float(-2 * ll + p * np.log(N)), float(-2 * ll + 2 * p)
