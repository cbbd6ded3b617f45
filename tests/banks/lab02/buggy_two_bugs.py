"""update_mu, update_lambda: the means divide by n and the weights are the counts N_j.

Visible mistake: update_mu.divided_by_n, update_lambda.counts_not_weights.
"""

import numpy as np
from scipy.special import logsumexp, xlogy
from scipy.stats import norm


def compute_loglik(x, lam, mu, sigma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return float(np.sum(logsumexp(b, axis=1)))


def calc_probs(x, lam, mu, sigma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return np.exp(b - logsumexp(b, axis=1, keepdims=True))


def compute_q(x, lam, mu, sigma, gamma):
    b = np.log(lam) + norm.logpdf(np.asarray(x)[:, None], mu, sigma)
    return float(np.sum(np.where(gamma > 0, gamma * b, 0.0)) - np.sum(xlogy(gamma, gamma)))


def update_mu(x, gamma):
    return gamma.T @ x / len(x)


def update_sigma(x, gamma, mu):
    return np.sqrt(np.sum(gamma * (x[:, None] - mu) ** 2, axis=0) / gamma.sum(axis=0))


def update_lambda(gamma):
    return gamma.sum(axis=0)
