"""Correct: one loop over components building log-densities by hand, max-shifted sums, a
variance-then-square-root update and Python-level normalisations."""

import math

import numpy as np


def log_joint(x, lam, mu, sigma):
    x = np.asarray(x, dtype=float)
    cols = []
    for lam_j, mu_j, sigma_j in zip(lam, mu, sigma):
        cols.append(math.log(lam_j) - math.log(sigma_j) - 0.5 * math.log(2 * math.pi)
                    - (x - mu_j) ** 2 / (2 * sigma_j * sigma_j))
    return np.stack(cols, axis=1)


def compute_loglik(x, lam, mu, sigma):
    b = log_joint(x, lam, mu, sigma)
    m = b.max(axis=1)
    return float(np.sum(m + np.log(np.exp(b - m[:, None]).sum(axis=1))))


def calc_probs(x, lam, mu, sigma):
    b = log_joint(x, lam, mu, sigma)
    m = b.max(axis=1, keepdims=True)
    log_norm = m + np.log(np.exp(b - m).sum(axis=1, keepdims=True))
    return np.exp(b - log_norm)


def compute_q(x, lam, mu, sigma, gamma):
    b = log_joint(x, lam, mu, sigma)
    g = np.asarray(gamma, dtype=float)
    mask = g > 0
    return float(np.sum(g[mask] * b[mask]) - np.sum(g[mask] * np.log(g[mask])))


def update_mu(x, gamma):
    g = np.asarray(gamma, dtype=float)
    return np.dot(np.asarray(x, dtype=float), g) / np.sum(g, axis=0)


def update_sigma(x, gamma, mu):
    g = np.asarray(gamma, dtype=float)
    x = np.asarray(x, dtype=float)
    var = [np.dot(g[:, j], (x - mu[j]) ** 2) / g[:, j].sum() for j in range(g.shape[1])]
    return np.sqrt(np.array(var))


def update_lambda(gamma):
    g = np.asarray(gamma, dtype=float)
    counts = g.sum(axis=0)
    return counts / counts.sum()
