"""Compare a student's output with the reference and explain any difference in words.

Trusted code: it computes the reference on the case's inputs and never calls the
student's function. First the checks any correct answer passes
(:func:`emlab_grader.properties.property_problem`), then the comparison with the
reference, where a difference that matches a known mistake is named ("Sigma is divided
by N; each covariance divides by its own N_k") without revealing the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from emlab_grader.properties import property_problem

from . import reference as ref
from . import reference_two_means as ref01

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


def _first_match(value, candidates):
    for message, make in candidates:
        try:
            if _close(value, make()):
                return message
        except Exception:  # a candidate that cannot be formed on these inputs
            continue
    return None


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


def _log_gaussian_with(X, mu, Sigma, P):
    """log N(x | mu, Sigma) with P in the exponent where Sigma^-1 belongs (P = Sigma: a known mistake)."""
    diff = X[:, None, :] - mu[None, :, :]
    logdet = np.linalg.slogdet(Sigma)[1]
    return -0.5 * (X.shape[1] * np.log(2 * np.pi) + logdet[None, :] + np.einsum("nki,kij,nkj->nk", diff, P, diff))


def _e_step(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    gamma = np.asarray(out, dtype=float)
    expected = ref.e_step(X, mu, Sigma, pi)
    if _close(gamma, expected):
        return None

    def normalised(logits):
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))

    lg = ref.log_gaussian(X, mu, Sigma)
    logdet = np.array([np.linalg.slogdet(S)[1] for S in Sigma])
    return _first_match(gamma, [
        ("Your responsibilities ignore the mixing weights: multiply each density by pi_k before normalising.",
         lambda: normalised(lg)),
        ("Your responsibilities leave out the determinant factor |Sigma_k|^(-1/2) of the Gaussian density; "
         "it differs between components and does not cancel.",
         lambda: normalised(lg + 0.5 * logdet[None, :] + np.log(pi)[None, :])),
        ("Your responsibilities are hard 0/1 assignments; EM's E step keeps the soft posterior probabilities.",
         lambda: np.eye(len(pi))[np.argmax(expected, axis=1)]),
        ("Your density uses Sigma_k in the exponent; the Gaussian has its inverse, (x - mu_k)^T Sigma_k^(-1) (x - mu_k).",
         lambda: normalised(_log_gaussian_with(X, mu, Sigma, Sigma) + np.log(pi)[None, :])),
    ]) or (f"gamma differs from the correct responsibilities by up to {_max_diff(gamma, expected):.3g}. "
           "Check the Gaussian density (the inverse covariance in the exponent, |Sigma_k| under the square "
           "root, (2 pi)^(D/2)) and the weighting by pi_k.")


def _m_step(kw, out):
    X, gamma = kw["X"], kw["gamma"]
    N, K = X.shape[0], gamma.shape[1]
    mu, Sigma, pi = (np.asarray(a, dtype=float) for a in out)
    mu_e, Sigma_e, pi_e = ref.m_step(X, gamma)
    Nk = gamma.sum(axis=0)
    if not _close(mu, mu_e):
        return _first_match(mu, [
            ("mu is divided by N; each mean divides by its own N_k = sum_n gamma[n, k].", lambda: (gamma.T @ X) / N),
            ("mu ignores the responsibilities: each mean is a gamma-weighted average of the points.",
             lambda: np.repeat(X.mean(axis=0, keepdims=True), K, axis=0)),
        ]) or (f"mu differs from the weighted means by up to {_max_diff(mu, mu_e):.3g}: "
               "mu_k = sum_n gamma[n, k] x_n / N_k.")
    if not _close(Sigma, Sigma_e):
        diff = X[None, :, :] - mu_e[:, None, :]
        return _first_match(Sigma, [
            ("Sigma is divided by N; each covariance divides by its own N_k.",
             lambda: Sigma_e * (Nk / N)[:, None, None]),
            ("Sigma is divided by N_k - 1; the maximum-likelihood estimate divides by N_k.",
             lambda: Sigma_e * (Nk / (Nk - 1))[:, None, None]),
            ("Sigma ignores the responsibilities: weight each outer product by gamma[n, k].",
             lambda: np.einsum("kni,knj->kij", diff, diff) / Nk[:, None, None]),
            ("Sigma only holds variances (diagonal); the model has full covariances.",
             lambda: np.stack([np.diag(np.diag(S)) for S in Sigma_e])),
            ("Sigma uses the responsibilities squared; weight each outer product by gamma[n, k] once.",
             lambda: np.einsum("nk,kni,knj->kij", gamma ** 2, diff, diff) / Nk[:, None, None]),
            ("Every Sigma_k is the covariance of all the points (np.cov(X.T, bias=True)); weight each outer "
             "product by gamma[n, k] and centre it on mu_k.",
             lambda: np.broadcast_to(np.atleast_2d(np.cov(X.T, bias=True)), Sigma_e.shape)),
            ("Sigma is centred on the mean of all the points; centre each covariance on its own new mean mu_k.",
             lambda: np.einsum("nk,ni,nj->kij", gamma, X - X.mean(axis=0), X - X.mean(axis=0)) / Nk[:, None, None]),
            ("Sigma is centred on zero, not on mu_k: compute mu_k first, then Sigma_k around it.",
             lambda: np.einsum("nk,ni,nj->kij", gamma, X, X) / Nk[:, None, None]),
            ("np.cov with aweights applies an 'unbiased' correction by default; the maximum-likelihood "
             "estimate divides by N_k (np.cov(..., aweights=..., bias=True)).",
             lambda: Sigma_e * (Nk ** 2 / (Nk ** 2 - (gamma ** 2).sum(axis=0)))[:, None, None]),
        ]) or (f"Sigma differs from the weighted covariances by up to {_max_diff(Sigma, Sigma_e):.3g}: "
               "Sigma_k = sum_n gamma[n, k] (x_n - mu_k)(x_n - mu_k)^T / N_k, with the new mu_k.")
    if not _close(pi, pi_e):
        return _first_match(pi, [
            ("pi is uniform; each weight is the component's share N_k / N of the points.",
             lambda: np.full(K, 1.0 / K)),
        ]) or f"pi differs from N_k / N by up to {_max_diff(pi, pi_e):.3g}."
    return None


def _loglik(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    value = float(np.asarray(out, dtype=float).reshape(()))
    expected = ref.loglik(X, mu, Sigma, pi)
    if np.isclose(value, expected, rtol=RTOL, atol=ATOL):
        return None
    lg = ref.log_gaussian(X, mu, Sigma)
    return _first_match(value, [
        ("loglik is the mean over points; the log-likelihood is the sum.", lambda: expected / X.shape[0]),
        ("loglik ignores the mixing weights pi_k.", lambda: float(np.sum(logsumexp(lg, axis=1)))),
        ("loglik puts the log inside the sum over components (sum_k pi_k log N); the log-likelihood is "
         "sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k).", lambda: float(np.sum(pi[None, :] * lg))),
        ("loglik is the negative log-likelihood; return log p(X), not -log p(X).", lambda: -expected),
        ("loglik leaves out the (2 pi)^(-D/2) factor of the Gaussian density (it cancels in the E step, "
         "not here).", lambda: expected + 0.5 * X.shape[0] * X.shape[1] * np.log(2 * np.pi)),
        ("loglik leaves out the determinant factor |Sigma_k|^(-1/2) of the Gaussian density.",
         lambda: float(np.sum(logsumexp(ref.log_joint(X, mu, Sigma, pi)
                                        + 0.5 * np.linalg.slogdet(Sigma)[1][None, :], axis=1)))),
        ("loglik's density uses Sigma_k in the exponent; the Gaussian has its inverse.",
         lambda: float(np.sum(logsumexp(_log_gaussian_with(X, mu, Sigma, Sigma) + np.log(pi)[None, :], axis=1)))),
        ("loglik takes the log-sum-exp over the points (axis 0); sum over the components (axis 1) inside "
         "the log, then over the points outside it.",
         lambda: float(np.sum(logsumexp(ref.log_joint(X, mu, Sigma, pi), axis=0)))),
    ]) or (f"loglik differs from the log-likelihood (relative difference "
           f"{abs(value - expected) / abs(expected):.3g}). It is sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k).")


# --------------------------------------------------------------------------- lab 01: two means
def _lab01_e_step(kw, out):
    x, mu1, mu2, sigma = kw["x"], kw["mu1"], kw["mu2"], kw["sigma"]
    z = np.asarray(out, dtype=float)
    expected = ref01.e_step(x, mu1, mu2, sigma)
    if _close(z, expected):
        return None
    lj = ref01.log_joint(x, mu1, mu2, sigma)
    density = ("e_step returns a density, 1/2 N(x | mu1, sigma^2), not a probability: divide by the sum over "
               "both groups.")
    found = _first_match(z, [
        ("e_step returns P(z = 2 | x), the probability of group 2 (mean mu2); it should return P(z = 1 | x), "
         "the probability that the point came from group 1 (mean mu1).", lambda: 1.0 - expected),
        ("e_step uses sigma**2 as the standard deviation; sigma is already the standard deviation "
         "(norm.pdf(x, mu, sigma), exponent -(x - mu)^2 / (2 sigma^2)).",
         lambda: ref01.e_step(x, mu1, mu2, sigma ** 2)),
        ("e_step treats sigma as a variance (exponent -(x - mu)^2 / (2 sigma)); sigma is the standard deviation, "
         "so the exponent divides by 2 sigma^2.", lambda: ref01.e_step(x, mu1, mu2, np.sqrt(sigma))),
        ("e_step's exponent lacks the factor 1/2: the density is proportional to exp(-(x - mu)^2 / (2 sigma^2)).",
         lambda: ref01.e_step(x, mu1, mu2, sigma / np.sqrt(2.0))),
        ("e_step returns hard 0/1 assignments; the E step keeps the soft probabilities P(z = 1 | x).",
         lambda: (expected > 0.5).astype(float)),
        (density, lambda: np.exp(lj[:, 0])),
        (density, lambda: np.exp(lj[:, 0] - ref01.LOG_HALF)),
    ])
    if found:
        return found
    far = np.all(lj < -700.0, axis=1)  # both densities underflow to 0 in floating point
    if far.any() and z.shape == expected.shape and _close(z[~far], expected[~far]):
        return ("e_step is wrong only at the height far from both means, where both densities underflow to 0: "
                "work with log-densities (np.logaddexp or scipy.special.logsumexp).")
    return (f"e_step differs from P(z = 1 | x) by up to {_max_diff(z, expected):.3g}. P(z = 1 | x) = "
            "N(x | mu1, sigma^2) / (N(x | mu1, sigma^2) + N(x | mu2, sigma^2)), with sigma the standard deviation.")


def _lab01_m_step(kw, out):
    x, z = kw["x"], kw["z_hat"]
    got = np.array([float(np.asarray(v, dtype=float).reshape(())) for v in out])
    expected = np.array(ref01.m_step(x, z))
    if _close(got, expected):
        return None
    return _first_match(got, [
        ("m_step returns (mu2, mu1): the first mean is group 1's, weighted by z_hat = P(z = 1 | x).",
         lambda: expected[::-1]),
        ("m_step divides by n; each mean divides by its own group's total weight (sum z_hat for mu1, "
         "sum (1 - z_hat) for mu2).", lambda: np.array([z @ x, (1 - z) @ x]) / len(x)),
        ("m_step weights mu2 by z_hat; group 2's weights are 1 - z_hat.", lambda: expected[[0, 0]]),
        ("m_step's mu2 divides by sum z_hat; it divides by sum (1 - z_hat).",
         lambda: np.array([expected[0], (1 - z) @ x / z.sum()])),
        ("m_step rounds z_hat to 0/1 before averaging; the M step weights each height by its soft z_hat.",
         lambda: np.array(ref01.m_step(x, (z > 0.5).astype(float)))),
        ("m_step ignores z_hat: both means are the plain average of all the heights.",
         lambda: np.full(2, x.mean())),
    ]) or (f"m_step's means differ from the weighted averages by up to {_max_diff(got, expected):.3g} cm: "
           "mu1 = sum z_hat x / sum z_hat, mu2 = sum (1 - z_hat) x / sum (1 - z_hat).")


def _lab01_incomplete_loglik(kw, out):
    x, mu1, mu2, sigma = kw["x"], kw["mu1"], kw["mu2"], kw["sigma"]
    value = float(np.asarray(out, dtype=float).reshape(()))
    expected = ref01.incomplete_loglik(x, mu1, mu2, sigma)
    if np.isclose(value, expected, rtol=RTOL, atol=ATOL):
        return None
    n, lj = len(x), ref01.log_joint(x, mu1, mu2, sigma)
    log_inside = ("incomplete_loglik puts the log inside the sum over the two groups; the log-likelihood is "
                  "sum_i log(1/2 N(x_i | mu1, sigma^2) + 1/2 N(x_i | mu2, sigma^2)).")
    return _first_match(value, [
        ("incomplete_loglik leaves out the weights 1/2 of the two groups: "
         "p(x) = 1/2 N(x | mu1, sigma^2) + 1/2 N(x | mu2, sigma^2).", lambda: expected - n * ref01.LOG_HALF),
        ("incomplete_loglik is the mean over points; the log-likelihood is the sum.", lambda: expected / n),
        (log_inside, lambda: float(np.sum(lj))),
        (log_inside, lambda: float(np.sum(0.5 * (lj - ref01.LOG_HALF)))),
        ("incomplete_loglik uses sigma**2 as the standard deviation; sigma is already the standard deviation "
         "(norm.pdf(x, mu, sigma)).", lambda: ref01.incomplete_loglik(x, mu1, mu2, sigma ** 2)),
        ("incomplete_loglik treats sigma as a variance; sigma is the standard deviation, so the density is "
         "exp(-(x - mu)^2 / (2 sigma^2)) / (sqrt(2 pi) sigma).",
         lambda: ref01.incomplete_loglik(x, mu1, mu2, np.sqrt(sigma))),
        ("incomplete_loglik is the negative log-likelihood; return log p(x), not -log p(x).", lambda: -expected),
        ("incomplete_loglik leaves out the 1/sqrt(2 pi) factor of the Gaussian density.",
         lambda: expected + 0.5 * n * np.log(2 * np.pi)),
        ("incomplete_loglik leaves out the 1/sigma factor of the Gaussian density.",
         lambda: expected + n * np.log(sigma)),
    ]) or (f"incomplete_loglik differs from the log-likelihood (relative difference "
           f"{abs(value - expected) / abs(expected):.3g}). It is "
           "sum_i log(1/2 N(x_i | mu1, sigma^2) + 1/2 N(x_i | mu2, sigma^2)).")


_COMPARE = {
    ("03-old-faithful", "e_step"): _e_step,
    ("03-old-faithful", "m_step"): _m_step,
    ("03-old-faithful", "loglik"): _loglik,
    ("01-two-means", "e_step"): _lab01_e_step,
    ("01-two-means", "m_step"): _lab01_m_step,
    ("01-two-means", "incomplete_loglik"): _lab01_incomplete_loglik,
}


def judge(assignment: str, function: str, kwargs: dict, output) -> Verdict:
    """The verdict on one output of one graded function for one case's inputs."""
    problem = property_problem(assignment, function, kwargs, output)
    if problem is None:
        problem = _COMPARE[(assignment, function)](kwargs, output)
    return Verdict(problem is None, problem or "")
