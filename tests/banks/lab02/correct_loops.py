"""Correct: plain Python loops over points and components with the math module, log-sum-exp by hand."""

import math

import numpy as np


def log_weighted_density(xi, lam_j, mu_j, sigma_j):
    """log(lam_j N(xi | mu_j, sigma_j^2)) for one point and one component."""
    return math.log(lam_j) - math.log(sigma_j * math.sqrt(2 * math.pi)) - (xi - mu_j) ** 2 / (2 * sigma_j ** 2)


def log_sum_exp(values):
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def compute_loglik(x, lam, mu, sigma):
    total = 0.0
    for xi in x:
        total += log_sum_exp([log_weighted_density(xi, lam[j], mu[j], sigma[j]) for j in range(len(lam))])
    return total


def calc_probs(x, lam, mu, sigma):
    rows = []
    for xi in x:
        b = [log_weighted_density(xi, lam[j], mu[j], sigma[j]) for j in range(len(lam))]
        norm_const = log_sum_exp(b)
        rows.append([math.exp(bj - norm_const) for bj in b])
    return np.array(rows)


def compute_q(x, lam, mu, sigma, gamma):
    total = 0.0
    for i, xi in enumerate(x):
        for j in range(len(lam)):
            g = gamma[i][j]
            if g > 0:
                total += g * (log_weighted_density(xi, lam[j], mu[j], sigma[j]) - math.log(g))
    return total


def update_mu(x, gamma):
    k = len(gamma[0])
    out = []
    for j in range(k):
        num = den = 0.0
        for i in range(len(x)):
            num += gamma[i][j] * x[i]
            den += gamma[i][j]
        out.append(num / den)
    return np.array(out)


def update_sigma(x, gamma, mu):
    k = len(gamma[0])
    out = []
    for j in range(k):
        num = den = 0.0
        for i in range(len(x)):
            num += gamma[i][j] * (x[i] - mu[j]) ** 2
            den += gamma[i][j]
        out.append(math.sqrt(num / den))
    return np.array(out)


def update_lambda(gamma):
    n, k = len(gamma), len(gamma[0])
    return np.array([sum(gamma[i][j] for i in range(n)) / n for j in range(k)])
