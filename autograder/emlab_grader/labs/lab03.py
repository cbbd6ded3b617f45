"""Lab 03 (Old Faithful): hidden-check inputs and output properties of e_step, m_step, loglik.

Inputs: K and D other than 2, random means and covariances, unequal weights, a point far
from every component, hard responsibilities with unequal group sizes. No expected value."""

from __future__ import annotations

import numpy as np

from emlab.checking import gamma_problem

from ..cases import Case, case_rng, random_gmm_params, sample_gmm
from ..properties import as_array, shape_message

ASSIGNMENT = "03-old-faithful"


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
        rng = case_rng(assignment, function, i)
        mu, Sigma, pi = random_gmm_params(rng, K, D, equal_weights=eq)
        X = sample_gmm(rng, mu, Sigma, pi, N)
        if far:
            X[-1] = mu.mean(axis=0) + 60.0 * np.sqrt(Sigma[:, 0, 0].max()) + 60.0 * np.abs(mu).max()
        out.append((label, X, mu, Sigma, pi))
    return out


def _cases_e_step():
    return [
        Case(label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi})
        for label, X, mu, Sigma, pi in _gmm_cases("03-old-faithful", "e_step")
    ]


def _cases_loglik():
    return [
        Case(label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi})
        for label, X, mu, Sigma, pi in _gmm_cases("03-old-faithful", "loglik")
    ]


def _cases_m_step():
    shapes = [
        ("two components in 2-D, soft responsibilities", 2, 2, 40),
        ("three components in 2-D, soft responsibilities", 3, 2, 60),
        ("four components in 3-D, soft responsibilities", 4, 3, 50),
        ("two components in 1-D (X has shape (N, 1))", 2, 1, 30),
        ("three components in 5-D", 3, 5, 45),
    ]
    cases = []
    for i, (label, K, D, N) in enumerate(shapes):
        rng = case_rng("03-old-faithful", "m_step", i)
        X = rng.normal(scale=2.0, size=(N, D)) + rng.normal(scale=5.0, size=D)
        gamma = rng.dirichlet(np.full(K, 0.7), size=N)
        cases.append(Case(label, {"X": X, "gamma": gamma}))
    # hard (0/1) responsibilities with unequal group sizes: every formula must divide by N_k
    rng = case_rng("03-old-faithful", "m_step", len(shapes))
    X = rng.normal(size=(30, 2)) * [1.0, 3.0]
    z = np.r_[np.zeros(20, int), np.ones(7, int), np.full(3, 2)]
    cases.append(Case("hard 0/1 responsibilities, groups of 20, 7 and 3 points",
                      {"X": X, "gamma": np.eye(3)[z]}))
    return cases




def _props_e_step(kw, out):
    gamma, bad = as_array(out, "e_step's result")
    if bad:
        return bad
    # the same facts the visible checks explain (emlab.checking.gamma_problem, student-safe)
    return gamma_problem(gamma, kw["X"].shape[0], kw["mu"].shape[0])


def _props_m_step(kw, out):
    D, K = kw["X"].shape[1], kw["gamma"].shape[1]
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        length = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        return f"m_step should return a tuple (mu, Sigma, pi); got {type(out).__name__}{length}."
    for value, name, shape, meaning in [(out[0], "mu", (K, D), "one row per component"),
                                        (out[1], "Sigma", (K, D, D), "one D x D covariance per component"),
                                        (out[2], "pi", (K,), "one weight per component")]:
        arr, bad = as_array(value, f"m_step's {name}")
        if bad:
            return bad
        if arr.shape != shape:
            if name == "pi" and arr.size == K:
                return f"pi has shape {arr.shape}; expected a flat array of shape ({K},)."
            return shape_message(name, arr.shape, shape, meaning)
        if not np.all(np.isfinite(arr)):
            return f"m_step's {name} contains NaN or infinite values."
    Sigma = np.asarray(out[1], dtype=float)
    if not np.allclose(Sigma, np.swapaxes(Sigma, 1, 2), rtol=1e-9, atol=1e-10):
        return ("Sigma is not symmetric: each covariance is a sum of outer products "
                "(x_n - mu_k)(x_n - mu_k)^T weighted by gamma[n, k].")
    pi = np.asarray(out[2], dtype=float)
    if not np.isclose(pi.sum(), 1.0, atol=1e-6):
        return f"pi sums to {pi.sum():.4g}; the mixing weights must sum to 1 (divide N_k by N)."
    return None


def _props_loglik(kw, out):
    arr, bad = as_array(out, "loglik's result")
    if bad:
        return bad
    if arr.ndim != 0 and arr.size != 1:
        return (f"loglik should return one number (the sum over all points); got an array of "
                f"shape {arr.shape}.")
    if not np.isfinite(float(arr.reshape(()))):
        return ("loglik returned -inf or NaN. For a point far from every component each density underflows "
                "to 0 and log(0) = -inf: sum the log-densities with logsumexp instead.")
    return None


CASES = {
    "e_step": _cases_e_step,
    "m_step": _cases_m_step,
    "loglik": _cases_loglik,
}

PROPERTIES = {
    "e_step": _props_e_step,
    "m_step": _props_m_step,
    "loglik": _props_loglik,
}
