"""e_step: ratio of norm.pdf densities, 0/0 = NaN for a height far from both means. Right on every ordinary case.

Visible mistake: e_step.density_underflow.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    p1 = 0.5 * norm.pdf(x, mu1, sigma)
    p2 = 0.5 * norm.pdf(x, mu2, sigma)
    return p1 / (p1 + p2)


def m_step(x, z_hat):
    mu1 = np.sum(z_hat * x) / np.sum(z_hat)
    mu2 = np.sum((1 - z_hat) * x) / np.sum(1 - z_hat)
    return mu1, mu2


def incomplete_loglik(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return float(np.sum(np.logaddexp(log1, log2)))
