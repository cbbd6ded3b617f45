"""Lab 04 (the ±1 saddle point): the judge's comparison of log_density, ll, grad_ll,
hessian_ll and anneal with the reference, naming known mistakes without revealing
expected values."""

from __future__ import annotations

import numpy as np

from .. import reference_saddle_point as ref
from ..compare import ATOL, RTOL, close, first_match, max_diff

ASSIGNMENT = "04-saddle-point"

_DIRAC = ("sigma <= 0 is treated as 0, the Dirac mixture 1/2 delta_mu + 1/2 delta_-mu: its log-density is "
          "+inf at x = +mu and x = -mu and -inf everywhere else.")


def _compare_log_density(kw, out):
    x, mu, sigma = np.asarray(kw["x"], float), kw["mu"], kw["sigma"]
    got = np.asarray(out, dtype=float)
    expected = ref.log_density(x, mu, sigma)
    if close(got, expected):
        return None
    if sigma <= 0:
        return "log_density is wrong for sigma <= 0. " + _DIRAC
    found = first_match(got, [
        ("log_density uses sigma as a variance (exponent -(x - mu)^2 / (2 sigma)); sigma is the standard "
         "deviation: the exponent divides by 2 sigma^2 and the normaliser is 1 / (sqrt(2 pi) sigma).",
         lambda: ref.log_density(x, mu, np.sqrt(sigma))),
        ("log_density uses sigma**2 as the standard deviation; sigma is already the standard deviation.",
         lambda: ref.log_density(x, mu, sigma ** 2)),
        ("log_density leaves out the weights 1/2: p(x) = 1/2 N(x | mu, sigma^2) + 1/2 N(x | -mu, sigma^2).",
         lambda: expected - np.log(0.5)),
        ("log_density puts the log inside the sum: it is log(1/2 N(x | mu) + 1/2 N(x | -mu)), not "
         "1/2 log N(x | mu) + 1/2 log N(x | -mu).",
         lambda: 0.5 * (ref.norm.logpdf(x, mu, sigma) + ref.norm.logpdf(x, -mu, sigma))),
        ("log_density keeps only the + component; the mixture has a second component at -mu.",
         lambda: ref.norm.logpdf(x, mu, sigma) + np.log(0.5)),
        ("log_density returns the density, not its log.", lambda: np.exp(expected)),
    ])
    if found:
        return found
    far = expected < -700.0  # both densities underflow to 0 in floating point
    if far.any() and got.shape == expected.shape and close(got[~far], expected[~far]):
        return ("log_density is wrong only at points far from both components, where both densities underflow "
                "to 0: add the two terms in the log domain (np.logaddexp or scipy.special.logsumexp).")
    return (f"log_density differs from log(1/2 N(x | mu, sigma^2) + 1/2 N(x | -mu, sigma^2)) by up to "
            f"{max_diff(got, expected):.3g} nats.")


def _compare_ll(kw, out):
    mu, sigma = kw["mu"], kw["sigma"]
    value = float(np.asarray(out, dtype=float).reshape(()))
    expected = ref.ll(mu, sigma)
    if np.isinf(expected) or np.isinf(value):
        if value == expected:
            return None
        return "ll is wrong for sigma <= 0. " + _DIRAC + " So ll is +inf when mu = +-1 and -inf otherwise."
    if np.isclose(value, expected, rtol=RTOL, atol=ATOL):
        return None
    if sigma <= 0:
        return "ll is wrong for sigma <= 0. " + _DIRAC
    return first_match(value, [
        ("ll uses sigma as a variance; sigma is the standard deviation (exponent -(x - mu)^2 / (2 sigma^2)).",
         lambda: ref.ll(mu, np.sqrt(sigma))),
        ("ll uses sigma**2 as the standard deviation; sigma is already the standard deviation.",
         lambda: ref.ll(mu, sigma ** 2)),
        ("ll is the mean over the two points; the log-likelihood is their sum.", lambda: expected / 2.0),
        ("ll leaves out the weights 1/2 of the two components.", lambda: expected - 2.0 * np.log(0.5)),
        ("ll is the negative log-likelihood; return log p, not -log p.", lambda: -expected),
        ("ll uses only the point +1; the data are the two points +1 and -1.",
         lambda: float(ref.log_density(np.array([1.0]), mu, sigma)[0])),
    ]) or (f"ll differs from the log-likelihood of the points +1 and -1 (relative difference "
           f"{abs(value - expected) / max(abs(expected), 1e-12):.3g}). It is "
           "sum over x in (+1, -1) of log(1/2 N(x | mu, sigma^2) + 1/2 N(x | -mu, sigma^2)).")


def _compare_grad_ll(kw, out):
    mu, sigma = kw["mu"], kw["sigma"]
    got = np.asarray(out, dtype=float)
    expected = ref.grad_ll(mu, sigma)
    if close(got, expected):
        return None
    if close(got[0], expected[0]):
        which, what = "d ll / d sigma", 1
    elif close(got[1], expected[1]):
        which, what = "d ll / d mu", 0
    else:
        which, what = "both components", None
    named = first_match(got, [
        ("grad_ll has the wrong sign: it returns the gradient of -ll.", lambda: -expected),
        ("grad_ll returns (d ll / d sigma, d ll / d mu); the order is (d ll / d mu, d ll / d sigma).",
         lambda: expected[::-1]),
        ("grad_ll is half the gradient: ll sums over the two points (+1 and -1), and each contributes.",
         lambda: expected / 2.0),
        ("grad_ll is twice the gradient.", lambda: 2.0 * expected),
    ])
    if named:
        return named
    if what is not None:
        ratio = got[what] / expected[what] if expected[what] != 0 else np.nan
        hint = (f" It is off by a factor of {ratio:.3g}." if np.isfinite(ratio) and abs(ratio - round(ratio)) < 1e-6
                else "")
        return (f"grad_ll's {which} is wrong (the other component is right).{hint} Check it against a central "
                "finite difference (ll(mu + h, sigma) - ll(mu - h, sigma)) / (2 h).")
    return (f"grad_ll differs from the gradient of ll by up to {max_diff(got, expected):.3g}. Check each component "
            "against a central finite difference of your ll.")


def _compare_hessian_ll(kw, out):
    mu, sigma = kw["mu"], kw["sigma"]
    got = np.asarray(out, dtype=float)
    expected = ref.hessian_ll(mu, sigma)
    if close(got, expected):
        return None
    named = first_match(got, [
        ("hessian_ll has the wrong sign: it returns the Hessian of -ll.", lambda: -expected),
        ("hessian_ll is half the Hessian: ll sums over the two points, and each contributes.",
         lambda: expected / 2.0),
        ("hessian_ll is twice the Hessian.", lambda: 2.0 * expected),
        ("hessian_ll's mixed derivative d2 ll / d mu d sigma is 0; it is not (except on the line mu = 0).",
         lambda: np.diag(np.diag(expected))),
    ])
    if named:
        return named
    wrong = [name for (i, j), name in [((0, 0), "d2 ll / d mu2"), ((0, 1), "d2 ll / d mu d sigma"),
                                       ((1, 1), "d2 ll / d sigma2")] if not close(got[i, j], expected[i, j])]
    return (f"hessian_ll's {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong. Check each column against "
            "a central finite difference of your grad_ll: (grad_ll(mu + h, sigma) - grad_ll(mu - h, sigma)) / (2 h) "
            "is the first column.")


def _compare_anneal(kw, out):
    mu0, sigmas, n_inner = kw["mu0"], np.asarray(kw["sigmas"], float), kw["n_inner"]
    got = np.asarray(out, dtype=float)
    expected = ref.anneal(mu0, sigmas, n_inner)
    if close(got, expected):
        return None

    def shifted():  # mu recorded before the inner loop of each sigma
        p = expected.copy()
        p[:, 0] = np.r_[mu0, expected[:-1, 0]]
        return p

    def sigma_as_variance():
        p = ref.anneal(mu0, np.sqrt(sigmas), n_inner)
        p[:, 1] = sigmas
        return p

    return first_match(got, [
        ("anneal never lowers sigma: every inner loop uses the first sigma of the schedule. The outer loop "
         "sets sigma = sigmas[t] before the n_inner updates of mu.",
         lambda: np.column_stack([ref.anneal(mu0, np.full_like(sigmas, sigmas[0]), n_inner)[:, 0], sigmas])),
        ("anneal records mu before the inner loop; row t holds mu after the n_inner updates at sigmas[t].",
         shifted),
        ("anneal does n_inner - 1 updates per sigma; it does n_inner.",
         lambda: ref.anneal(mu0, sigmas, n_inner - 1)),
        ("anneal does n_inner + 1 updates per sigma; it does n_inner.",
         lambda: ref.anneal(mu0, sigmas, n_inner + 1)),
        ("anneal's update divides by sigma instead of sigma^2: mu <- tanh(mu / sigma^2).", sigma_as_variance),
        ("anneal restarts every inner loop from mu0; each sigma starts from the mu the previous one reached.",
         lambda: np.column_stack([[ref.anneal(mu0, [s], n_inner)[0, 0] for s in sigmas], sigmas])),
    ]) or (f"anneal's path differs from the annealing path by up to {max_diff(got, expected):.3g}. For each "
           "sigma_t in order: n_inner updates mu <- tanh(mu / sigma_t^2), starting from the previous mu (mu0 at "
           "first); row t is (mu, sigma_t).")


COMPARE = {
    "log_density": _compare_log_density,
    "ll": _compare_ll,
    "grad_ll": _compare_grad_ll,
    "hessian_ll": _compare_hessian_ll,
    "anneal": _compare_anneal,
}
