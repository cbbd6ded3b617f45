"""Lab 02 (the lower bound): hidden-check inputs and output properties of compute_loglik,
calc_probs, compute_q, update_mu, update_sigma and update_lambda.

Univariate mixtures with k = 1, 2, 3 and 4 components, unequal weights, standard deviations
never 1 (so a variance used as a standard deviation shows), a point about 60 standard
deviations from every component, gamma both at a posterior known by hand (k = 1, identical
components) and arbitrary row-stochastic (soft, hard 0/1 with exact zeros). update_sigma is
given means that are not the weighted means of its gamma. No expected value."""

from __future__ import annotations

import numpy as np

from emlab.checking import gamma_problem

from ..cases import Case, case_rng
from ..properties import as_array, as_scalar

ASSIGNMENT = "02-lower-bound"


def _params(rng, k, equal_weights=False):
    lam = np.full(k, 1.0 / k) if equal_weights else rng.dirichlet(np.full(k, 2.0))
    mu = np.sort(rng.normal(scale=4.0, size=k)) + np.arange(k) * 1.5
    sigma = rng.uniform(0.4, 2.5, size=k)
    return lam, mu, sigma


def _sample(rng, lam, mu, sigma, n):
    z = rng.choice(len(lam), size=n, p=lam)
    return mu[z] + sigma[z] * rng.normal(size=n)


def _mixture_cases(function):
    """(label, x, lam, mu, sigma) for compute_loglik and calc_probs."""
    shapes = [  # label, k, n, equal weights, far point
        ("two components, equal weights", 2, 40, True, False),
        ("two components, weights far from equal", 2, 50, False, False),
        ("three components, unequal weights", 3, 60, False, False),
        ("four components, unequal weights", 4, 45, False, False),
        ("one component (k = 1, lam = [1])", 1, 20, True, False),
        ("a point about 60 standard deviations from every component", 3, 25, False, True),
    ]
    out = []
    for i, (label, k, n, eq, far) in enumerate(shapes):
        rng = case_rng(ASSIGNMENT, function, i)
        lam, mu, sigma = _params(rng, k, eq)
        if i == 1:
            lam = np.array([0.92, 0.08])
        x = _sample(rng, lam, mu, sigma, n)
        if far:
            x[-1] = mu.max() + 60.0 * sigma.max() + 10.0
        out.append((label, x, lam, mu, sigma))
    return out


def _cases_compute_loglik():
    return [Case(label, {"x": x, "lam": lam, "mu": mu, "sigma": sigma})
            for label, x, lam, mu, sigma in _mixture_cases("compute_loglik")]


def _cases_calc_probs():
    return [Case(label, {"x": x, "lam": lam, "mu": mu, "sigma": sigma})
            for label, x, lam, mu, sigma in _mixture_cases("calc_probs")]


def _soft_gamma(rng, n, k, alpha=1.0):
    return rng.dirichlet(np.full(k, alpha), size=n)


def _hard_gamma(rng, n, k):
    """One-hot rows, every component used at least twice, in random order."""
    labels = np.r_[np.repeat(np.arange(k), 2), rng.integers(0, k, size=n - 2 * k)]
    return np.eye(k)[rng.permutation(labels)]


def _cases_compute_q():
    cases = []
    # gamma at the posterior, known without computing it: k = 1 (all ones), and identical
    # components (every row of the posterior is lam)
    rng = case_rng(ASSIGNMENT, "compute_q", 0)
    lam, mu, sigma = _params(rng, 1, True)
    x = _sample(rng, lam, mu, sigma, 30)
    cases.append(Case("gamma at the posterior: one component (gamma is a column of ones)",
                      {"x": x, "lam": lam, "mu": mu, "sigma": sigma, "gamma": np.ones((30, 1))}))
    rng = case_rng(ASSIGNMENT, "compute_q", 1)
    lam = np.array([0.5, 0.3, 0.2])
    mu, sigma = np.full(3, rng.normal(scale=3.0)), np.full(3, rng.uniform(0.5, 2.0))
    x = _sample(rng, lam, mu, sigma, 40)
    cases.append(Case("gamma at the posterior: three identical components with weights 0.5, 0.3, 0.2 "
                      "(every row of gamma is lam)",
                      {"x": x, "lam": lam, "mu": mu, "sigma": sigma, "gamma": np.tile(lam, (40, 1))}))
    # arbitrary row-stochastic gamma: the entropy term matters
    for i, (label, k, n, kind) in enumerate([
        ("an arbitrary gamma (random rows), two components", 2, 40, "soft"),
        ("an arbitrary gamma, four components, unequal weights", 4, 50, "soft"),
        ("hard 0/1 gamma (0 log 0 = 0), three components", 3, 30, "hard"),
    ], start=2):
        rng = case_rng(ASSIGNMENT, "compute_q", i)
        lam, mu, sigma = _params(rng, k)
        x = _sample(rng, lam, mu, sigma, n)
        gamma = _soft_gamma(rng, n, k) if kind == "soft" else _hard_gamma(rng, n, k)
        cases.append(Case(label, {"x": x, "lam": lam, "mu": mu, "sigma": sigma, "gamma": gamma}))
    rng = case_rng(ASSIGNMENT, "compute_q", 5)
    lam, mu, sigma = _params(rng, 3)
    x = _sample(rng, lam, mu, sigma, 25)
    x[-1] = mu.max() + 60.0 * sigma.max() + 10.0
    cases.append(Case("a point about 60 standard deviations from every component, arbitrary gamma",
                      {"x": x, "lam": lam, "mu": mu, "sigma": sigma, "gamma": _soft_gamma(rng, 25, 3)}))
    return cases


_UPDATE_SHAPES = [  # label, k, n, kind
    ("two components, soft gamma", 2, 40, "soft"),
    ("three components, soft gamma", 3, 60, "soft"),
    ("four components, gamma close to 0 or 1", 4, 50, "sharp"),
    ("one component (gamma is a column of ones)", 1, 20, "ones"),
    ("hard 0/1 gamma, three components of unequal sizes", 3, 31, "hard"),
]


def _update_inputs(function):
    out = []
    for i, (label, k, n, kind) in enumerate(_UPDATE_SHAPES):
        rng = case_rng(ASSIGNMENT, function, i)
        lam, mu, sigma = _params(rng, k)
        x = _sample(rng, lam, mu, sigma, n)
        gamma = {"soft": lambda: _soft_gamma(rng, n, k), "sharp": lambda: _soft_gamma(rng, n, k, 0.2),
                 "ones": lambda: np.ones((n, 1)), "hard": lambda: _hard_gamma(rng, n, k)}[kind]()
        other_mu = mu + rng.normal(scale=1.0, size=k)  # e.g. the previous iteration's means
        out.append((label, x, gamma, other_mu))
    return out


def _cases_update_mu():
    return [Case(label, {"x": x, "gamma": gamma}) for label, x, gamma, _ in _update_inputs("update_mu")]


def _cases_update_sigma():
    return [Case(label + "; mu given (not the weighted means of this gamma)", {"x": x, "gamma": gamma, "mu": mu})
            for label, x, gamma, mu in _update_inputs("update_sigma")]


def _cases_update_lambda():
    return [Case(label, {"gamma": gamma}) for label, _, gamma, _ in _update_inputs("update_lambda")]


# --------------------------------------------------------------------------- properties
def _scalar_problem(name, out, extra=""):
    v, bad = as_scalar(out, f"{name}'s result")
    if bad:
        return bad + " It is a sum over all points."
    if not np.isfinite(v):
        return (f"{name} returned {v}. For a point far from every component the densities underflow to 0 and "
                "log(0) = -inf: use log-densities (scipy.stats.norm.logpdf) and scipy.special.logsumexp." + extra)
    return None


def _vector_problem(name, out, k, what):
    v, bad = as_array(out, f"{name}'s result")
    if bad:
        return bad
    if v.shape != (k,):
        hint = " Sum over the points (axis 0) and keep one entry per component." if v.ndim >= 1 else ""
        return f"{name}'s result has shape {v.shape}; expected ({k},), {what}.{hint}"
    if not np.all(np.isfinite(v)):
        return f"{name}'s result contains NaN or infinite values; each entry is a weighted average over the points."
    return None


def _props_compute_loglik(kw, out):
    return _scalar_problem("compute_loglik", out)


def _props_calc_probs(kw, out):
    g, bad = as_array(out, "calc_probs's result")
    return bad or gamma_problem(g, kw["x"].shape[0], kw["lam"].shape[0])


def _props_compute_q(kw, out):
    v, bad = as_scalar(out, "compute_q's result")
    if not bad and np.isnan(v):
        return ("compute_q returned NaN. Where gamma = 0, gamma * log(gamma) is 0 * (-inf) = NaN: terms with "
                "gamma = 0 count nothing (0 log 0 = 0, as scipy.special.xlogy(gamma, gamma) computes), and "
                "log-densities keep a point far from every component finite.")
    return _scalar_problem("compute_q", out)


def _props_update_mu(kw, out):
    return _vector_problem("update_mu", out, kw["gamma"].shape[1], "one mean per component")


def _props_update_sigma(kw, out):
    bad = _vector_problem("update_sigma", out, kw["gamma"].shape[1], "one standard deviation per component")
    if bad:
        return bad
    if np.any(np.asarray(out, dtype=float) < 0):
        return "update_sigma returned a negative standard deviation; it is the square root of a weighted average."
    return None


def _props_update_lambda(kw, out):
    bad = _vector_problem("update_lambda", out, kw["gamma"].shape[1], "one weight per component")
    if bad:
        return bad
    lam = np.asarray(out, dtype=float)
    if np.any(lam < 0) or not np.isclose(lam.sum(), 1.0, rtol=0, atol=1e-9):
        return (f"update_lambda's weights sum to {lam.sum():.6g}; mixing weights are non-negative and sum to 1 "
                "(divide by the number of points).")
    return None


CASES = {
    "compute_loglik": _cases_compute_loglik,
    "calc_probs": _cases_calc_probs,
    "compute_q": _cases_compute_q,
    "update_mu": _cases_update_mu,
    "update_sigma": _cases_update_sigma,
    "update_lambda": _cases_update_lambda,
}

PROPERTIES = {
    "compute_loglik": _props_compute_loglik,
    "calc_probs": _props_calc_probs,
    "compute_q": _props_compute_q,
    "update_mu": _props_update_mu,
    "update_sigma": _props_update_sigma,
    "update_lambda": _props_update_lambda,
}
