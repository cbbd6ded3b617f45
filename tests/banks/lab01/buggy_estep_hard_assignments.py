"""e_step: hard 0/1 assignments to the nearer mean (as in k-means) instead of probabilities.

Visible mistake: e_step.hard_assignments.
"""

import numpy as np
from scipy.stats import norm


def e_step(x, mu1, mu2, sigma):
    return (np.abs(x - mu1) < np.abs(x - mu2)).astype(float)


def m_step(x, z_hat):
    mu1 = np.sum(z_hat * x) / np.sum(z_hat)
    mu2 = np.sum((1 - z_hat) * x) / np.sum(1 - z_hat)
    return mu1, mu2


def incomplete_loglik(x, mu1, mu2, sigma):
    log1 = np.log(0.5) + norm.logpdf(x, mu1, sigma)
    log2 = np.log(0.5) + norm.logpdf(x, mu2, sigma)
    return float(np.sum(np.logaddexp(log1, log2)))
