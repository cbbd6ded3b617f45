"""m_step: mu2 is weighted by z_hat instead of 1 - z_hat (copied from mu1).

Visible mistake: m_step.mu2_not_weighted_by_1_minus_z.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return np.exp(log1 - np.logaddexp(log1, log2))


def m_step(x, z_hat):
    mu1 = np.sum(z_hat * x) / np.sum(z_hat)
    mu2 = np.sum(z_hat * x) / np.sum(z_hat)
    return mu1, mu2


def incomplete_loglik(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return float(np.sum(np.logaddexp(log1, log2)))
