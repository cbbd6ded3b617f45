"""compute_q: leaves out the entropy term (the expected complete log-likelihood only).

Visible mistake: compute_q.no_entropy.
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
    return float(np.sum(gamma * b))


def update_mu(x, gamma):
    return gamma.T @ x / gamma.sum(axis=0)


def update_sigma(x, gamma, mu):
    return np.sqrt(np.sum(gamma * (x[:, None] - mu) ** 2, axis=0) / gamma.sum(axis=0))


def update_lambda(gamma):
    return gamma.mean(axis=0)
