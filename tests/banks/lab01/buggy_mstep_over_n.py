"""m_step: divides both weighted sums by n instead of by sum z_hat and sum (1 - z_hat).

Visible mistake: m_step.divided_by_n.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return np.exp(log1 - np.logaddexp(log1, log2))


def m_step(x, z_hat):
    n = len(x)
    mu1 = np.sum(z_hat * x) / n
    mu2 = np.sum((1 - z_hat) * x) / n
    return mu1, mu2


def incomplete_loglik(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return float(np.sum(np.logaddexp(log1, log2)))
