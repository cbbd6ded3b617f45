"""m_step: rounds z_hat to 0/1 (z_hat > 0.5) before averaging.

Visible mistake: m_step.zero_weight_group.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return np.exp(log1 - np.logaddexp(log1, log2))


def m_step(x, z_hat):
    in_group1 = z_hat > 0.5
    return x[in_group1].mean(), x[~in_group1].mean()


def incomplete_loglik(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return float(np.sum(np.logaddexp(log1, log2)))
