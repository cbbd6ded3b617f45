"""Deterministic inputs for the hidden checks, keyed by assignment and function.

The same key always gives the same inputs, in the kernel and outside it, so a verdict
can be recomputed by trusted code from the outputs alone. Inputs are chosen to catch
real mistakes: K and D other than 2, random means and covariances, unequal weights,
a point far from every component, and arrays the function must not modify.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "cases_for", "FUNCTIONS"]


@dataclass(frozen=True)
class Case:
    """One call of a student's function.

    label : what the inputs exercise, in words a student understands
    kwargs : the arguments, by parameter name
    """

    label: str
    kwargs: dict = field(repr=False)


def _rng(assignment: str, function: str, index: int) -> np.random.Generator:
    seed = zlib.crc32(f"{assignment}/{function}/{index}".encode())
    return np.random.default_rng(seed)


def _random_spd(rng, D):
    A = rng.normal(size=(D, D))
    return A @ A.T / D + 0.3 * np.eye(D)


def _random_params(rng, K, D, *, equal_weights=False, spread=3.0):
    mu = rng.normal(scale=spread, size=(K, D))
    Sigma = np.stack([_random_spd(rng, D) for _ in range(K)])
    pi = np.full(K, 1.0 / K) if equal_weights else rng.dirichlet(np.full(K, 2.0))
    return mu, Sigma, pi


def _sample(rng, mu, Sigma, pi, N):
    z = rng.choice(len(pi), size=N, p=pi)
    return np.stack([rng.multivariate_normal(mu[k], Sigma[k]) for k in z])


def _gmm_cases(assignment, function):
    """(label, K, D, N, equal_weights, far_point) -> X, mu, Sigma, pi."""
    shapes = [
        ("two components in 2-D, equal weights", 2, 2, 40, True, False),
        ("three components in 2-D, unequal weights", 3, 2, 60, False, False),
        ("four components in 3-D, unequal weights", 4, 3, 50, False, False),
        ("two components in 1-D (X has shape (N, 1))", 2, 1, 30, False, False),
        ("three components in 5-D", 3, 5, 45, False, False),
        ("a point far (about 60 standard deviations) from every component", 3, 2, 25, False, True),
    ]
    out = []
    for i, (label, K, D, N, eq, far) in enumerate(shapes):
        rng = _rng(assignment, function, i)
        mu, Sigma, pi = _random_params(rng, K, D, equal_weights=eq)
        X = _sample(rng, mu, Sigma, pi, N)
        if far:
            X[-1] = mu.mean(axis=0) + 60.0 * np.sqrt(Sigma[:, 0, 0].max()) + 60.0 * np.abs(mu).max()
        out.append((label, X, mu, Sigma, pi))
    return out


def _lab03_e_step():
    return [
        Case(label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi})
        for label, X, mu, Sigma, pi in _gmm_cases("03-old-faithful", "e_step")
    ]


def _lab03_loglik():
    return [
        Case(label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi})
        for label, X, mu, Sigma, pi in _gmm_cases("03-old-faithful", "loglik")
    ]


def _lab03_m_step():
    shapes = [
        ("two components in 2-D, soft responsibilities", 2, 2, 40),
        ("three components in 2-D, soft responsibilities", 3, 2, 60),
        ("four components in 3-D, soft responsibilities", 4, 3, 50),
        ("two components in 1-D (X has shape (N, 1))", 2, 1, 30),
        ("three components in 5-D", 3, 5, 45),
    ]
    cases = []
    for i, (label, K, D, N) in enumerate(shapes):
        rng = _rng("03-old-faithful", "m_step", i)
        X = rng.normal(scale=2.0, size=(N, D)) + rng.normal(scale=5.0, size=D)
        gamma = rng.dirichlet(np.full(K, 0.7), size=N)
        cases.append(Case(label, {"X": X, "gamma": gamma}))
    # hard (0/1) responsibilities with unequal group sizes: every formula must divide by N_k
    rng = _rng("03-old-faithful", "m_step", len(shapes))
    X = rng.normal(size=(30, 2)) * [1.0, 3.0]
    z = np.r_[np.zeros(20, int), np.ones(7, int), np.full(3, 2)]
    cases.append(Case("hard 0/1 responsibilities, groups of 20, 7 and 3 points",
                      {"X": X, "gamma": np.eye(3)[z]}))
    return cases


# --------------------------------------------------------------------------- lab 01: two means
# Heights in cm from two groups with equal weights and a known shared standard deviation.
# sigma is never 1 (so a variance used as a standard deviation shows), the means come in
# both orders, and one case holds a height about 60 sigma from both means.

def _two_means_cases(function):
    """(label, x, mu1, mu2, sigma) for e_step and incomplete_loglik."""
    shapes = [  # label, n, mu1, mu2, sigma, far point
        ("50 heights, mu1 > mu2 (178 and 164 cm), sigma 7 cm", 50, 178.0, 164.0, 7.0, False),
        ("80 heights, mu1 < mu2 (162 and 176 cm), sigma 6 cm", 80, 162.0, 176.0, 6.0, False),
        ("30 heights, close means (170 and 173 cm), sigma 9 cm", 30, 170.0, 173.0, 9.0, False),
        ("40 heights, far-apart means (150 and 190 cm), sigma 3 cm", 40, 150.0, 190.0, 3.0, False),
        ("7 heights, mu1 < mu2 (165.5 and 171.2 cm), sigma 2.5 cm", 7, 165.5, 171.2, 2.5, False),
        ("a height about 60 standard deviations from both means", 25, 175.0, 162.0, 5.0, True),
    ]
    out = []
    for i, (label, n, mu1, mu2, sigma, far) in enumerate(shapes):
        rng = _rng("01-two-means", function, i)
        centres = np.where(rng.random(n) < 0.5, mu1, mu2)
        x = np.round(centres + sigma * rng.normal(size=n), 1)  # heights measured to the mm
        if far:
            x[-1] = max(mu1, mu2) + 60.0 * sigma
        out.append((label, x, mu1, mu2, sigma))
    return out


def _lab01_e_step():
    return [Case(label, {"x": x, "mu1": mu1, "mu2": mu2, "sigma": sigma})
            for label, x, mu1, mu2, sigma in _two_means_cases("e_step")]


def _lab01_incomplete_loglik():
    return [Case(label, {"x": x, "mu1": mu1, "mu2": mu2, "sigma": sigma})
            for label, x, mu1, mu2, sigma in _two_means_cases("incomplete_loglik")]


def _lab01_m_step():
    cases = []
    for i, (label, n, alpha) in enumerate([
        ("60 heights, soft z_hat", 60, 1.0),
        ("25 heights, soft z_hat close to 0 or 1", 25, 0.3),
        ("120 heights, soft z_hat", 120, 2.0),
    ]):
        rng = _rng("01-two-means", "m_step", i)
        x = np.round(rng.normal(170.0, 9.0, size=n), 1)
        cases.append(Case(label, {"x": x, "z_hat": rng.beta(alpha, alpha, size=n)}))
    # hard (one-hot) z_hat with unequal group sizes: each mean divides by its own group's size
    rng = _rng("01-two-means", "m_step", 3)
    x = np.round(np.r_[rng.normal(180.0, 6.0, size=9), rng.normal(163.0, 6.0, size=21)], 1)
    z_hat = np.r_[np.ones(9), np.zeros(21)]
    order = rng.permutation(30)
    cases.append(Case("hard 0/1 z_hat, groups of 9 and 21 points", {"x": x[order], "z_hat": z_hat[order]}))
    return cases


_REGISTRY = {
    ("03-old-faithful", "e_step"): _lab03_e_step,
    ("03-old-faithful", "m_step"): _lab03_m_step,
    ("03-old-faithful", "loglik"): _lab03_loglik,
    ("01-two-means", "e_step"): _lab01_e_step,
    ("01-two-means", "m_step"): _lab01_m_step,
    ("01-two-means", "incomplete_loglik"): _lab01_incomplete_loglik,
}

FUNCTIONS = tuple(_REGISTRY)


def cases_for(assignment: str, function: str) -> list[Case]:
    """The hidden-check inputs for one graded function (fresh arrays on every call)."""
    try:
        make = _REGISTRY[(assignment, function)]
    except KeyError:
        known = ", ".join(f"{a}/{f}" for a, f in _REGISTRY)
        raise KeyError(f"no hidden checks for {assignment}/{function}; known: {known}") from None
    return make()
