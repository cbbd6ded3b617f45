"""Compare a student's output with the reference and explain any difference in words.

Everything here is trusted code: it computes the reference on the case's inputs, never
calls the student's function, and returns a verdict with a message that says what is
wrong (wrong shape, rows not summing to one, a formula that matches a known mistake)
without revealing the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from . import reference as ref

__all__ = ["Verdict", "judge", "RTOL", "ATOL"]

RTOL = 1e-6
ATOL = 1e-8


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""


def _close(a, b) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=False))


def _as_array(value, what):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None, Verdict(False, f"{what} should be a numeric array; got {type(value).__name__}.")
    return arr, None


def _shape_msg(what, got, expected, meaning):
    hint = ""
    if tuple(got) == tuple(reversed(expected)) and len(expected) == 2:
        hint = " It looks transposed."
    return Verdict(False, f"{what} has shape {tuple(got)}; expected {tuple(expected)} ({meaning}).{hint}")


def _first_match(value, candidates):
    for message, candidate in candidates:
        try:
            if _close(value, candidate):
                return message
        except Exception:  # a candidate that cannot be formed on these inputs
            continue
    return None


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


# ----------------------------------------------------------------------------- e_step
def _judge_e_step(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    N, K = X.shape[0], mu.shape[0]
    gamma, bad = _as_array(out, "e_step's result")
    if bad:
        return bad
    if gamma.shape != (N, K):
        return _shape_msg("gamma", gamma.shape, (N, K), "one row per data point, one column per component")
    if not np.all(np.isfinite(gamma)):
        rows = np.where(~np.all(np.isfinite(gamma), axis=1))[0]
        return Verdict(False, (
            f"gamma contains NaN or infinite values (row {rows[0]}). For a point far from every "
            "component each density underflows to 0 and 0/0 gives NaN: work with log-densities and "
            "normalise with the log-sum-exp trick (scipy.special.logsumexp)."))
    if np.any(gamma < -ATOL):
        return Verdict(False, "gamma has negative entries; responsibilities are probabilities.")
    sums = gamma.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        i = int(np.argmax(np.abs(sums - 1)))
        col = gamma.sum(axis=0)
        if np.allclose(col, 1.0, atol=1e-6):
            return Verdict(False, "The columns of gamma sum to 1, not the rows: normalise each point's "
                                  "responsibilities over the components (sum over k), not over the points.")
        return Verdict(False, f"Each row of gamma should sum to 1 (a point's responsibilities are a "
                              f"probability distribution over the K components); row {i} sums to {sums[i]:.4g}.")
    expected = ref.e_step(X, mu, Sigma, pi)
    if _close(gamma, expected):
        return Verdict(True)
    lg = ref.log_gaussian(X, mu, Sigma)
    def norm(logits):
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    inv_logdet = np.array([np.linalg.slogdet(S)[1] for S in Sigma])
    hint = _first_match(gamma, [
        ("Your responsibilities ignore the mixing weights: multiply each density by pi_k before normalising.",
         norm(lg)),
        ("Your responsibilities leave out the determinant factor |Sigma_k|^(-1/2) of the Gaussian density; "
         "it differs between components and does not cancel.",
         norm(lg + 0.5 * inv_logdet[None, :] + np.log(pi)[None, :])),
        ("Your responsibilities are hard 0/1 assignments; EM's E step keeps the soft posterior probabilities.",
         np.eye(K)[np.argmax(expected, axis=1)]),
    ])
    return Verdict(False, hint or (
        f"gamma differs from the correct responsibilities by up to {_max_diff(gamma, expected):.3g}. "
        "Check the Gaussian density (the inverse covariance in the exponent, |Sigma_k| under the square root, "
        "(2 pi)^(D/2)) and the weighting by pi_k."))


# ----------------------------------------------------------------------------- m_step
def _judge_m_step(kw, out):
    X, gamma = kw["X"], kw["gamma"]
    N, D = X.shape
    K = gamma.shape[1]
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        return Verdict(False, f"m_step should return a tuple (mu, Sigma, pi); got {type(out).__name__}"
                              + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "") + ".")
    mu_e, Sigma_e, pi_e = ref.m_step(X, gamma)
    arrays = []
    for value, name, shape, meaning in [
        (out[0], "mu", (K, D), "one row per component"),
        (out[1], "Sigma", (K, D, D), "one D x D covariance per component"),
        (out[2], "pi", (K,), "one weight per component"),
    ]:
        arr, bad = _as_array(value, f"m_step's {name}")
        if bad:
            return bad
        if arr.shape != shape:
            if name == "pi" and arr.size == K:
                return Verdict(False, f"pi has shape {arr.shape}; expected a flat array of shape ({K},).")
            return _shape_msg(name, arr.shape, shape, meaning)
        if not np.all(np.isfinite(arr)):
            return Verdict(False, f"m_step's {name} contains NaN or infinite values.")
        arrays.append(arr)
    mu, Sigma, pi = arrays
    Nk = gamma.sum(axis=0)
    if not _close(mu, mu_e):
        hint = _first_match(mu, [
            ("mu is divided by N; each mean divides by its own N_k = sum_n gamma[n, k].", (gamma.T @ X) / N),
            ("mu ignores the responsibilities: each mean is a gamma-weighted average of the points.",
             np.repeat(X.mean(axis=0, keepdims=True), K, axis=0)),
        ])
        return Verdict(False, hint or f"mu differs from the weighted means by up to {_max_diff(mu, mu_e):.3g}: "
                                      "mu_k = sum_n gamma[n, k] x_n / N_k.")
    if not np.allclose(Sigma, np.swapaxes(Sigma, 1, 2), rtol=1e-9, atol=1e-10):
        return Verdict(False, "Sigma is not symmetric: each covariance is a sum of outer products "
                              "(x_n - mu_k)(x_n - mu_k)^T weighted by gamma[n, k].")
    if not _close(Sigma, Sigma_e):
        diff = X[None, :, :] - mu_e[:, None, :]
        hint = _first_match(Sigma, [
            ("Sigma is divided by N; each covariance divides by its own N_k.", Sigma_e * (Nk / N)[:, None, None]),
            ("Sigma is divided by N_k - 1; the maximum-likelihood estimate divides by N_k.",
             Sigma_e * (Nk / (Nk - 1))[:, None, None]),
            ("Sigma ignores the responsibilities: weight each outer product by gamma[n, k].",
             np.einsum("kni,knj->kij", diff, diff) / Nk[:, None, None]),
            ("Sigma only holds variances (diagonal); the model has full covariances.",
             np.stack([np.diag(np.diag(S)) for S in Sigma_e])),
            ("Sigma uses the responsibilities squared; weight each outer product by gamma[n, k] once.",
             np.einsum("nk,kni,knj->kij", gamma ** 2, diff, diff) / Nk[:, None, None]),
        ])
        return Verdict(False, hint or f"Sigma differs from the weighted covariances by up to "
                                      f"{_max_diff(Sigma, Sigma_e):.3g}: Sigma_k = sum_n gamma[n, k] "
                                      "(x_n - mu_k)(x_n - mu_k)^T / N_k, with the new mu_k.")
    if not _close(pi, pi_e):
        hint = _first_match(pi, [
            ("pi is not divided by N: the weights N_k / N must sum to 1.", Nk),
            ("pi is uniform; each weight is the component's share N_k / N of the points.", np.full(K, 1.0 / K)),
        ])
        return Verdict(False, hint or f"pi differs from N_k / N by up to {_max_diff(pi, pi_e):.3g}.")
    return Verdict(True)


# ----------------------------------------------------------------------------- loglik
def _judge_loglik(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    arr, bad = _as_array(out, "loglik's result")
    if bad:
        return bad
    if arr.ndim != 0 and arr.size != 1:
        return Verdict(False, f"loglik should return one number (the sum over all points); got an array of "
                              f"shape {arr.shape}.")
    value = float(arr.reshape(()))
    expected = ref.loglik(X, mu, Sigma, pi)
    if not np.isfinite(value):
        return Verdict(False, "loglik returned -inf or NaN. For a point far from every component each density "
                              "underflows to 0 and log(0) = -inf: sum the log-densities with logsumexp instead.")
    if np.isclose(value, expected, rtol=RTOL, atol=ATOL):
        return Verdict(True)
    lj = ref.log_joint(X, mu, Sigma, pi)
    lg = ref.log_gaussian(X, mu, Sigma)
    hint = _first_match(value, [
        ("loglik is the mean over points; the log-likelihood is the sum.", expected / X.shape[0]),
        ("loglik ignores the mixing weights pi_k.", float(np.sum(logsumexp(lg, axis=1)))),
        ("loglik puts the log inside the sum over components (sum_k pi_k log N); the log-likelihood is "
         "sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k).", float(np.sum(np.exp(np.log(pi))[None, :] * lg))),
        ("loglik is the negative log-likelihood; return log p(X), not -log p(X).", -expected),
        ("loglik returns the likelihood, not its logarithm.", float(np.exp(expected))),
    ])
    return Verdict(False, hint or f"loglik differs from the log-likelihood (relative difference "
                                  f"{abs(value - expected) / abs(expected):.3g}). It is "
                                  "sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k).")


_JUDGES = {
    ("03-old-faithful", "e_step"): _judge_e_step,
    ("03-old-faithful", "m_step"): _judge_m_step,
    ("03-old-faithful", "loglik"): _judge_loglik,
}


def judge(assignment: str, function: str, kwargs: dict, output) -> Verdict:
    """The verdict on one output of one graded function for one case's inputs."""
    return _JUDGES[(assignment, function)](kwargs, output)
