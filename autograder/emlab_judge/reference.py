"""Reference implementations for lab 03 (Old Faithful), instructor side only.

Written independently of the notebook's solution cells: vectorised over points and
components, computed in the log domain through a Cholesky factor of each covariance,
so that a point far from every component gives finite log-densities and well-defined
responsibilities instead of 0/0.

Shapes follow scikit-learn's ``sklearn.mixture``: N points, D features, K components.

    X      (N, D)     data
    mu     (K, D)     component means
    Sigma  (K, D, D)  component covariances (symmetric positive definite)
    pi     (K,)       mixing weights, non-negative, summing to 1
    gamma  (N, K)     responsibilities, rows summing to 1
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

__all__ = ["log_gaussian", "log_joint", "normalise", "e_step", "m_step", "loglik", "fit_em"]


def log_gaussian(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray) -> np.ndarray:
    """log N(x_n | mu_k, Sigma_k) for every point and component.

    Parameters
    ----------
    X : (N, D) array; mu : (K, D) array; Sigma : (K, D, D) array.

    Returns
    -------
    (N, K) array of log-densities (natural log).
    """
    X = np.asarray(X, dtype=float)
    mu = np.asarray(mu, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    N, D = X.shape
    K = mu.shape[0]
    # (x - mu)^T Sigma^-1 (x - mu) = |(x - mu) @ P|^2 with Sigma = L L^T and P = L^-T: one
    # matrix product over the points per component, the mean's share computed once. The
    # factors of all K components come from NumPy's LAPACK in two batched calls (mixing in
    # SciPy's, a second OpenBLAS with threads of its own, made the threads fight: 10x slower
    # on 2 cores).
    L = np.linalg.cholesky(Sigma)  # (K, D, D), lower
    P = np.linalg.inv(L).transpose(0, 2, 1)  # (K, D, D), upper
    shift = np.einsum("kd,kde->ke", mu, P)  # (K, D): mu_k @ P_k
    log_det = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)  # (K,)
    out = np.empty((N, K))
    for k in range(K):  # K is small; each step is vectorised over the N points
        y = X @ P[k]  # (N, D)
        y -= shift[k]
        out[:, k] = np.einsum("nd,nd->n", y, y)
    out += D * np.log(2.0 * np.pi) + log_det
    out *= -0.5
    return out


def log_joint(X, mu, Sigma, pi) -> np.ndarray:
    """log pi_k + log N(x_n | mu_k, Sigma_k), shape (N, K). A zero weight gives -inf."""
    with np.errstate(divide="ignore"):
        log_pi = np.log(np.asarray(pi, dtype=float))
    out = log_gaussian(X, mu, Sigma)
    out += log_pi[None, :]
    return out


def normalise(lj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Responsibilities and log-normalisers from the log-joint, with one ``exp`` pass.

    Parameters
    ----------
    lj : (N, K) array, log pi_k + log N(x_n | mu_k, Sigma_k); overwritten (it becomes gamma).

    Returns
    -------
    gamma : (N, K) array (the memory of ``lj``), rows summing to 1;
    log_norm : (N, 1) array, log p(x_n | theta) = logsumexp over k (the log-sum-exp trick:
    shifted by each row's largest term, so nothing overflows and the largest term is exp(0)).
    """
    top = lj.max(axis=1, keepdims=True)  # (N, 1)
    top[~np.isfinite(top)] = 0.0  # a row of -inf stays -inf below, without inf - inf
    lj -= top
    np.exp(lj, out=lj)
    total = lj.sum(axis=1, keepdims=True)  # in [1, K] where a row has a finite term
    with np.errstate(divide="ignore", invalid="ignore"):  # a row of -inf: gamma NaN, log_norm -inf
        lj /= total
        return lj, np.log(total) + top


def e_step(X, mu, Sigma, pi) -> np.ndarray:
    """Responsibilities gamma[n, k] = p(z_n = k | x_n), shape (N, K), rows sum to 1."""
    return normalise(log_joint(X, mu, Sigma, pi))[0]


def m_step(X, gamma):
    """Maximum-likelihood parameters given responsibilities.

    Returns
    -------
    mu : (K, D); Sigma : (K, D, D), each divided by N_k = sum_n gamma[n, k]; pi : (K,).
    """
    X = np.asarray(X, dtype=float)
    gamma = np.asarray(gamma, dtype=float)
    N = X.shape[0]
    Nk = gamma.sum(axis=0)  # (K,)
    mu = (gamma.T @ X) / Nk[:, None]  # (K, D)
    Sigma = np.empty((len(Nk), X.shape[1], X.shape[1]))
    for k in range(len(Nk)):  # one BLAS product per component: (D, N) @ (N, D)
        diff = X - mu[k]
        Sigma[k] = (gamma[:, k, None] * diff).T @ diff / Nk[k]
    pi = Nk / N
    return mu, Sigma, pi


def loglik(X, mu, Sigma, pi) -> float:
    """Incomplete-data log-likelihood sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k)."""
    return float(np.sum(logsumexp(log_joint(X, mu, Sigma, pi), axis=1)))


def fit_em(X, mu, Sigma, pi, *, n_iter: int = 100, tol: float | None = None):
    """Run EM from the given start.

    Each iteration is one E step followed by one M step. With ``tol`` set, stop after
    the first iteration whose increase in log-likelihood is below ``tol``.

    Returns
    -------
    (mu, Sigma, pi) after the last iteration, and the list of log-likelihoods
    [l(theta_0), l(theta_1), ...] with one entry per parameter set visited.
    """
    X = np.asarray(X, dtype=float)
    mu, Sigma, pi = (np.array(a, dtype=float) for a in (mu, Sigma, pi))
    # the E step's normaliser is also the log-likelihood: one density pass per iteration
    gamma, log_norm = normalise(log_joint(X, mu, Sigma, pi))  # log_norm (N, 1): log p(x_n | theta)
    history = [float(np.sum(log_norm))]
    for _ in range(n_iter):
        mu, Sigma, pi = m_step(X, gamma)
        gamma, log_norm = normalise(log_joint(X, mu, Sigma, pi))
        history.append(float(np.sum(log_norm)))
        if tol is not None and history[-1] - history[-2] < tol:
            break
    return (mu, Sigma, pi), history
