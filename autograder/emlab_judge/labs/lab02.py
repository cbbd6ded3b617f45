"""Lab 02 (the lower bound): the judge's comparison of compute_loglik, calc_probs, compute_q,
update_mu, update_sigma and update_lambda with the reference, naming known mistakes without
revealing expected values."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, xlogy

from .. import reference_lower_bound as ref
from ..compare import close, first_match, max_diff

ASSIGNMENT = "02-lower-bound"


def _scalar(out) -> float:
    return float(np.asarray(out, dtype=float).reshape(()))


def _far_rows(lj):
    """Rows where every lam_j N(x_i | ...) underflows to 0 in floating point."""
    return np.all(lj < -740.0, axis=1)


def _compare_compute_loglik(kw, out):
    x, lam, mu, sigma = kw["x"], kw["lam"], kw["mu"], kw["sigma"]
    value = _scalar(out)
    expected = ref.compute_loglik(x, lam, mu, sigma)
    if close(value, expected):
        return None
    n, lj = len(x), ref.log_joint(x, lam, mu, sigma)
    no_lam = lj - np.log(lam)[None, :]
    log_inside = ("compute_loglik puts the log inside the sum over the components; the log-likelihood is "
                  "sum_i log(sum_j lam_j N(x_i | mu_j, sigma_j^2)), the log OF the sum.")
    return first_match(value, [
        ("compute_loglik leaves out the weights lam: p(x) = sum_j lam_j N(x | mu_j, sigma_j^2).",
         lambda: float(np.sum(logsumexp(no_lam, axis=1)))),
        ("compute_loglik is the mean over points; the log-likelihood is the sum.", lambda: expected / n),
        (log_inside, lambda: float(np.sum(lj))),
        (log_inside, lambda: float(np.sum(np.exp(np.log(lam))[None, :] * no_lam))),
        ("compute_loglik uses sigma**2 as the standard deviation; sigma is already the standard deviation "
         "(norm.logpdf(x, mu, sigma)).", lambda: ref.compute_loglik(x, lam, mu, sigma ** 2)),
        ("compute_loglik treats sigma as a variance; sigma is the standard deviation (as R's dnorm).",
         lambda: ref.compute_loglik(x, lam, mu, np.sqrt(sigma))),
        ("compute_loglik is the negative log-likelihood; return log p(x), not -log p(x).", lambda: -expected),
        ("compute_loglik leaves out the 1/sqrt(2 pi) factor of the Gaussian density.",
         lambda: expected + 0.5 * n * np.log(2 * np.pi)),
    ]) or (f"compute_loglik differs from the log-likelihood (relative difference "
           f"{abs(value - expected) / abs(expected):.3g}). It is sum_i log sum_j lam_j N(x_i | mu_j, sigma_j^2), "
           "with sigma_j the standard deviation.")


def _compare_calc_probs(kw, out):
    x, lam, mu, sigma = kw["x"], kw["lam"], kw["mu"], kw["sigma"]
    g = np.asarray(out, dtype=float)
    expected = ref.calc_probs(x, lam, mu, sigma)
    if close(g, expected):
        return None
    lj = ref.log_joint(x, lam, mu, sigma)
    found = first_match(g, [
        ("calc_probs leaves out the weights lam: gamma_ij is proportional to lam_j N(x_i | mu_j, sigma_j^2).",
         lambda: ref.calc_probs(x, np.full(len(lam), 1.0 / len(lam)), mu, sigma)),
        ("calc_probs uses sigma**2 as the standard deviation; sigma is already the standard deviation.",
         lambda: ref.calc_probs(x, lam, mu, sigma ** 2)),
        ("calc_probs treats sigma as a variance; sigma is the standard deviation (as R's dnorm).",
         lambda: ref.calc_probs(x, lam, mu, np.sqrt(sigma))),
        ("calc_probs normalises over the points (columns sum to 1); each point's row sums to 1.",
         lambda: np.exp(lj - logsumexp(lj, axis=0, keepdims=True))),
        ("calc_probs returns hard 0/1 assignments; the E step keeps the soft posterior probabilities.",
         lambda: np.eye(len(lam))[np.argmax(expected, axis=1)]),
    ])
    if found:
        return found
    far = _far_rows(lj)
    if far.any() and g.shape == expected.shape and close(g[~far], expected[~far]):
        return ("calc_probs is wrong only at the point far from every component, where all the densities "
                "underflow: work with log-densities and normalise with scipy.special.logsumexp.")
    return (f"calc_probs differs from the posterior by up to {max_diff(g, expected):.3g}. gamma_ij = "
            "lam_j N(x_i | mu_j, sigma_j^2) / sum_l lam_l N(x_i | mu_l, sigma_l^2).")


def _compare_compute_q(kw, out):
    x, lam, mu, sigma, gamma = kw["x"], kw["lam"], kw["mu"], kw["sigma"], kw["gamma"]
    value = _scalar(out)
    expected = ref.compute_q(x, lam, mu, sigma, gamma)
    if close(value, expected):
        return None
    entropy = -float(np.sum(xlogy(gamma, gamma)))
    lj = ref.log_joint(x, lam, mu, sigma)
    return first_match(value, [
        ("compute_q leaves out the entropy term -sum_ij gamma_ij log gamma_ij; without it Q is below the "
         "log-likelihood even when gamma is the posterior.", lambda: expected - entropy),
        ("compute_q adds sum_ij gamma_ij log gamma_ij; the entropy term is its negative, "
         "-sum_ij gamma_ij log gamma_ij.", lambda: expected - 2 * entropy),
        ("compute_q leaves out log lam_j: Q = sum_ij gamma_ij log(lam_j N(x_i | mu_j, sigma_j^2)) + entropy.",
         lambda: expected - float(np.sum(gamma * np.log(lam)[None, :]))),
        ("compute_q returns the log-likelihood, which does not depend on gamma; Q uses the gamma it is given.",
         lambda: ref.compute_loglik(x, lam, mu, sigma)),
        ("compute_q is the mean over points; Q is the sum.", lambda: expected / len(x)),
        ("compute_q uses sigma**2 as the standard deviation; sigma is already the standard deviation.",
         lambda: ref.compute_q(x, lam, mu, sigma ** 2, gamma)),
        ("compute_q treats sigma as a variance; sigma is the standard deviation (as R's dnorm).",
         lambda: ref.compute_q(x, lam, mu, np.sqrt(sigma), gamma)),
        ("compute_q uses the posterior at (lam, mu, sigma) instead of the gamma it is given.",
         lambda: ref.compute_q(x, lam, mu, sigma, ref.calc_probs(x, lam, mu, sigma))),
        ("compute_q sums gamma_ij log gamma_ij - ... with the signs of both terms flipped: Q = "
         "sum gamma log(lam N) - sum gamma log gamma.", lambda: -expected),
    ]) or (f"compute_q differs from the bound (relative difference {abs(value - expected) / abs(expected):.3g}). "
           "Q = sum_ij gamma_ij log(lam_j N(x_i | mu_j, sigma_j^2)) - sum_ij gamma_ij log gamma_ij, with "
           f"{'log-densities for the point far from every component and ' if _far_rows(lj).any() else ''}"
           "0 log 0 = 0.")


def _compare_update_mu(kw, out):
    x, gamma = kw["x"], kw["gamma"]
    got = np.asarray(out, dtype=float)
    expected = ref.update_mu(x, gamma)
    if close(got, expected):
        return None
    n, k = gamma.shape
    return first_match(got, [
        ("update_mu divides by n; each mean divides by its own component's weight N_j = sum_i gamma_ij.",
         lambda: gamma.T @ x / n),
        ("update_mu ignores gamma: every mean is the plain average of the points. Weight point i by gamma_ij.",
         lambda: np.full(k, x.mean())),
        ("update_mu rounds gamma to 0/1 before averaging; weight each point by its soft gamma_ij.",
         lambda: ref.update_mu(x, np.eye(k)[np.argmax(gamma, axis=1)])),
    ]) or (f"update_mu differs from the weighted means by up to {max_diff(got, expected):.3g}: "
           "mu_j = sum_i gamma_ij x_i / sum_i gamma_ij.")


def _compare_update_sigma(kw, out):
    x, gamma, mu = kw["x"], kw["gamma"], kw["mu"]
    got = np.asarray(out, dtype=float)
    expected = ref.update_sigma(x, gamma, mu)
    if close(got, expected):
        return None
    n = gamma.shape[0]
    return first_match(got, [
        ("update_sigma returns variances; return standard deviations (the square roots).", lambda: expected ** 2),
        ("update_sigma divides by n; each variance divides by its own component's weight N_j = sum_i gamma_ij.",
         lambda: np.sqrt(expected ** 2 * gamma.sum(axis=0) / n)),
        ("update_sigma divides by n and returns variances: divide by N_j = sum_i gamma_ij and take the square "
         "root.", lambda: expected ** 2 * gamma.sum(axis=0) / n),
        ("update_sigma measures the spread about the weighted means of gamma, not about the mu it is given "
         "(in EM the two are the same; here they are not).",
         lambda: ref.update_sigma(x, gamma, ref.update_mu(x, gamma))),
        ("update_sigma ignores gamma: weight each squared deviation by gamma_ij.",
         lambda: np.sqrt(np.mean((x[:, None] - mu[None, :]) ** 2, axis=0))),
        ("update_sigma divides by N_j - 1; the maximum-likelihood variance divides by N_j.",
         lambda: np.sqrt(expected ** 2 * gamma.sum(axis=0) / (gamma.sum(axis=0) - 1))),
    ]) or (f"update_sigma differs from the weighted standard deviations by up to {max_diff(got, expected):.3g}: "
           "sigma_j = sqrt(sum_i gamma_ij (x_i - mu_j)^2 / sum_i gamma_ij), about the given mu.")


def _compare_update_lambda(kw, out):
    gamma = kw["gamma"]
    got = np.asarray(out, dtype=float)
    expected = ref.update_lambda(gamma)
    if close(got, expected):
        return None
    return first_match(got, [
        ("update_lambda returns the counts N_j = sum_i gamma_ij; the weights are N_j / n.",
         lambda: gamma.sum(axis=0)),
        ("update_lambda rounds gamma to 0/1 before counting; average the soft gamma.",
         lambda: ref.update_lambda(np.eye(gamma.shape[1])[np.argmax(gamma, axis=1)])),
    ]) or (f"update_lambda differs from the average of each column of gamma by up to "
           f"{max_diff(got, expected):.3g}: lam_j = sum_i gamma_ij / n.")


COMPARE = {
    "compute_loglik": _compare_compute_loglik,
    "calc_probs": _compare_calc_probs,
    "compute_q": _compare_compute_q,
    "update_mu": _compare_update_mu,
    "update_sigma": _compare_update_sigma,
    "update_lambda": _compare_update_lambda,
}
