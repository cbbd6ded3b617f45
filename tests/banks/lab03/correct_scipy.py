"""Correct: scipy.stats.multivariate_normal.logpdf and scipy.special.logsumexp."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


def _log_joint(X, mu, Sigma, pi):
    cols = [np.log(pi[k]) + np.atleast_1d(multivariate_normal(mean=mu[k], cov=Sigma[k]).logpdf(X))
            for k in range(len(pi))]
    return np.column_stack(cols)


def e_step(X, mu, Sigma, pi):
    lj = _log_joint(X, mu, Sigma, pi)
    return np.exp(lj - logsumexp(lj, axis=1, keepdims=True))


def m_step(X, gamma):
    N = X.shape[0]
    Nk = gamma.sum(axis=0)
    mu = gamma.T @ X / Nk[:, None]
    Sigma = []
    for k in range(gamma.shape[1]):
        diff = X - mu[k]
        Sigma.append((gamma[:, k, None] * diff).T @ diff / Nk[k])
    return mu, np.array(Sigma), Nk / N


def loglik(X, mu, Sigma, pi):
    return float(logsumexp(_log_joint(X, mu, Sigma, pi), axis=1).sum())
