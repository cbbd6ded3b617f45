"""anneal: sorts the schedule into decreasing order instead of using it in the order given.

Visible mistake: anneal.sorts_schedule.
"""

import numpy as np
from scipy.stats import norm

def log_density(x, mu, sigma):
    x = np.asarray(x, dtype=float)
    if sigma <= 0:
        return np.where((x == mu) | (x == -mu), np.inf, -np.inf)
    return np.log(0.5) + np.logaddexp(norm.logpdf(x, mu, sigma), norm.logpdf(x, -mu, sigma))


def ll(mu, sigma):
    return float(np.sum(log_density(np.array([1.0, -1.0]), mu, sigma)))


def grad_ll(mu, sigma):
    t = np.tanh(mu / sigma ** 2)
    d_mu = 2.0 * (t - mu) / sigma ** 2
    d_sigma = 2.0 * ((1.0 + mu ** 2 - 2.0 * mu * t) / sigma ** 3 - 1.0 / sigma)
    return np.array([d_mu, d_sigma])


def hessian_ll(mu, sigma):
    a = mu / sigma ** 2
    e = np.exp(-2.0 * abs(a))
    sech2 = 4.0 * e / (1.0 + e) ** 2
    t = np.tanh(a)
    h11 = 2.0 / sigma ** 4 * sech2 - 2.0 / sigma ** 2
    h12 = 4.0 * (mu - t) / sigma ** 3 - 4.0 * mu * sech2 / sigma ** 5
    h22 = 2.0 / sigma ** 2 - 6.0 * (1.0 + mu ** 2) / sigma ** 4 + 12.0 * mu * t / sigma ** 4 \
        + 8.0 * mu ** 2 * sech2 / sigma ** 6
    return np.array([[h11, h12], [h12, h22]])


def anneal(mu0, sigmas, n_inner):
    sigmas = np.sort(np.asarray(sigmas, dtype=float))[::-1]  # "a schedule goes down": sorted first
    path = np.zeros((len(sigmas), 2))
    mu = float(mu0)
    for t, sigma in enumerate(sigmas):
        for _ in range(n_inner):
            mu = np.tanh(mu / sigma ** 2)
        path[t] = mu, sigma
    return path
