"""Correct: norm.logpdf on an (n, 2) grid of points and means with scipy.special.logsumexp,
np.isin for the Dirac atoms, the Hessian by differentiating the closed form in a = mu / sigma^2."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm


def log_density(x, mu, sigma):
    x = np.asarray(x, dtype=float)
    if not sigma > 0:
        return np.where(np.isin(x, [mu, -mu]), np.inf, -np.inf)
    means = np.array([mu, -mu])
    return logsumexp(norm.logpdf(x[:, None], loc=means[None, :], scale=sigma), axis=1) - np.log(2)


def ll(mu, sigma):
    return log_density(np.array([1.0, -1.0]), mu, sigma).sum().item()


def grad_ll(mu, sigma):
    a = mu / sigma ** 2
    dl_da = 2.0 * np.tanh(a)                        # d/da of 2 log cosh a
    d_mu = dl_da / sigma ** 2 - 2.0 * mu / sigma ** 2
    d_sigma = -2.0 / sigma + 2.0 * (1.0 + mu ** 2) / sigma ** 3 + dl_da * (-2.0 * mu / sigma ** 3)
    return np.stack([d_mu, d_sigma])


def hessian_ll(mu, sigma):
    a = mu / sigma ** 2
    f1 = 2.0 * np.tanh(a)                           # d/da 2 log cosh a
    f2 = 2.0 / np.cosh(min(abs(a), 300.0)) ** 2     # d2/da2 2 log cosh a
    a_mu, a_sig = 1.0 / sigma ** 2, -2.0 * mu / sigma ** 3
    a_mu_sig, a_sig_sig = -2.0 / sigma ** 3, 6.0 * mu / sigma ** 4
    h_mm = f2 * a_mu ** 2 - 2.0 / sigma ** 2
    h_ms = f2 * a_mu * a_sig + f1 * a_mu_sig + 4.0 * mu / sigma ** 3
    h_ss = 2.0 / sigma ** 2 - 6.0 * (1.0 + mu ** 2) / sigma ** 4 + f2 * a_sig ** 2 + f1 * a_sig_sig
    return np.array([[h_mm, h_ms], [h_ms, h_ss]])


def anneal(mu0, sigmas, n_inner):
    sigmas = np.array(sigmas, dtype=float)
    mus = np.empty_like(sigmas)
    mu = mu0
    for t in range(sigmas.size):
        for _ in range(n_inner):
            mu = np.tanh(mu / sigmas[t] ** 2)
        mus[t] = mu
    return np.column_stack([mus, sigmas])
