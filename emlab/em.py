"""The EM loop, built from the functions you write, and a k-means start.

Nothing here computes a responsibility, a density or a log-likelihood: :func:`run_em`
only calls *your* ``e_step``, ``m_step`` and ``loglik`` in the right order and keeps a
record of every step, so that the lab can plot and check it.

Shapes follow scikit-learn's ``sklearn.mixture`` (N points, D features, K components)::

    X      (N, D)     data, one row per point
    mu     (K, D)     component means, one row per component
    Sigma  (K, D, D)  component covariances, Sigma[k] is D x D
    pi     (K,)       mixing weights, non-negative, summing to 1
    gamma  (N, K)     responsibilities, gamma[n, k] = p(z_n = k | x_n), rows sum to 1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["EMHistory", "run_em", "kmeans_init"]


@dataclass
class EMHistory:
    """Everything an EM run visited, one entry per parameter set.

    Index ``t`` is "after ``t`` iterations" (``t = 0`` is the start); one iteration is
    one E step followed by one M step.

    Attributes
    ----------
    mu, Sigma, pi : lists of arrays of shapes (K, D), (K, D, D), (K,)
        The parameters theta_t, for t = 0, 1, ..., n_iter.
    gamma : list of arrays of shape (N, K)
        ``gamma[t]`` = e_step(X, theta_t): the responsibilities under theta_t (the ones
        the next M step uses; the last entry is computed for plotting only).
    loglik : list of float
        ``loglik[t]`` = loglik(X, theta_t), in nats (natural logarithm).
    n_iter : int
        Number of iterations done (so every list has ``n_iter + 1`` entries).
    stopped_by_tol : bool
        True if the run stopped because the log-likelihood increased by less than
        ``tol``; False if it used all ``max_iter`` iterations (or had no ``tol``).
    tol : float or None
        The tolerance the run used.
    """

    mu: list = field(default_factory=list)
    Sigma: list = field(default_factory=list)
    pi: list = field(default_factory=list)
    gamma: list = field(default_factory=list)
    loglik: list = field(default_factory=list)
    n_iter: int = 0
    stopped_by_tol: bool = False
    tol: float | None = None

    def params(self, t: int = -1):
        """The parameters after ``t`` iterations (default: the last) as (mu, Sigma, pi)."""
        return self.mu[t], self.Sigma[t], self.pi[t]

    def __repr__(self) -> str:  # short: the lists can be long
        if not self.loglik:
            return "EMHistory(empty)"
        return (f"EMHistory(n_iter={self.n_iter}, stopped_by_tol={self.stopped_by_tol}, "
                f"loglik {self.loglik[0]:.4f} -> {self.loglik[-1]:.4f})")


def _as_params(mu, Sigma, pi, where: str):
    mu = np.array(mu, dtype=float)  # np.array copies: the history never aliases your arrays
    Sigma = np.array(Sigma, dtype=float)
    pi = np.array(pi, dtype=float)
    if mu.ndim != 2 or Sigma.shape != (mu.shape[0], mu.shape[1], mu.shape[1]) or pi.shape != (mu.shape[0],):
        raise ValueError(
            f"{where}: expected mu (K, D), Sigma (K, D, D) and pi (K,) with the same K and D; got "
            f"mu {mu.shape}, Sigma {Sigma.shape}, pi {pi.shape}. Run check_m_step(m_step) to find out more.")
    return mu, Sigma, pi


def _as_gamma(gamma, N: int, K: int):
    gamma = np.array(gamma, dtype=float)
    if gamma.shape != (N, K):
        raise ValueError(
            f"e_step returned an array of shape {gamma.shape}; expected ({N}, {K}) (one row per point, "
            "one column per component). Run check_e_step(e_step) to find out more.")
    return gamma


def _as_loglik(value) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.size != 1:
        raise ValueError(f"loglik returned an array of shape {arr.shape}; expected one number (the sum over "
                         "all points). Run check_loglik(loglik) to find out more.")
    return float(arr.reshape(()))


def run_em(
    X: np.ndarray,
    mu: np.ndarray,
    Sigma: np.ndarray,
    pi: np.ndarray,
    e_step: Callable,
    m_step: Callable,
    loglik: Callable,
    *,
    max_iter: int = 100,
    tol: float | None = None,
) -> EMHistory:
    """Run EM from (mu, Sigma, pi) with the E step, M step and log-likelihood you pass in.

    Each iteration is::

        gamma = e_step(X, mu, Sigma, pi)      # (N, K)
        mu, Sigma, pi = m_step(X, gamma)      # (K, D), (K, D, D), (K,)
        l = loglik(X, mu, Sigma, pi)          # float, in nats

    Parameters
    ----------
    X : array of shape (N, D)
        The data, one row per point.
    mu : array of shape (K, D)
        Starting means, one row per component.
    Sigma : array of shape (K, D, D)
        Starting covariances.
    pi : array of shape (K,)
        Starting mixing weights (non-negative, summing to 1).
    e_step, m_step, loglik : callables
        Your functions, with the signatures above.
    max_iter : int
        The most iterations to run.
    tol : float or None
        Stop after the first iteration that raises the log-likelihood by less than
        ``tol`` (in nats, summed over the N points). None: always run ``max_iter``.

    Returns
    -------
    EMHistory
        The parameters, responsibilities and log-likelihoods after 0, 1, ..., n_iter
        iterations. Your arrays are copied, never modified.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X should have shape (N, D); got {X.shape}. For one feature use X.reshape(-1, 1).")
    mu, Sigma, pi = _as_params(mu, Sigma, pi, "the starting parameters")
    N, K = X.shape[0], mu.shape[0]
    hist = EMHistory(tol=tol)

    def record(mu, Sigma, pi):
        hist.mu.append(mu)
        hist.Sigma.append(Sigma)
        hist.pi.append(pi)
        hist.loglik.append(_as_loglik(loglik(X, mu.copy(), Sigma.copy(), pi.copy())))

    record(mu, Sigma, pi)
    for _ in range(max_iter):
        gamma = _as_gamma(e_step(X, mu.copy(), Sigma.copy(), pi.copy()), N, K)
        hist.gamma.append(gamma)
        mu, Sigma, pi = _as_params(*m_step(X, gamma.copy()), "m_step's result")
        record(mu, Sigma, pi)
        hist.n_iter += 1
        if tol is not None and hist.loglik[-1] - hist.loglik[-2] < tol:
            hist.stopped_by_tol = True
            break
    hist.gamma.append(_as_gamma(e_step(X, mu.copy(), Sigma.copy(), pi.copy()), N, K))
    return hist


def kmeans_init(X: np.ndarray, K: int, seed: int, *, max_iter: int = 100):
    """A starting point for EM from plain k-means (Lloyd's algorithm), seeded.

    The K centres start at K distinct data points drawn with
    ``np.random.default_rng(seed)``; then points are assigned to their nearest centre
    (Euclidean distance) and each centre moves to the mean of its points, until no
    assignment changes. A cluster that empties is restarted at the point farthest from
    its centre.

    Parameters
    ----------
    X : array of shape (N, D)
        The data (standardise it first: k-means measures plain Euclidean distance).
    K : int
        Number of clusters (components).
    seed : int
        Seed of the random choice of starting centres: the same seed gives the same start.
    max_iter : int
        The most assignment/update rounds.

    Returns
    -------
    mu : array of shape (K, D)
        The cluster centres.
    Sigma : array of shape (K, D, D)
        Each cluster's maximum-likelihood covariance (divided by its size); a cluster of
        D points or fewer gets the covariance of all the data instead.
    pi : array of shape (K,)
        The fraction of the points in each cluster.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X should have shape (N, D); got {X.shape}.")
    N, D = X.shape
    if not 1 <= K <= N:
        raise ValueError(f"K must be between 1 and N = {N}; got {K}.")
    rng = np.random.default_rng(seed)
    centres = X[rng.choice(N, size=K, replace=False)].copy()
    labels = None
    for _ in range(max_iter):
        dist2 = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)  # (N, K)
        new = np.argmin(dist2, axis=1)
        moved = np.zeros(N, dtype=bool)
        for k in range(K):
            if not np.any(new == k):  # an empty cluster takes the point worst served
                served = np.where(moved, -np.inf, dist2[np.arange(N), new])
                far = int(np.argmax(served))
                new[far], moved[far] = k, True
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack([X[labels == k].mean(axis=0) for k in range(K)])
    overall = np.atleast_2d(np.cov(X.T, bias=True))
    Sigma = np.empty((K, D, D))
    for k in range(K):
        members = X[labels == k]
        Sigma[k] = np.atleast_2d(np.cov(members.T, bias=True)) if len(members) > D else overall
    pi = np.bincount(labels, minlength=K) / N
    return centres, Sigma, pi
