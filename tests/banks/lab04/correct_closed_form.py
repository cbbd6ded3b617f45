"""Correct: ll from its closed form (log cosh written with np.logaddexp), the gradient from
the responsibilities of the two components, the Hessian with sech^2 computed from exp(-2|a|)."""

import numpy as np

LOG_2PI = np.log(2.0 * np.pi)


def log_density(x, mu, sigma):
    x = np.array(x, dtype=float)
    if sigma <= 0:
        out = np.full(x.shape, -np.inf)
        out[np.isclose(np.abs(x), abs(mu), rtol=0.0, atol=0.0)] = np.inf
        return out
    a = -((x - mu) ** 2) / (2 * sigma ** 2)
    b = -((x + mu) ** 2) / (2 * sigma ** 2)
    return np.logaddexp(a, b) - np.log(2.0) - np.log(sigma) - 0.5 * LOG_2PI


def ll(mu, sigma):
    if sigma <= 0:
        return float("inf") if abs(mu) == 1.0 else float("-inf")
    a = mu / sigma ** 2
    log_cosh = np.logaddexp(a, -a) - np.log(2.0)
    return float(2.0 * (-np.log(sigma) - 0.5 * LOG_2PI - (1.0 + mu ** 2) / (2.0 * sigma ** 2) + log_cosh))


def grad_ll(mu, sigma):
    x = np.array([1.0, -1.0])
    r = 1.0 / (1.0 + np.exp(-2.0 * mu * x / sigma ** 2))       # P(+ component | x)
    d_mu = np.sum(r * (x - mu) - (1 - r) * (x + mu)) / sigma ** 2
    d_sigma = np.sum(-1.0 / sigma + (r * (x - mu) ** 2 + (1 - r) * (x + mu) ** 2) / sigma ** 3)
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
    rows = []
    mu = mu0
    for sigma in sigmas:
        k = 0
        while k < n_inner:
            mu = np.tanh(mu / (sigma * sigma))
            k += 1
        rows.append([mu, sigma])
    return np.array(rows, dtype=float).reshape(len(sigmas), 2)
