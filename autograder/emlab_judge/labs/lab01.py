"""Lab 01 (two means): the judge's comparison of e_step, m_step and incomplete_loglik with
the reference, naming known mistakes without revealing expected values."""

from __future__ import annotations

import numpy as np

from .. import reference_two_means as ref01
from ..compare import ATOL, RTOL, close, first_match, max_diff

ASSIGNMENT = "01-two-means"


def _compare_e_step(kw, out):
    x, mu1, mu2, sigma = kw["x"], kw["mu1"], kw["mu2"], kw["sigma"]
    z = np.asarray(out, dtype=float)
    expected = ref01.e_step(x, mu1, mu2, sigma)
    if close(z, expected):
        return None
    lj = ref01.log_joint(x, mu1, mu2, sigma)
    density = ("e_step returns a density, 1/2 N(x | mu1, sigma^2), not a probability: divide by the sum over "
               "both groups.")
    found = first_match(z, [
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
    if far.any() and z.shape == expected.shape and close(z[~far], expected[~far]):
        return ("e_step is wrong only at the height far from both means, where both densities underflow to 0: "
                "work with log-densities (np.logaddexp or scipy.special.logsumexp).")
    return (f"e_step differs from P(z = 1 | x) by up to {max_diff(z, expected):.3g}. P(z = 1 | x) = "
            "N(x | mu1, sigma^2) / (N(x | mu1, sigma^2) + N(x | mu2, sigma^2)), with sigma the standard deviation.")


def _compare_m_step(kw, out):
    x, z = kw["x"], kw["z_hat"]
    got = np.array([float(np.asarray(v, dtype=float).reshape(())) for v in out])
    expected = np.array(ref01.m_step(x, z))
    if close(got, expected):
        return None
    return first_match(got, [
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
    ]) or (f"m_step's means differ from the weighted averages by up to {max_diff(got, expected):.3g} cm: "
           "mu1 = sum z_hat x / sum z_hat, mu2 = sum (1 - z_hat) x / sum (1 - z_hat).")


def _compare_incomplete_loglik(kw, out):
    x, mu1, mu2, sigma = kw["x"], kw["mu1"], kw["mu2"], kw["sigma"]
    value = float(np.asarray(out, dtype=float).reshape(()))
    expected = ref01.incomplete_loglik(x, mu1, mu2, sigma)
    if np.isclose(value, expected, rtol=RTOL, atol=ATOL):
        return None
    n, lj = len(x), ref01.log_joint(x, mu1, mu2, sigma)
    log_inside = ("incomplete_loglik puts the log inside the sum over the two groups; the log-likelihood is "
                  "sum_i log(1/2 N(x_i | mu1, sigma^2) + 1/2 N(x_i | mu2, sigma^2)).")
    return first_match(value, [
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


COMPARE = {
    "e_step": _compare_e_step,
    "m_step": _compare_m_step,
    "incomplete_loglik": _compare_incomplete_loglik,
}
