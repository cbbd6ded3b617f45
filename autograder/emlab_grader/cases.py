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


_REGISTRY = {
    ("03-old-faithful", "e_step"): _lab03_e_step,
    ("03-old-faithful", "m_step"): _lab03_m_step,
    ("03-old-faithful", "loglik"): _lab03_loglik,
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
