"""Correct: scipy throughout (norm.logpdf, logsumexp, softmax, entr), np.average and einsum."""

import numpy as np
from scipy.special import entr, logsumexp, softmax
from scipy.stats import norm


def log_terms(x, lam, mu, sigma):
    return np.log(lam)[None, :] + norm.logpdf(np.asarray(x)[:, None], loc=mu, scale=sigma)


def compute_loglik(x, lam, mu, sigma):
    return logsumexp(log_terms(x, lam, mu, sigma), axis=1).sum().item()


def calc_probs(x, lam, mu, sigma):
    return softmax(log_terms(x, lam, mu, sigma), axis=1)


def compute_q(x, lam, mu, sigma, gamma):
    b = log_terms(x, lam, mu, sigma)
    expected = np.einsum("ij,ij->", gamma, np.where(gamma > 0, b, 0.0))
    return float(expected + entr(gamma).sum())


def update_mu(x, gamma):
    return np.array([np.average(x, weights=gamma[:, j]) for j in range(gamma.shape[1])])


def update_sigma(x, gamma, mu):
    d2 = (np.asarray(x)[:, None] - np.asarray(mu)[None, :]) ** 2
    return np.sqrt(np.einsum("ij,ij->j", gamma, d2) / np.einsum("ij->j", gamma))


def update_lambda(gamma):
    return gamma.sum(axis=0) / gamma.sum()
