"""Deterministic inputs for the hidden checks, keyed by assignment and function.

Each lab's inputs live in :mod:`emlab_grader.labs` (``labNN.py``, its ``CASES``); this module
holds what they share (the :class:`Case`, seeded generators, random mixtures) and the lookup.

The same key always gives the same inputs, in the kernel and outside it, so a verdict
can be recomputed by trusted code from the outputs alone. Inputs are chosen to catch
real mistakes: K and D other than 2, random means and covariances, unequal weights,
a point far from every component, and arrays the function must not modify.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Case", "cases_for", "functions", "case_rng", "random_spd", "random_gmm_params", "sample_gmm"]


@dataclass(frozen=True)
class Case:
    """One call of a student's function.

    label : what the inputs exercise, in words a student understands
    kwargs : the arguments, by parameter name
    weight : the case's share of its function's points, relative to the other cases
        (partial credit: a function right on some cases keeps their share)
    """

    label: str
    kwargs: dict = field(repr=False)
    weight: float = 1.0


def case_rng(assignment: str, function: str, index: int) -> np.random.Generator:
    seed = zlib.crc32(f"{assignment}/{function}/{index}".encode())
    return np.random.default_rng(seed)


def random_spd(rng, D):
    A = rng.normal(size=(D, D))
    return A @ A.T / D + 0.3 * np.eye(D)


def random_gmm_params(rng, K, D, *, equal_weights=False, spread=3.0):
    mu = rng.normal(scale=spread, size=(K, D))
    Sigma = np.stack([random_spd(rng, D) for _ in range(K)])
    pi = np.full(K, 1.0 / K) if equal_weights else rng.dirichlet(np.full(K, 2.0))
    return mu, Sigma, pi


def sample_gmm(rng, mu, Sigma, pi, N):
    z = rng.choice(len(pi), size=N, p=pi)
    return np.stack([rng.multivariate_normal(mu[k], Sigma[k]) for k in z])




def functions() -> tuple[tuple[str, str], ...]:
    """Every (assignment, function) pair that has hidden checks, over all labs."""
    from .labs import lab_modules

    return tuple((a, f) for a, mod in lab_modules().items() for f in mod.CASES)


def cases_for(assignment: str, function: str) -> list[Case]:
    """The hidden-check inputs for one graded function (fresh arrays on every call)."""
    from .labs import lab_modules

    make = getattr(lab_modules().get(assignment), "CASES", {}).get(function)
    if make is None:
        known = ", ".join(f"{a}/{f}" for a, f in functions())
        raise KeyError(f"no hidden checks for {assignment}/{function}; known: {known}")
    return make()
