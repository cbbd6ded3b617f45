"""Reference implementations for lab 01 (two means), instructor side only.

The model: heights x_i (cm) come from one of two groups with equal weights 1/2 and a
known, shared standard deviation sigma (cm, a standard deviation, not a variance):

    p(x) = 1/2 N(x | mu1, sigma^2) + 1/2 N(x | mu2, sigma^2)

Written independently of the notebook's solution cells: vectorised over points and
computed in the log domain (scipy's ``norm.logpdf`` and ``logsumexp``), so that a point
far from both means gives finite log-densities and a well-defined P(z = 1 | x) instead of
0/0.

Shapes and units:

    x      (n,)  heights, cm
    mu1    float mean of group 1, cm
    mu2    float mean of group 2, cm
    sigma  float shared standard deviation, cm (> 0)
    z_hat  (n,)  P(z_i = 1 | x_i), the probability that point i came from group 1
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

__all__ = ["log_joint", "e_step", "m_step", "incomplete_loglik", "fit_em"]

LOG_HALF = np.log(0.5)


def log_joint(x, mu1, mu2, sigma) -> np.ndarray:
    """log(1/2 N(x_i | mu_k, sigma^2)) for every point and group k = 1, 2.

    Parameters
    ----------
    x : (n,) array of heights, cm; mu1, mu2 : group means, cm; sigma : shared standard
    deviation, cm.

    Returns
    -------
    (n, 2) array: column 0 for group 1 (mu1), column 1 for group 2 (mu2); natural log of
    a density in 1/cm.
    """
    x = np.asarray(x, dtype=float)
    mus = np.array([mu1, mu2], dtype=float)
    return LOG_HALF + norm.logpdf(x[:, None], loc=mus[None, :], scale=float(sigma))


def e_step(x, mu1, mu2, sigma) -> np.ndarray:
    """P(z_i = 1 | x_i), the probability that point i came from group 1 (mean mu1).

    Returns
    -------
    (n,) array of probabilities in [0, 1] (dimensionless).
    """
    lj = log_joint(x, mu1, mu2, sigma)
    return np.exp(lj[:, 0] - logsumexp(lj, axis=1))


def m_step(x, z_hat) -> tuple[float, float]:
    """The means that maximise the expected complete log-likelihood given z_hat.

    Parameters
    ----------
    x : (n,) heights, cm; z_hat : (n,) P(z_i = 1 | x_i).

    Returns
    -------
    (mu1, mu2) as floats, cm: mu1 = sum z_hat x / sum z_hat,
    mu2 = sum (1 - z_hat) x / sum (1 - z_hat).
    """
    x = np.asarray(x, dtype=float)
    w1 = np.asarray(z_hat, dtype=float)
    w2 = 1.0 - w1
    return float(w1 @ x / w1.sum()), float(w2 @ x / w2.sum())


def incomplete_loglik(x, mu1, mu2, sigma) -> float:
    """sum_i log(1/2 N(x_i | mu1, sigma^2) + 1/2 N(x_i | mu2, sigma^2)), a float (log of a
    density in cm^-n)."""
    return float(np.sum(logsumexp(log_joint(x, mu1, mu2, sigma), axis=1)))


def fit_em(x, mu1, mu2, sigma, *, n_iter: int = 50):
    """Run EM on the two means from the given start (sigma stays fixed).

    Returns
    -------
    (mu1, mu2) after n_iter iterations (one E step then one M step each), and the list of
    incomplete log-likelihoods [l(theta_0), l(theta_1), ...], one per parameter set visited.
    """
    history = [incomplete_loglik(x, mu1, mu2, sigma)]
    for _ in range(n_iter):
        mu1, mu2 = m_step(x, e_step(x, mu1, mu2, sigma))
        history.append(incomplete_loglik(x, mu1, mu2, sigma))
    return (mu1, mu2), history
