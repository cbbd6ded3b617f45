"""calc_probs: passes sigma**2 as the scale (a variance used as a standard deviation).

Visible mistake: calc_probs.variance_as_sd.
"""

import numpy as np
from scipy.special import logsumexp, xlogy
from scipy.stats import norm


def compute_loglik(x, lam, mu, sigma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return float(np.sum(logsumexp(b, axis=1)))


def calc_probs(x, lam, mu, sigma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, np.asarray(sigma) ** 2)
    return np.exp(b - logsumexp(b, axis=1, keepdims=True))


def compute_q(x, lam, mu, sigma, gamma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return float(np.sum(np.where(gamma > 0, gamma * b, 0.0)) - np.sum(xlogy(gamma, gamma)))


def update_mu(x, gamma):
    return gamma.T @ x / gamma.sum(axis=0)


def update_sigma(x, gamma, mu):
    return np.sqrt(np.sum(gamma * (x[:, None] - mu) ** 2, axis=0) / gamma.sum(axis=0))


def update_lambda(gamma):
    return gamma.mean(axis=0)
