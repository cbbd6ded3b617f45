"""Checks of a graded function's output that need no reference: shape, finiteness, rows
of gamma summing to one, a symmetric covariance, one number for a log-likelihood.

They run in the kernel (so the student sees the message in the notebook) and again in
the judge outside it (so a notebook that hid a failure is caught). No expected value.
"""

from __future__ import annotations

import numpy as np

from emlab.checks import gamma_problem

__all__ = ["property_problem"]


def _array(value, what):
    from .record import Unrecorded  # local: keeps this module light to import

    if isinstance(value, Unrecorded):
        return None, f"{what} should be a numeric array; got {value.type_name}."
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None, f"{what} should be a numeric array; got {type(value).__name__}."
    return arr, None


def _shape(what, got, expected, meaning):
    hint = " It looks transposed." if len(expected) == 2 and tuple(got) == tuple(reversed(expected)) else ""
    return f"{what} has shape {tuple(got)}; expected {tuple(expected)} ({meaning}).{hint}"


def _e_step(kw, out):
    gamma, bad = _array(out, "e_step's result")
    if bad:
        return bad
    # the same facts the notebook's visible check explains (emlab.checks is student-safe)
    return gamma_problem(gamma, kw["X"].shape[0], kw["mu"].shape[0])


def _m_step(kw, out):
    (N, D), K = kw["X"].shape, kw["gamma"].shape[1]
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        length = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        return f"m_step should return a tuple (mu, Sigma, pi); got {type(out).__name__}{length}."
    for value, name, shape, meaning in [(out[0], "mu", (K, D), "one row per component"),
                                        (out[1], "Sigma", (K, D, D), "one D x D covariance per component"),
                                        (out[2], "pi", (K,), "one weight per component")]:
        arr, bad = _array(value, f"m_step's {name}")
        if bad:
            return bad
        if arr.shape != shape:
            if name == "pi" and arr.size == K:
                return f"pi has shape {arr.shape}; expected a flat array of shape ({K},)."
            return _shape(name, arr.shape, shape, meaning)
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


def _loglik(kw, out):
    arr, bad = _array(out, "loglik's result")
    if bad:
        return bad
    if arr.ndim != 0 and arr.size != 1:
        return (f"loglik should return one number (the sum over all points); got an array of "
                f"shape {arr.shape}.")
    if not np.isfinite(float(arr.reshape(()))):
        return ("loglik returned -inf or NaN. For a point far from every component each density underflows "
                "to 0 and log(0) = -inf: sum the log-densities with logsumexp instead.")
    return None


# --------------------------------------------------------------------------- lab 01: two means
def _scalar(value, what):
    """(float, None) for one number (a 0-d or one-element array counts), else (None, message)."""
    arr, bad = _array(value, what)
    if bad:
        return None, bad
    if arr.ndim != 0 and arr.size != 1:
        return None, f"{what} should be one number; got an array of shape {arr.shape}."
    return float(arr.reshape(())), None


def _lab01_e_step(kw, out):
    z, bad = _array(out, "e_step's result")
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


def _lab01_m_step(kw, out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        length = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        return f"m_step should return a tuple (mu1, mu2); got {type(out).__name__}{length}."
    for value, name in zip(out, ("mu1", "mu2")):
        v, bad = _scalar(value, f"m_step's {name}")
        if bad:
            return bad
        if not np.isfinite(v):
            return f"m_step's {name} is {v}; each mean is a weighted average of the heights."
    return None


def _lab01_incomplete_loglik(kw, out):
    v, bad = _scalar(out, "incomplete_loglik's result")
    if bad:
        return bad + " The log-likelihood is the sum over all points."
    if not np.isfinite(v):
        return ("incomplete_loglik returned -inf or NaN. For a point far from both means both densities "
                "underflow to 0 and log(0) = -inf: combine the log-densities with np.logaddexp or "
                "scipy.special.logsumexp.")
    return None


_CHECKS = {
    ("03-old-faithful", "e_step"): _e_step,
    ("03-old-faithful", "m_step"): _m_step,
    ("03-old-faithful", "loglik"): _loglik,
    ("01-two-means", "e_step"): _lab01_e_step,
    ("01-two-means", "m_step"): _lab01_m_step,
    ("01-two-means", "incomplete_loglik"): _lab01_incomplete_loglik,
}


def property_problem(assignment: str, function: str, kwargs: dict, output) -> str | None:
    """What is wrong with ``output`` that any correct answer would not have, or None."""
    check = _CHECKS.get((assignment, function))
    return check(kwargs, output) if check else None
