"""Correct: fully vectorised with einsum, batched inverse and slogdet."""

import numpy as np
from scipy.special import logsumexp


def _log_joint(X, mu, Sigma, pi):
    D = X.shape[1]
    diff = X[:, None, :] - mu[None, :, :]                      # (N, K, D)
    P = np.linalg.inv(Sigma)                                   # (K, D, D)
    maha = np.einsum("nki,kij,nkj->nk", diff, P, diff)
    _, logdet = np.linalg.slogdet(Sigma)                       # (K,)
    return np.log(pi)[None, :] - 0.5 * (D * np.log(2 * np.pi) + logdet[None, :] + maha)


def e_step(X, mu, Sigma, pi):
    lj = _log_joint(X, mu, Sigma, pi)
    return np.exp(lj - logsumexp(lj, axis=1)[:, None])


def m_step(X, gamma):
    Nk = np.einsum("nk->k", gamma)
    mu = np.einsum("nk,nd->kd", gamma, X) / Nk[:, None]
    diff = X[:, None, :] - mu[None, :, :]
    Sigma = np.einsum("nk,nki,nkj->kij", gamma, diff, diff) / Nk[:, None, None]
    return mu, Sigma, Nk / len(X)


def loglik(X, mu, Sigma, pi):
    return float(np.sum(logsumexp(_log_joint(X, mu, Sigma, pi), axis=1)))
