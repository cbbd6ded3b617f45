"""Correct: plain Python loops over the heights with the math module, log-sum-exp by hand."""

import math

import numpy as np


def log_half_normal(x, mu, sigma):
    """log(1/2 N(x | mu, sigma^2)) for one height x."""
    return math.log(0.5) - math.log(sigma * math.sqrt(2 * math.pi)) - (x - mu) ** 2 / (2 * sigma ** 2)


def e_step(x, mu1, mu2, sigma):
    out = []
    for xi in x:
        a = log_half_normal(xi, mu1, sigma)
        b = log_half_normal(xi, mu2, sigma)
        m = max(a, b)
        out.append(math.exp(a - m) / (math.exp(a - m) + math.exp(b - m)))
    return np.array(out)


def m_step(x, z_hat):
    s1 = w1 = s2 = w2 = 0.0
    for xi, zi in zip(x, z_hat):
        s1 += zi * xi
        w1 += zi
        s2 += (1 - zi) * xi
        w2 += 1 - zi
    return s1 / w1, s2 / w2


def incomplete_loglik(x, mu1, mu2, sigma):
    total = 0.0
    for xi in x:
        a = log_half_normal(xi, mu1, sigma)
        b = log_half_normal(xi, mu2, sigma)
        m = max(a, b)
        total += m + math.log(math.exp(a - m) + math.exp(b - m))
    return total
