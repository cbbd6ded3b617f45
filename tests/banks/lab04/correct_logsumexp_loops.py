"""Correct: loops over the points, scipy.special.logsumexp with weights b = 1/2, derivatives
summed point by point, annealing written as gradient steps mu += sigma^2 / 2 * d ll / d mu."""

import math

import numpy as np
from scipy.special import logsumexp


def log_density(x, mu, sigma):
    out = []
    for xi in x:
        if sigma <= 0:
            out.append(math.inf if xi in (mu, -mu) else -math.inf)
            continue
        terms = [-(xi - m) ** 2 / (2 * sigma ** 2) - math.log(sigma) - 0.5 * math.log(2 * math.pi) for m in (mu, -mu)]
        out.append(logsumexp(terms, b=[0.5, 0.5]))
    return np.array(out)


def ll(mu, sigma):
    total = 0.0
    for xi in (1.0, -1.0):
        total += log_density([xi], mu, sigma)[0]
    return total


def grad_ll(mu, sigma):
    g = np.zeros(2)
    for xi in (1.0, -1.0):
        r = 0.5 * (1.0 + math.tanh(mu * xi / sigma ** 2))     # sigmoid(2 mu x / sigma^2)
        g[0] += (r * (xi - mu) - (1 - r) * (xi + mu)) / sigma ** 2
        g[1] += -1.0 / sigma + (r * (xi - mu) ** 2 + (1 - r) * (xi + mu) ** 2) / sigma ** 3
    return g


def hessian_ll(mu, sigma):
    H = np.zeros((2, 2))
    for xi in (1.0, -1.0):
        r = 0.5 * (1.0 + math.tanh(mu * xi / sigma ** 2))
        dr_da = 2.0 * r * (1 - r)                          # d r / d(mu x / sigma^2)
        u = r * (xi - mu) - (1 - r) * (xi + mu)             # = (2r - 1) x - mu
        v = r * (xi - mu) ** 2 + (1 - r) * (xi + mu) ** 2   # = 1 + mu^2 - 2 (2r - 1) mu x  (x^2 = 1)
        du_dmu = 2 * dr_da * xi * xi / sigma ** 2 - 1.0
        du_dsig = 2 * dr_da * xi * (-2.0 * mu * xi / sigma ** 3)
        dv_dsig = -2 * mu * xi * 2 * dr_da * (-2.0 * mu * xi / sigma ** 3)
        H[0, 0] += du_dmu / sigma ** 2
        H[0, 1] += du_dsig / sigma ** 2 - 2.0 * u / sigma ** 3
        H[1, 1] += 1.0 / sigma ** 2 + dv_dsig / sigma ** 3 - 3.0 * v / sigma ** 4
    H[1, 0] = H[0, 1]
    return H


def anneal(mu0, sigmas, n_inner):
    path = np.empty((len(sigmas), 2))
    mu = float(mu0)
    for t in range(len(sigmas)):
        sigma = float(sigmas[t])
        for _ in range(n_inner):
            mu = mu + sigma ** 2 / 2.0 * grad_ll(mu, sigma)[0]
        path[t, 0] = mu
        path[t, 1] = sigma
    return path
