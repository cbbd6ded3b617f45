"""Correct: Q written as the log-likelihood minus the KL gap (with log posteriors), the posterior from
log-ratios to the largest term, updates through explicit effective counts N_j."""

import numpy as np
from scipy.special import logsumexp


def log_joint(x, lam, mu, sigma):
    x = np.reshape(np.array(x, dtype=float), (-1, 1))
    mu, sigma, lam = (np.reshape(np.array(a, dtype=float), (1, -1)) for a in (mu, sigma, lam))
    return np.log(lam) - 0.5 * np.log(2 * np.pi * sigma ** 2) - 0.5 * ((x - mu) / sigma) ** 2


def compute_loglik(x, lam, mu, sigma):
    return float(logsumexp(log_joint(x, lam, mu, sigma), axis=1).sum())


def calc_probs(x, lam, mu, sigma):
    b = log_joint(x, lam, mu, sigma)
    b = b - b.max(axis=1, keepdims=True)
    p = np.exp(b)
    return p / p.sum(axis=1, keepdims=True)


def compute_q(x, lam, mu, sigma, gamma):
    b = log_joint(x, lam, mu, sigma)
    log_post = b - logsumexp(b, axis=1, keepdims=True)
    g = np.array(gamma, dtype=float)
    safe = np.where(g > 0, g, 1.0)
    kl = np.sum(g * (np.log(safe) - np.where(g > 0, log_post, 0.0)))
    return compute_loglik(x, lam, mu, sigma) - float(kl)


def update_mu(x, gamma):
    g = np.array(gamma, dtype=float)
    n_j = g.sum(axis=0)
    return (g * np.array(x, dtype=float)[:, None]).sum(axis=0) / n_j


def update_sigma(x, gamma, mu):
    g = np.array(gamma, dtype=float)
    n_j = g.sum(axis=0)
    dev = np.array(x, dtype=float)[:, None] - np.array(mu, dtype=float)[None, :]
    return ((g * dev * dev).sum(axis=0) / n_j) ** 0.5


def update_lambda(gamma):
    g = np.array(gamma, dtype=float)
    return g.sum(axis=0) / g.shape[0]
