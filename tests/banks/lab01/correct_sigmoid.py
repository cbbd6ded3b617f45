"""Correct: P(z = 1 | x) as a logistic function of the log-odds (linear in x when the two
groups share sigma), log-likelihood by shifting with the larger log-density."""

import numpy as np
from scipy.special import expit


def e_step(x, mu1, mu2, sigma):
    log_odds = ((x - mu2) ** 2 - (x - mu1) ** 2) / (2 * sigma ** 2)
    return expit(log_odds)


def m_step(x, z_hat):
    n1 = z_hat.sum()
    n2 = len(x) - n1
    total = x.sum()
    s1 = z_hat @ x
    return s1 / n1, (total - s1) / n2


def incomplete_loglik(x, mu1, mu2, sigma):
    d1 = -((x - mu1) ** 2) / (2 * sigma ** 2)
    d2 = -((x - mu2) ** 2) / (2 * sigma ** 2)
    m = np.maximum(d1, d2)
    per_point = m + np.log(0.5 * np.exp(d1 - m) + 0.5 * np.exp(d2 - m)) - np.log(sigma * np.sqrt(2 * np.pi))
    return per_point.sum()
