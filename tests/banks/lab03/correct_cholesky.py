"""Correct: hand-written log-domain density through a Cholesky factor and triangular solves."""

import numpy as np
from scipy.linalg import cho_factor, cho_solve


def _log_gaussian(X, mu, Sigma):
    N, D = X.shape
    K = mu.shape[0]
    out = np.empty((N, K))
    for k in range(K):
        c, lower = cho_factor(Sigma[k], lower=True)
        diff = X - mu[k]
        sol = cho_solve((c, lower), diff.T)          # Sigma^-1 (x - mu), shape (D, N)
        maha = np.sum(diff.T * sol, axis=0)
        log_det = 2 * np.log(np.diag(c)).sum()
        out[:, k] = -0.5 * (maha + log_det + D * np.log(2 * np.pi))
    return out


def _lse(a):
    m = a.max(axis=1, keepdims=True)
    return m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))


def e_step(X, mu, Sigma, pi):
    a = _log_gaussian(X, mu, Sigma) + np.log(pi)
    return np.exp(a - _lse(a))


def m_step(X, gamma):
    Nk = gamma.sum(0)
    mu = (gamma[:, :, None] * X[:, None, :]).sum(0) / Nk[:, None]
    Sigma = np.empty((gamma.shape[1], X.shape[1], X.shape[1]))
    for k in range(gamma.shape[1]):
        diff = X - mu[k]
        Sigma[k] = (diff * gamma[:, [k]]).T.dot(diff) / Nk[k]
    return mu, Sigma, Nk / X.shape[0]


def loglik(X, mu, Sigma, pi):
    a = _log_gaussian(X, mu, Sigma) + np.log(pi)
    return float(_lse(a).sum())
