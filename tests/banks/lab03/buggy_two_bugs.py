"""e_step, m_step: the E step ignores pi_k and the M step divides the covariances by N.

Visible mistake: e_step.no_pi, m_step.sigma_over_n.
"""

import numpy as np
from scipy.special import logsumexp


def log_gaussian(X, mu, Sigma):
    """log N(x_n | mu_k, Sigma_k) for every point and component, shape (N, K)."""
    N, D = X.shape
    K = mu.shape[0]
    out = np.zeros((N, K))
    for k in range(K):
        diff = X - mu[k]
        inv = np.linalg.inv(Sigma[k])
        _, logdet = np.linalg.slogdet(Sigma[k])
        maha = np.sum((diff @ inv) * diff, axis=1)
        out[:, k] = -0.5 * (D * np.log(2 * np.pi) + logdet + maha)
    return out


def e_step(X, mu, Sigma, pi):
    log_r = log_gaussian(X, mu, Sigma)
    return np.exp(log_r - logsumexp(log_r, axis=1, keepdims=True))


def m_step(X, gamma):
    N, D = X.shape
    K = gamma.shape[1]
    Nk = gamma.sum(axis=0)
    mu = gamma.T @ X / Nk[:, None]
    Sigma = np.zeros((K, D, D))
    for k in range(K):
        diff = X - mu[k]
        Sigma[k] = (gamma[:, k, None] * diff).T @ diff / N
    pi = Nk / N
    return mu, Sigma, pi


def loglik(X, mu, Sigma, pi):
    log_r = np.log(pi) + log_gaussian(X, mu, Sigma)
    return float(np.sum(logsumexp(log_r, axis=1)))
