"""Lab 01 (two means): hidden-check inputs and output properties of e_step, m_step and
incomplete_loglik.

Heights in cm from two groups with equal weights and a known shared standard deviation.
sigma is never 1 (so a variance used as a standard deviation shows), the means come in
both orders, and one case holds a height about 60 sigma from both means. No expected value."""

from __future__ import annotations

import numpy as np

from ..cases import Case, case_rng
from ..properties import as_array, as_scalar

ASSIGNMENT = "01-two-means"


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
        rng = case_rng("01-two-means", function, i)
        centres = np.where(rng.random(n) < 0.5, mu1, mu2)
        x = np.round(centres + sigma * rng.normal(size=n), 1)  # heights measured to the mm
        if far:
            x[-1] = max(mu1, mu2) + 60.0 * sigma
        out.append((label, x, mu1, mu2, sigma))
    return out


def _cases_e_step():
    return [Case(label, {"x": x, "mu1": mu1, "mu2": mu2, "sigma": sigma})
            for label, x, mu1, mu2, sigma in _two_means_cases("e_step")]


def _cases_incomplete_loglik():
    return [Case(label, {"x": x, "mu1": mu1, "mu2": mu2, "sigma": sigma})
            for label, x, mu1, mu2, sigma in _two_means_cases("incomplete_loglik")]


def _cases_m_step():
    cases = []
    for i, (label, n, alpha) in enumerate([
        ("60 heights, soft z_hat", 60, 1.0),
        ("25 heights, soft z_hat close to 0 or 1", 25, 0.3),
        ("120 heights, soft z_hat", 120, 2.0),
    ]):
        rng = case_rng("01-two-means", "m_step", i)
        x = np.round(rng.normal(170.0, 9.0, size=n), 1)
        cases.append(Case(label, {"x": x, "z_hat": rng.beta(alpha, alpha, size=n)}))
    # hard (one-hot) z_hat with unequal group sizes: each mean divides by its own group's size
    rng = case_rng("01-two-means", "m_step", 3)
    x = np.round(np.r_[rng.normal(180.0, 6.0, size=9), rng.normal(163.0, 6.0, size=21)], 1)
    z_hat = np.r_[np.ones(9), np.zeros(21)]
    order = rng.permutation(30)
    cases.append(Case("hard 0/1 z_hat, groups of 9 and 21 points", {"x": x[order], "z_hat": z_hat[order]}))
    return cases





def _props_e_step(kw, out):
    z, bad = as_array(out, "e_step's result")
    if bad:
        return bad
    n = kw["x"].shape[0]
    if z.shape != (n,):
        hint = (" Return only P(z = 1 | x), the probability of group 1, for each point."
                if z.ndim == 2 and 2 in z.shape and n in z.shape else "")
        return f"e_step's result has shape {z.shape}; expected ({n},) (one probability per point).{hint}"
    if not np.all(np.isfinite(z)):
        return ("e_step's result contains NaN or infinite values. For a point far from both means both "
                "densities underflow to 0 and 0/0 = NaN: work with log-densities (np.logaddexp or "
                "scipy.special.logsumexp).")
    if np.any(z < -1e-12) or np.any(z > 1 + 1e-12):  # rounding may leave 1 + 1 ulp
        return (f"e_step's result has values outside [0, 1] (from {z.min():.4g} to {z.max():.4g}); "
                "P(z = 1 | x) is a probability: divide by the sum over both groups.")
    return None


def _props_m_step(kw, out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        length = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        return f"m_step should return a tuple (mu1, mu2); got {type(out).__name__}{length}."
    for value, name in zip(out, ("mu1", "mu2")):
        v, bad = as_scalar(value, f"m_step's {name}")
        if bad:
            return bad
        if not np.isfinite(v):
            return f"m_step's {name} is {v}; each mean is a weighted average of the heights."
    return None


def _props_incomplete_loglik(kw, out):
    v, bad = as_scalar(out, "incomplete_loglik's result")
    if bad:
        return bad + " The log-likelihood is the sum over all points."
    if not np.isfinite(v):
        return ("incomplete_loglik returned -inf or NaN. For a point far from both means both densities "
                "underflow to 0 and log(0) = -inf: combine the log-densities with np.logaddexp or "
                "scipy.special.logsumexp.")
    return None


CASES = {
    "e_step": _cases_e_step,
    "m_step": _cases_m_step,
    "incomplete_loglik": _cases_incomplete_loglik,
}

PROPERTIES = {
    "e_step": _props_e_step,
    "m_step": _props_m_step,
    "incomplete_loglik": _props_incomplete_loglik,
}
