"""incomplete_loglik: returns the per-point log-likelihoods, an array of shape (n,), not their sum.

Visible mistake: incomplete_loglik.one_value_per_person.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return np.exp(log1 - np.logaddexp(log1, log2))


def m_step(x, z_hat):
    mu1 = np.sum(z_hat * x) / np.sum(z_hat)
    mu2 = np.sum((1 - z_hat) * x) / np.sum(1 - z_hat)
    return mu1, mu2


def incomplete_loglik(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return np.logaddexp(log1, log2)
