"""Correct: scikit-learn's formulation, with the Cholesky factor of each precision matrix."""

import numpy as np
from scipy import linalg
from scipy.special import logsumexp


def _precisions_cholesky(Sigma):
    K, D, _ = Sigma.shape
    prec_chol = np.empty((K, D, D))
    for k, cov in enumerate(Sigma):
        cov_chol = linalg.cholesky(cov, lower=True)
        prec_chol[k] = linalg.solve_triangular(cov_chol, np.eye(D), lower=True).T
    return prec_chol


def _estimate_log_gaussian_prob(X, means, prec_chol):
    N, D = X.shape
    K = means.shape[0]
    log_det = np.sum(np.log(prec_chol.reshape(K, -1)[:, :: D + 1]), axis=1)
    log_prob = np.empty((N, K))
    for k, (m, pc) in enumerate(zip(means, prec_chol)):
        y = X @ pc - m @ pc
        log_prob[:, k] = np.sum(np.square(y), axis=1)
    return -0.5 * (D * np.log(2 * np.pi) + log_prob) + log_det


def _weighted_log_prob(X, mu, Sigma, pi):
    return _estimate_log_gaussian_prob(X, mu, _precisions_cholesky(Sigma)) + np.log(pi)


def e_step(X, mu, Sigma, pi):
    wlp = _weighted_log_prob(X, mu, Sigma, pi)
    log_norm = logsumexp(wlp, axis=1)
    return np.exp(wlp - log_norm[:, np.newaxis])


def m_step(X, gamma):
    nk = gamma.sum(axis=0)
    means = np.dot(gamma.T, X) / nk[:, np.newaxis]
    K, D = means.shape
    covariances = np.empty((K, D, D))
    for k in range(K):
        diff = X - means[k]
        covariances[k] = np.dot(gamma[:, k] * diff.T, diff) / nk[k]
    return means, covariances, nk / X.shape[0]


def loglik(X, mu, Sigma, pi):
    return float(logsumexp(_weighted_log_prob(X, mu, Sigma, pi), axis=1).sum())
