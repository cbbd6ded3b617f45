"""e_step, incomplete_loglik: e_step returns P(z = 2 | x) and the log-likelihood leaves out the weights 1/2.

Visible mistake: e_step.swapped_groups, incomplete_loglik.no_weights_half.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    log1 = norm.logpdf(x, mu1, sigma)
    log2 = norm.logpdf(x, mu2, sigma)
    return np.exp(log2 - np.logaddexp(log1, log2))


def m_step(x, z_hat):
    mu1 = np.sum(z_hat * x) / np.sum(z_hat)
    mu2 = np.sum((1 - z_hat) * x) / np.sum(1 - z_hat)
    return mu1, mu2


def incomplete_loglik(x, mu1, mu2, sigma):
    return float(np.sum(np.logaddexp(norm.logpdf(x, mu1, sigma), norm.logpdf(x, mu2, sigma))))
