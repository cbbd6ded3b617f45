"""compute_q: gamma * np.log(gamma) gives NaN where gamma = 0 (0 log 0 should be 0).

Visible mistake: compute_q.zero_log_zero.
"""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm


def compute_loglik(x, lam, mu, sigma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return float(np.sum(logsumexp(b, axis=1)))


def calc_probs(x, lam, mu, sigma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return np.exp(b - logsumexp(b, axis=1, keepdims=True))


def compute_q(x, lam, mu, sigma, gamma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return float(np.sum(gamma * b) - np.sum(gamma * np.log(gamma)))


def update_mu(x, gamma):
    return gamma.T @ x / gamma.sum(axis=0)


def update_sigma(x, gamma, mu):
    return np.sqrt(np.sum(gamma * (x[:, None] - mu) ** 2, axis=0) / gamma.sum(axis=0))


def update_lambda(gamma):
    return gamma.mean(axis=0)
