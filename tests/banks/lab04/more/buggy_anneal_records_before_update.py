"""anneal: row t records mu before the inner loop at sigmas[t], not after it.

Visible mistake: anneal.records_before_update.
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
    t = np.tanh(mu / sigma ** 2)
    s = 1.0 - t ** 2
    h_mm = 2.0 * (s / sigma ** 2 - 1.0) / sigma ** 2
    h_ms = -4.0 * (t - mu) / sigma ** 3 - 4.0 * mu * s / sigma ** 5
    h_ss = 2.0 * (1.0 / sigma ** 2 - 3.0 * (1.0 + mu ** 2 - 2.0 * mu * t) / sigma ** 4 + 4.0 * mu ** 2 * s / sigma ** 6)
    return np.array([[h_mm, h_ms], [h_ms, h_ss]])


def anneal(mu0, sigmas, n_inner):
    sigmas = np.asarray(sigmas, dtype=float)
    path = np.zeros((len(sigmas), 2))
    mu = float(mu0)
    for t, sigma in enumerate(sigmas):
        path[t] = mu, sigma
        for _ in range(n_inner):
            mu = np.tanh(mu / sigma ** 2)
    return path
