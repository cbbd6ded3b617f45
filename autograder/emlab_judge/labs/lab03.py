"""Lab 03 (Old Faithful): the judge's comparison of e_step, m_step and loglik with the
reference, naming known mistakes ("Sigma is divided by N; ...") without revealing expected values."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .. import reference as ref
from ..compare import ATOL, RTOL, close, first_match, max_diff

ASSIGNMENT = "03-old-faithful"


def _log_gaussian_with(X, mu, Sigma, P):
    """log N(x | mu, Sigma) with P in the exponent where Sigma^-1 belongs (P = Sigma: a known mistake)."""
    diff = X[:, None, :] - mu[None, :, :]
    logdet = np.linalg.slogdet(Sigma)[1]
    return -0.5 * (X.shape[1] * np.log(2 * np.pi) + logdet[None, :] + np.einsum("nki,kij,nkj->nk", diff, P, diff))


def _compare_e_step(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    gamma = np.asarray(out, dtype=float)
    expected = ref.e_step(X, mu, Sigma, pi)
    if close(gamma, expected):
        return None

    def normalised(logits):
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))

    lg = ref.log_gaussian(X, mu, Sigma)
    logdet = np.array([np.linalg.slogdet(S)[1] for S in Sigma])
    return first_match(gamma, [
        ("Your responsibilities ignore the mixing weights: multiply each density by pi_k before normalising.",
         lambda: normalised(lg)),
        ("Your responsibilities leave out the determinant factor |Sigma_k|^(-1/2) of the Gaussian density; "
         "it differs between components and does not cancel.",
         lambda: normalised(lg + 0.5 * logdet[None, :] + np.log(pi)[None, :])),
        ("Your responsibilities are hard 0/1 assignments; EM's E step keeps the soft posterior probabilities.",
         lambda: np.eye(len(pi))[np.argmax(expected, axis=1)]),
        ("Your density uses Sigma_k in the exponent; the Gaussian has its inverse, (x - mu_k)^T Sigma_k^(-1) (x - mu_k).",
         lambda: normalised(_log_gaussian_with(X, mu, Sigma, Sigma) + np.log(pi)[None, :])),
    ]) or (f"gamma differs from the correct responsibilities by up to {max_diff(gamma, expected):.3g}. "
           "Check the Gaussian density (the inverse covariance in the exponent, |Sigma_k| under the square "
           "root, (2 pi)^(D/2)) and the weighting by pi_k.")


def _compare_m_step(kw, out):
    X, gamma = kw["X"], kw["gamma"]
    N, K = X.shape[0], gamma.shape[1]
    mu, Sigma, pi = (np.asarray(a, dtype=float) for a in out)
    mu_e, Sigma_e, pi_e = ref.m_step(X, gamma)
    Nk = gamma.sum(axis=0)
    if not close(mu, mu_e):
        return first_match(mu, [
            ("mu is divided by N; each mean divides by its own N_k = sum_n gamma[n, k].", lambda: (gamma.T @ X) / N),
            ("mu ignores the responsibilities: each mean is a gamma-weighted average of the points.",
             lambda: np.repeat(X.mean(axis=0, keepdims=True), K, axis=0)),
        ]) or (f"mu differs from the weighted means by up to {max_diff(mu, mu_e):.3g}: "
               "mu_k = sum_n gamma[n, k] x_n / N_k.")
    if not close(Sigma, Sigma_e):
        diff = X[None, :, :] - mu_e[:, None, :]
        return first_match(Sigma, [
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
        ]) or (f"Sigma differs from the weighted covariances by up to {max_diff(Sigma, Sigma_e):.3g}: "
               "Sigma_k = sum_n gamma[n, k] (x_n - mu_k)(x_n - mu_k)^T / N_k, with the new mu_k.")
    if not close(pi, pi_e):
        return first_match(pi, [
            ("pi is uniform; each weight is the component's share N_k / N of the points.",
             lambda: np.full(K, 1.0 / K)),
        ]) or f"pi differs from N_k / N by up to {max_diff(pi, pi_e):.3g}."
    return None


def _compare_loglik(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    value = float(np.asarray(out, dtype=float).reshape(()))
    expected = ref.loglik(X, mu, Sigma, pi)
    if np.isclose(value, expected, rtol=RTOL, atol=ATOL):
        return None
    lg = ref.log_gaussian(X, mu, Sigma)
    return first_match(value, [
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


COMPARE = {
    "e_step": _compare_e_step,
    "m_step": _compare_m_step,
    "loglik": _compare_loglik,
}
