"""Correct: densities through an eigendecomposition of each covariance; np.cov with weights."""

import numpy as np


def _log_joint(X, mu, Sigma, pi):
    N, D = X.shape
    cols = []
    for m, S, w in zip(mu, Sigma, pi):
        vals, vecs = np.linalg.eigh(S)
        z = (X - m) @ vecs / np.sqrt(vals)
        cols.append(np.log(w) - 0.5 * (np.sum(z ** 2, axis=1) + np.sum(np.log(vals)) + D * np.log(2 * np.pi)))
    return np.stack(cols, axis=1)


def _logsumexp_rows(a):
    top = np.max(a, axis=1)
    return top + np.log(np.sum(np.exp(a - top[:, None]), axis=1))


def e_step(X, mu, Sigma, pi):
    lj = _log_joint(X, mu, Sigma, pi)
    return np.exp(lj - _logsumexp_rows(lj)[:, None])


def m_step(X, gamma):
    N, D = X.shape
    K = gamma.shape[1]
    Nk = gamma.sum(axis=0)
    mu = np.array([np.average(X, axis=0, weights=gamma[:, k]) for k in range(K)])
    Sigma = np.array([np.cov(X, rowvar=False, aweights=gamma[:, k], bias=True).reshape(D, D)
                      for k in range(K)])
    return mu, Sigma, Nk / N


def loglik(X, mu, Sigma, pi):
    return float(np.sum(_logsumexp_rows(_log_joint(X, mu, Sigma, pi))))
