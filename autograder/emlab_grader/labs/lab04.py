"""Lab 04 (the ±1 saddle point): hidden-check inputs and output properties of log_density,
ll, grad_ll, hessian_ll and anneal.

The model: 1/2 N(mu, sigma^2) + 1/2 N(-mu, sigma^2), sigma a standard deviation; ll is the
log-likelihood of the two points +1 and -1. Inputs catch real mistakes: sigma never 1 except
at the saddle (so a variance used as a standard deviation shows), mu of both signs, points
hundreds of standard deviations from both components (a naive log of a sum underflows),
sigma near 0, and sigma <= 0 (the Dirac mixture). No expected value."""

from __future__ import annotations

import numpy as np

from ..cases import Case, case_rng
from ..properties import as_array, as_scalar, shape_message

ASSIGNMENT = "04-saddle-point"


def _cases_log_density():
    cases = []
    for i, (label, n, mu, sigma) in enumerate([
        ("12 points in [-2, 2], mu 0.7, sigma 1.3", 12, 0.7, 1.3),
        ("20 points, mu negative (-1.5), sigma 0.6", 20, -1.5, 0.6),
        ("8 points, mu 0 (both components at 0), sigma 2", 8, 0.0, 2.0),
    ]):
        rng = case_rng(ASSIGNMENT, "log_density", i)
        cases.append(Case(label, {"x": rng.uniform(-2.0, 2.0, size=n), "mu": mu, "sigma": sigma}))
    rng = case_rng(ASSIGNMENT, "log_density", 3)
    x = np.r_[rng.normal(0.0, 1.0, size=6), 40.0, -35.0]
    cases.append(Case("points about 80 standard deviations from both components (mu 0.4, sigma 0.5)",
                      {"x": x, "mu": 0.4, "sigma": 0.5}))
    cases.append(Case("sigma near 0 (0.002): points on, near and far from the components",
                      {"x": np.array([1.0, -1.0, 0.5, 1.001, -0.2]), "mu": 1.0, "sigma": 0.002}))
    cases.append(Case("sigma = 0 (a Dirac mixture): points on and off the atoms at +-0.75",
                      {"x": np.array([0.75, -0.75, 0.0, 1.0, -0.5]), "mu": 0.75, "sigma": 0.0}))
    cases.append(Case("sigma negative (-0.5), treated as 0: points on and off the atoms at +-1",
                      {"x": np.array([1.0, -1.0, 0.3]), "mu": -1.0, "sigma": -0.5}))
    return cases


_LL_POINTS = [  # (label, mu, sigma)
    ("the saddle (0, 1)", 0.0, 1.0),
    ("mu 0.5, sigma 0.8", 0.5, 0.8),
    ("mu -0.5, sigma 0.8", -0.5, 0.8),
    ("mu 1.3, sigma 0.4", 1.3, 0.4),
    ("mu 0.2, sigma 2.5", 0.2, 2.5),
    ("near the Dirac limit: mu 1, sigma 0.01", 1.0, 0.01),
    ("components 50 standard deviations from both points: mu 0.5, sigma 0.01", 0.5, 0.01),
    ("mu -3, sigma 0.05 (points 40 standard deviations away)", -3.0, 0.05),
    ("sigma = 0 with atoms on the data (mu 1)", 1.0, 0.0),
    ("sigma = 0 with atoms off the data (mu 0.4)", 0.4, 0.0),
]

_GRAD_POINTS = [
    ("mu 0.5, sigma 0.8", 0.5, 0.8),
    ("mu -0.5, sigma 0.8", -0.5, 0.8),
    ("mu 0.3, sigma 1.5", 0.3, 1.5),
    ("mu -1.2, sigma 0.6", -1.2, 0.6),
    ("mu 2, sigma 1.1", 2.0, 1.1),
    ("close to the saddle: mu 0.05, sigma 1.02", 0.05, 1.02),
    ("mu 0.9, sigma 0.3", 0.9, 0.3),
    ("mu 0, sigma 1.7", 0.0, 1.7),
]


def _cases_ll():
    return [Case(label, {"mu": mu, "sigma": sigma}) for label, mu, sigma in _LL_POINTS]


def _cases_grad_ll():
    return [Case(label, {"mu": mu, "sigma": sigma}) for label, mu, sigma in _GRAD_POINTS]


def _cases_hessian_ll():
    return [Case(label, {"mu": mu, "sigma": sigma})
            for label, mu, sigma in [("the saddle (0, 1)", 0.0, 1.0)] + _GRAD_POINTS]


def _cases_anneal():
    # Schedules keep |mu| above about 1e-4: below that, where mu is amplified again once sigma < 1,
    # correct implementations written differently (e.g. through responsibilities 1/2 (1 + tanh))
    # would differ from each other by rounding.
    return [
        Case("mu0 0.05, 12 sigmas from 1.3 down to 0.3 (geometric), 3 inner updates",
             {"mu0": 0.05, "sigmas": np.geomspace(1.3, 0.3, 12), "n_inner": 3}),
        Case("mu0 -0.2, 11 sigmas from 1.5 down to 0.5 (linear), 3 inner updates",
             {"mu0": -0.2, "sigmas": np.linspace(1.5, 0.5, 11), "n_inner": 3}),
        Case("mu0 0.5, sigmas 1.0, 0.9, 0.8, 0.7, 1 inner update",
             {"mu0": 0.5, "sigmas": np.array([1.0, 0.9, 0.8, 0.7]), "n_inner": 1}),
        Case("mu0 0 exactly (the saddle's line), 6 sigmas from 2 down to 0.4, 4 inner updates",
             {"mu0": 0.0, "sigmas": np.geomspace(2.0, 0.4, 6), "n_inner": 4}),
        Case("mu0 0.01, 25 sigmas from 1.1 down to 0.2, 4 inner updates",
             {"mu0": 0.01, "sigmas": np.geomspace(1.1, 0.2, 25), "n_inner": 4}),
        Case("mu0 -0.8, sigmas 2.0 and 1.5 (above the critical sigma), 4 inner updates",
             {"mu0": -0.8, "sigmas": np.array([2.0, 1.5]), "n_inner": 4}),
        Case("mu0 0.3, a schedule that goes down, up and down again (0.8, 1.2, 0.6, 0.9, 0.5: used in the "
             "order given), 2 inner updates",
             {"mu0": 0.3, "sigmas": np.array([0.8, 1.2, 0.6, 0.9, 0.5]), "n_inner": 2}),
    ]


# --------------------------------------------------------------------------- properties
def _props_log_density(kw, out):
    v, bad = as_array(out, "log_density's result")
    if bad:
        return bad
    n = np.asarray(kw["x"]).shape[0]
    if v.shape != (n,):
        return shape_message("log_density's result", v.shape, (n,), "one log-density per point")
    if kw["sigma"] > 0 and not np.all(np.isfinite(v)):
        return ("log_density returned -inf, inf or NaN for sigma > 0. Far from both components both densities "
                "underflow to 0 and log(0) = -inf: add the two terms in the log domain (np.logaddexp or "
                "scipy.special.logsumexp of the two log-densities).")
    if kw["sigma"] <= 0 and np.any(np.isnan(v)):
        return ("log_density returned NaN for sigma <= 0. sigma <= 0 is treated as 0, the Dirac mixture "
                "1/2 delta_mu + 1/2 delta_-mu: its log-density is +inf at x = +-mu and -inf everywhere else.")
    return None


def _props_ll(kw, out):
    v, bad = as_scalar(out, "ll's result")
    if bad:
        return bad + " The log-likelihood is one number: the sum over the two points."
    if np.isnan(v):
        return "ll returned NaN; sigma <= 0 gives +inf (atoms on both points) or -inf, never NaN."
    if kw["sigma"] > 0 and not np.isfinite(v):
        return ("ll returned an infinite value for sigma > 0. Far from both components both densities underflow "
                "to 0 and log(0) = -inf: combine the log-densities with np.logaddexp or scipy.special.logsumexp.")
    return None


def _props_grad_ll(kw, out):
    g, bad = as_array(out, "grad_ll's result")
    if bad:
        return bad
    if g.shape != (2,):
        return shape_message("grad_ll's result", g.shape, (2,), "d ll / d mu, then d ll / d sigma")
    if not np.all(np.isfinite(g)):
        return "grad_ll's result contains NaN or infinite values at a point with sigma > 0."
    return None


def _props_hessian_ll(kw, out):
    h, bad = as_array(out, "hessian_ll's result")
    if bad:
        return bad
    if h.shape != (2, 2):
        return shape_message("hessian_ll's result", h.shape, (2, 2), "second derivatives, order (mu, sigma)")
    if not np.all(np.isfinite(h)):
        return "hessian_ll's result contains NaN or infinite values at a point with sigma > 0."
    if not np.isclose(h[0, 1], h[1, 0], rtol=1e-6, atol=1e-8):
        return ("hessian_ll's result is not symmetric: d2 ll / d mu d sigma and d2 ll / d sigma d mu are the same "
                "mixed derivative.")
    return None


def _props_anneal(kw, out):
    p, bad = as_array(out, "anneal's result")
    if bad:
        return bad
    T = np.asarray(kw["sigmas"]).shape[0]
    if p.shape != (T, 2):
        return shape_message("anneal's result", p.shape, (T, 2),
                             "one row (mu, sigma) per sigma of the schedule")
    if not np.all(np.isfinite(p)):
        return "anneal's path contains NaN or infinite values."
    if not np.allclose(p[:, 1], kw["sigmas"], rtol=1e-12, atol=0.0):
        return ("anneal's second column is not the schedule: row t records (mu, sigmas[t]), the sigma of the "
                "outer loop's step t, in the order given. Does the outer loop really lower sigma?")
    return None


CASES = {
    "log_density": _cases_log_density,
    "ll": _cases_ll,
    "grad_ll": _cases_grad_ll,
    "hessian_ll": _cases_hessian_ll,
    "anneal": _cases_anneal,
}

PROPERTIES = {
    "log_density": _props_log_density,
    "ll": _props_ll,
    "grad_ll": _props_grad_ll,
    "hessian_ll": _props_hessian_ll,
    "anneal": _props_anneal,
}
