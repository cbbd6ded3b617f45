"""Correct: explicit loops over points and components, log-domain densities, a hand-made log-sum-exp."""

import math

import numpy as np


def _log_gauss(x, m, S_inv, log_det):
    d = x - m
    D = len(x)
    quad = 0.0
    for i in range(D):
        for j in range(D):
            quad += d[i] * S_inv[i, j] * d[j]
    return -0.5 * (D * math.log(2 * math.pi) + log_det + quad)


def _log_joint(X, mu, Sigma, pi):
    N, K = X.shape[0], mu.shape[0]
    out = np.zeros((N, K))
    for k in range(K):
        S_inv = np.linalg.inv(Sigma[k])
        sign, log_det = np.linalg.slogdet(Sigma[k])
        for n in range(N):
            out[n, k] = math.log(pi[k]) + _log_gauss(X[n], mu[k], S_inv, log_det)
    return out


def e_step(X, mu, Sigma, pi):
    lj = _log_joint(X, mu, Sigma, pi)
    N, K = lj.shape
    gamma = np.zeros((N, K))
    for n in range(N):
        top = max(lj[n])
        weights = [math.exp(lj[n, k] - top) for k in range(K)]
        total = sum(weights)
        for k in range(K):
            gamma[n, k] = weights[k] / total
    return gamma


def m_step(X, gamma):
    N, D = X.shape
    K = gamma.shape[1]
    mu = np.zeros((K, D))
    Sigma = np.zeros((K, D, D))
    pi = np.zeros(K)
    for k in range(K):
        Nk = 0.0
        for n in range(N):
            Nk += gamma[n, k]
        for n in range(N):
            mu[k] += gamma[n, k] * X[n]
        mu[k] /= Nk
        for n in range(N):
            d = X[n] - mu[k]
            Sigma[k] += gamma[n, k] * np.outer(d, d)
        Sigma[k] /= Nk
        pi[k] = Nk / N
    return mu, Sigma, pi


def loglik(X, mu, Sigma, pi):
    lj = _log_joint(X, mu, Sigma, pi)
    total = 0.0
    for n in range(lj.shape[0]):
        top = max(lj[n])
        total += top + math.log(sum(math.exp(v - top) for v in lj[n]))
    return total
