"""Lab 05 (EM in practice): the visible checks of ``grad_neg_loglik``, ``m_step_isotropic``,
``running_mean_var``, ``reset_starved``, ``merge_candidates``, ``split_criterion`` and
``information_criteria``.

Isotropic mixtures: X (N, D), mu (M, D), sigma (M,) standard deviations or sigma2 (M,)
variances, pi (M,), logits (M,) with pi = softmax(logits), gamma (N, M); the information
criteria take full covariances Sigma (K, D, D). Log-likelihoods in nats. Every expected value
below is worked out by hand in its case's ``why``; the gradient is also compared with a
finite difference of E = -log L computed with the notebook's own ``mixture_loglik`` (passed
to the check).
"""

from __future__ import annotations

import math

import numpy as np

from ..visible import Case, FunctionSpec, Mistake, Output, close

LOG_2PI = math.log(2.0 * math.pi)

FD_STEP = 1e-6                    # the central finite difference's step
FD_RTOL, FD_ATOL = 1e-4, 1e-5     # how close a gradient must be to the finite difference


# --------------------------------------------------------------------------- grad_neg_loglik
def _softmax(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    e = np.exp(a - a.max())
    return e / e.sum()


def _numeric_gradient(s) -> tuple:
    """The central finite differences of E = -loglik(X, mu, sigma**2, softmax(logits)) with
    respect to mu, sigma and the logits, at the case's arguments (``s`` is a Seen; ``loglik``
    is the notebook's ``mixture_loglik``, given to the check)."""
    loglik = s.context.get("loglik")
    if not callable(loglik):
        raise TypeError("check_grad_neg_loglik(grad_neg_loglik, mixture_loglik): the second argument is the "
                        f"notebook's log-likelihood function mixture_loglik; got {type(loglik).__name__}.")
    X = s.args["X"]
    params = [np.array(s.args[name], dtype=float) for name in ("mu", "sigma", "logits")]

    def E(mu, sigma, logits):
        return -float(loglik(X, mu, sigma ** 2, _softmax(logits)))

    grads = []
    for which, base in enumerate(params):
        fd = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = [p.copy() for p in params], [p.copy() for p in params]
            plus[which][idx] += FD_STEP
            minus[which][idx] -= FD_STEP
            fd[idx] = (E(*plus) - E(*minus)) / (2 * FD_STEP)
        grads.append(fd)
    return tuple(grads)


def _near(a, b) -> bool:
    return close(a, b, rtol=FD_RTOL, atol=FD_ATOL)


def _logits_sum_to_zero(d_logits) -> bool:
    d = np.asarray(d_logits, dtype=float)
    return abs(d.sum()) < 1e-8 * max(1.0, float(np.abs(d).max()))


def _agrees_with_finite_differences(s) -> bool:
    fd = _numeric_gradient(s)
    return all(_near(got, want) for got, want in zip(s.out, fd)) and _logits_sum_to_zero(s.out[2])


def _fd_test(rule):
    """A mistake test comparing the output with the finite differences: rule(out, fd, s)."""
    return lambda s: bool(rule(s.out, _numeric_gradient(s), s))


def _through_softmax(s, d_pi) -> np.ndarray:
    """The chain rule through pi = softmax(logits) applied to a claimed dE/dpi:
    dE/da_j = pi_j (dE/dpi_j - sum_k pi_k dE/dpi_k)."""
    pi = _softmax(s.args["logits"])
    return pi * (np.asarray(d_pi, dtype=float) - pi @ np.asarray(d_pi, dtype=float))


def _counts(s, fd) -> np.ndarray:
    """N_j = sum_i gamma_ij, read off the finite difference: dE/da_j = N pi_j - N_j."""
    return len(s.args["X"]) * _softmax(s.args["logits"]) - fd[2]


SIGN_MESSAGE = ("the gradient has the opposite sign: that is the gradient of log L. E = -log L, so every part of its "
                "gradient is minus that of log L: dE/dmu_j = sum_i gamma_ij (mu_j - x_i) / sigma_j^2, "
                "dE/dsigma_j = sum_i gamma_ij (D / sigma_j - ||x_i - mu_j||^2 / sigma_j^3), "
                "dE/da_j = -sum_i (gamma_ij - pi_j).")
NO_SOFTMAX_MESSAGE = ("d_logits is dE/dpi_j = -sum_i gamma_ij / pi_j, the derivative with respect to the weights "
                      "themselves. The weights are pi = softmax(logits): through the softmax, "
                      "dE/da_j = -sum_i (gamma_ij - pi_j).")
NO_NORMALISATION_MESSAGE = ("d_logits is -sum_i gamma_ij = -N_j: the softmax's normalisation is missing. Through "
                            "pi = softmax(a), dE/da_j = -sum_i (gamma_ij - pi_j) = N pi_j - N_j.")
ONE_DIMENSION_MESSAGE = ("d_sigma uses 1 / sigma_j where it should use D / sigma_j: ln N(x | mu, sigma^2 I) has "
                         "-D ln sigma, one -ln sigma per coordinate, so dE/dsigma_j = sum_i gamma_ij (D / sigma_j - "
                         "||x_i - mu_j||^2 / sigma_j^3).")
VARIANCE_MESSAGE = ("d_sigma is the derivative with respect to the variance sigma_j^2; the function returns "
                    "dE/dsigma_j, with respect to the standard deviation (twice sigma_j times yours): "
                    "sum_i gamma_ij (D / sigma_j - ||x_i - mu_j||^2 / sigma_j^3).")
MU_SQUARED_MESSAGE = ("d_mu is not divided by sigma_j^2: dE/dmu_j = sum_i gamma_ij (mu_j - x_i) / sigma_j^2.")
MU_SIGMA_MESSAGE = ("d_mu is divided by sigma_j instead of sigma_j^2 (sigma is the standard deviation): "
                    "dE/dmu_j = sum_i gamma_ij (mu_j - x_i) / sigma_j^2.")

# the hand case: one point x = (0, 0), two identical components at (1, 0) with sigma = 2,
# logits (ln 3, 0): pi = gamma = (3/4, 1/4), ||x - mu||^2 = 1
HAND_D_MU = [[3 / 16, 0.0], [1 / 16, 0.0]]        # gamma_j (mu_j - x) / sigma^2 = gamma_j (1/4, 0)
HAND_D_SIGMA = [21 / 32, 7 / 32]                   # gamma_j (D / sigma - 1 / sigma^3) = gamma_j 7/8

# the finite-difference case: 12 points in D = 2, M = 3 components, drawn once with a seed
_rng = np.random.default_rng(1)
FD_X = _rng.normal(size=(12, 2)) * 2.0
FD_MU = _rng.normal(size=(3, 2))
FD_SIGMA = _rng.uniform(0.7, 1.8, size=3)
FD_LOGITS = _rng.normal(size=3)
del _rng

GRAD_NEG_LOGLIK = FunctionSpec(
    name="grad_neg_loglik",
    params=("X", "mu", "sigma", "logits"),
    returns=(Output("d_mu", lambda a: np.shape(a["mu"]), "(M, D), like mu"),
             Output("d_sigma", ("sigma",), "(M,), one per component"),
             Output("d_logits", ("logits",), "(M,), one per component")),
    context=("loglik",),
    nonfinite=Mistake("nonfinite", (
        "Use the given responsibilities(X, mu, sigma**2, pi) for gamma (it works in the log domain) rather than "
        "dividing densities yourself, and sigma (a standard deviation, positive) as given.")),
    cases=(
        Case("one point x = (0, 0), two identical components at (1, 0) with sigma = 2, logits (ln 3, 0)",
             dict(X=[[0.0, 0.0]], mu=[[1.0, 0.0], [1.0, 0.0]], sigma=[2.0, 2.0], logits=[math.log(3.0), 0.0]),
             expect=(HAND_D_MU, HAND_D_SIGMA, [0.0, 0.0]), atol=1e-9,
             why=("Identical components share the point in the ratio of their weights: pi = softmax(ln 3, 0) = "
                  "(3/4, 1/4) and gamma = (3/4, 1/4), so d_logits = -(gamma - pi) = (0, 0). With ||x - mu||^2 = 1 "
                  "and D = 2, d_mu_j = gamma_j (mu_j - x) / sigma^2 = gamma_j (1/4, 0) and d_sigma_j = gamma_j "
                  "(D / sigma - ||x - mu||^2 / sigma^3) = gamma_j (1 - 1/8): (21/32, 7/32)."),
             mistakes=(
                 Mistake("gradient_of_log_L", SIGN_MESSAGE,
                         test=lambda s: close(s.out[1], [-v for v in HAND_D_SIGMA])
                         or close(s.out[0], [[-v for v in row] for row in HAND_D_MU])),
                 Mistake("logits_without_softmax", NO_SOFTMAX_MESSAGE + " Here -gamma_j / pi_j = -1 for both.",
                         gives=(None, None, [-1.0, -1.0])),
                 Mistake("softmax_normalisation_missing", NO_NORMALISATION_MESSAGE, gives=(None, None, [-0.75, -0.25])),
                 Mistake("sigma_one_dimension", ONE_DIMENSION_MESSAGE + " Here 1 / sigma gives (9/32, 3/32).",
                         gives=(None, [9 / 32, 3 / 32], None)),
                 Mistake("derivative_wrt_variance", VARIANCE_MESSAGE, gives=(None, [21 / 128, 7 / 128], None)),
                 Mistake("mu_not_over_variance", MU_SQUARED_MESSAGE, gives=([[0.75, 0.0], [0.25, 0.0]], None, None)),
                 Mistake("mu_over_sigma", MU_SIGMA_MESSAGE, gives=([[0.375, 0.0], [0.125, 0.0]], None, None)),
             )),
        Case("12 points in D = 2, M = 3 components (seeded), every entry against a finite difference of E",
             dict(X=FD_X, mu=FD_MU, sigma=FD_SIGMA, logits=FD_LOGITS),
             holds=_agrees_with_finite_differences,
             why=("Each entry is compared with the central finite difference (E(theta + h) - E(theta - h)) / (2 h), "
                  "h = 1e-6, of E = -mixture_loglik(X, mu, sigma**2, softmax(logits)) (to a relative 1e-4); and "
                  "d_logits must sum to zero: adding the same number to every logit does not change pi."),
             mistakes=(
                 Mistake("gradient_of_log_L", SIGN_MESSAGE, test=_fd_test(
                     lambda out, fd, s: any(_near(-o, f) and not _near(o, f) for o, f in zip(out, fd)))),
                 Mistake("logits_without_softmax", NO_SOFTMAX_MESSAGE, test=_fd_test(
                     lambda out, fd, s: _near(_through_softmax(s, out[2]), fd[2]) and not _near(out[2], fd[2]))),
                 Mistake("softmax_normalisation_missing", NO_NORMALISATION_MESSAGE, test=_fd_test(
                     lambda out, fd, s: _near(out[2] + len(s.args["X"]) * _softmax(s.args["logits"]), fd[2]))),
                 Mistake("sigma_one_dimension", ONE_DIMENSION_MESSAGE, test=_fd_test(
                     lambda out, fd, s: _near(out[1], fd[1] - (s.args["X"].shape[1] - 1) * _counts(s, fd)
                                              / s.args["sigma"]) and not _near(out[1], fd[1]))),
                 Mistake("derivative_wrt_variance", VARIANCE_MESSAGE,
                         test=_fd_test(lambda out, fd, s: _near(2 * s.args["sigma"] * out[1], fd[1]))),
                 Mistake("mu_not_over_variance", MU_SQUARED_MESSAGE,
                         test=_fd_test(lambda out, fd, s: _near(out[0], fd[0] * s.args["sigma"][:, None] ** 2))),
                 Mistake("mu_over_sigma", MU_SIGMA_MESSAGE,
                         test=_fd_test(lambda out, fd, s: _near(out[0], fd[0] * s.args["sigma"][:, None]))),
                 Mistake("d_mu_wrong", (
                     "d_mu differs from a finite difference of E = -log L: dE/dmu_j = sum_i gamma_ij (mu_j - x_i) / "
                     "sigma_j^2, with gamma = responsibilities(X, mu, sigma**2, softmax(logits))."),
                     test=_fd_test(lambda out, fd, s: not _near(out[0], fd[0]))),
                 Mistake("d_sigma_wrong", (
                     "d_sigma differs from a finite difference of E = -log L: dE/dsigma_j = sum_i gamma_ij "
                     "(D / sigma_j - ||x_i - mu_j||^2 / sigma_j^3), with sigma the standard deviations."),
                     test=_fd_test(lambda out, fd, s: not _near(out[1], fd[1]))),
                 Mistake("d_logits_wrong", (
                     "d_logits differs from a finite difference of E = -log L: dE/da_j = -sum_i (gamma_ij - pi_j) "
                     "with pi = softmax(logits)."),
                     test=_fd_test(lambda out, fd, s: not _near(out[2], fd[2]))),
                 Mistake("logits_do_not_sum_to_zero", (
                     "d_logits should sum to zero: adding the same number to every logit does not change pi "
                     "(sum_j -sum_i (gamma_ij - pi_j) = -(N - N) = 0)."),
                     test=lambda s: not _logits_sum_to_zero(s.out[2])),
             )),
    ),
    passed=("grad_neg_loglik looks right: shapes, all three parts agree with finite differences of E, "
            "d_logits sums to zero, inputs untouched."),
)


# --------------------------------------------------------------------------- m_step_isotropic
def _n_components(a) -> int:
    return np.shape(a["gamma"])[1]


M_STEP_ISOTROPIC = FunctionSpec(
    name="m_step_isotropic",
    params=("X", "gamma"),
    returns=(Output("mu", lambda a: (_n_components(a), np.shape(a["X"])[1]), "(M, D): a mean per component"),
             Output("sigma2", lambda a: (_n_components(a),), "(M,): one variance per component"),
             Output("pi", lambda a: (_n_components(a),), "(M,): a weight per component")),
    nonfinite=Mistake("nonfinite", (
        "Divide each component's sums by its own N_j = sum_i gamma_ij (every N_j is positive here).")),
    mistakes=(
        Mistake("variance_per_coordinate", (
            "sigma2 holds one variance per component AND per coordinate; an isotropic component has one variance "
            "shared by the D coordinates, shape (M,): sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j)."),
            test=lambda s: np.ndim(s.out[1]) == 2 and np.shape(s.out[1])[0] == _n_components(s.args)),
    ),
    cases=(
        Case("0/1 responsibilities: 4 points around (1, 1), 2 points around (10, 12), in D = 2",
             dict(X=[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0], [10.0, 10.0], [10.0, 14.0]],
                  gamma=[[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 2),
             expect=([[1.0, 1.0], [10.0, 12.0]], [1.0, 2.0], [4 / 6, 2 / 6]),
             why=("With 0/1 responsibilities each mean is the average of its own points, (1, 1) and (10, 12); the "
                  "squared distances to them are 2 each for component 0 (sum 8 over N_0 = 4 points) and 4 each for "
                  "component 1 (sum 8 over N_1 = 2), so sigma_j^2 = sum / (D N_j) = 8 / 8 = 1 and 8 / 4 = 2; and "
                  "pi_j = N_j / N = (2/3, 1/3)."),
             mistakes=(
                 Mistake("variance_without_1_over_D", (
                     "sigma2 is the mean squared distance to the mean, but it should also divide by D: "
                     "sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j), the variance of one coordinate."),
                     gives=(None, [2.0, 4.0], None)),
                 Mistake("variance_over_N", (
                     "sigma2 divides by N D; each component's variance divides by its own N_j D: "
                     "sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j)."), gives=(None, [8 / 12, 8 / 12], None)),
                 Mistake("mean_over_N", (
                     "mu divides the weighted sums by N; each mean divides by its own N_j = sum_i gamma_ij: with 0/1 "
                     "responsibilities it is the average of the component's own points."),
                     test=lambda s: close(s.out[0], [[4 / 6, 4 / 6], [20 / 6, 24 / 6]])),
                 Mistake("pi_not_normalised", "pi is N_j; divide by N so that the weights sum to one: pi_j = N_j / N.",
                         gives=(None, None, [4.0, 2.0])),
                 Mistake("standard_deviation_not_variance", (
                     "sigma2 looks like the standard deviations; return the variances sigma_j^2."),
                     gives=(None, [1.0, math.sqrt(2.0)], None)),
             )),
        Case("two points (0, 0) and (4, 0) shared 3/4 : 1/4 and 1/4 : 3/4 by two components",
             dict(X=[[0.0, 0.0], [4.0, 0.0]], gamma=[[0.75, 0.25], [0.25, 0.75]]),
             expect=([[1.0, 0.0], [3.0, 0.0]], [1.5, 1.5], [0.5, 0.5]),
             why=("N_0 = N_1 = 1; mu_0 = 3/4 (0, 0) + 1/4 (4, 0) = (1, 0) and mu_1 = (3, 0); the squared distances to "
                  "the NEW means are 1 and 9, so sigma_0^2 = (3/4 * 1 + 1/4 * 9) / (D N_0) = 3 / 2 = 1.5, and "
                  "sigma_1^2 = 1.5 likewise; pi = (1/2, 1/2)."),
             mistakes=(
                 Mistake("variance_without_1_over_D", (
                     "sigma2 is the mean squared distance to the mean, but it should also divide by D: "
                     "sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j), the variance of one coordinate."),
                     gives=(None, [3.0, 3.0], None)),
                 Mistake("variance_over_N", (
                     "sigma2 divides by N D; each component's variance divides by its own N_j D: "
                     "sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j)."), gives=(None, [0.75, 0.75], None)),
                 Mistake("variance_around_old_or_data_mean", (
                     "sigma2 measures the distances to the data mean (2, 0) (or to old means), not to the new "
                     "means mu_j computed in this same M step."), gives=(None, [2.0, 2.0], None)),
             )),
    ),
    passed=("m_step_isotropic looks right on 0/1 responsibilities: means, variances with the 1/D, weights N_j/N; "
            "inputs untouched."),
)


# --------------------------------------------------------------------------- running_mean_var
FIVE = [4.0, 8.0, 6.0, 2.0, 10.0]
FIVE_MEANS = [4.0, 6.0, 6.0, 5.0, 6.0]
FIVE_VARIANCES = [0.0, 4.0, 8 / 3, 5.0, 8.0]       # dividing by n: 0, 16/4, 8/3, 20/4, 40/5
OFFSET = 1e8


def _n_values(a) -> tuple:
    return (len(a["x"]),)


RUNNING_MEAN_VAR = FunctionSpec(
    name="running_mean_var",
    params=("x",),
    returns=(Output("means", _n_values, "(n,): the estimate after each number"),
             Output("variances", _n_values, "(n,): the estimate after each number")),
    nonfinite=Mistake("variance_of_one_value_nan", (
        "After one number the variance (dividing by n = 1) is 0; NaN there is 0 / 0, from dividing by n - 1. "
        "Start from m_1 = x_1 and s^2_1 = 0, and divide by n.")),
    mistakes=(
        Mistake("final_values_only", (
            "you return one mean and one variance; return the estimates after EACH number: means[k] and "
            "variances[k] are those of x[0], ..., x[k], arrays of shape (n,)."),
            test=lambda s: np.ndim(s.out[0]) == 0 and len(s.args["x"]) > 1),
    ),
    cases=(
        Case("x = 4, 8, 6, 2, 10",
             dict(x=FIVE),
             expect=(FIVE_MEANS, FIVE_VARIANCES),
             why=("The means of the first 1..5 numbers are 4, 6, 6, 5, 6; the variances dividing by n are 0, "
                  "(4 + 4) / 2 = 4, (4 + 4 + 0) / 3 = 8/3, (1 + 9 + 1 + 9) / 4 = 5 and (4 + 4 + 0 + 16 + 16) / 5 = 8."),
             mistakes=(
                 Mistake("divides_by_n_minus_1", (
                     "the variances divide by n - 1; this lab's running variance divides by n (the "
                     "maximum-likelihood estimate), as the slides' update does."),
                     test=lambda s: close(s.out[1][1:], [8.0, 4.0, 20 / 3, 10.0])),
                 Mistake("new_mean_only", (
                     "the variance update uses (x_n - m_n)^2, the new mean only: that update is biased. Use "
                     "Welford's product (x_n - m_(n-1)) (x_n - m_n)."),
                     gives=(None, [0.0, 2.0, 4 / 3, 13 / 4, 29 / 5])),
                 Mistake("old_mean_only", (
                     "the variance update uses (x_n - m_(n-1))^2, the old mean only: that update is biased. Use "
                     "Welford's product (x_n - m_(n-1)) (x_n - m_n)."),
                     gives=(None, [0.0, 8.0, 16 / 3, 8.0, 57 / 5])),
                 Mistake("standard_deviations", "the variances look like standard deviations; return the variances.",
                         test=lambda s: close(s.out[1], np.sqrt(FIVE_VARIANCES))),
                 Mistake("means_shifted", (
                     "the means are shifted by one: means[k] is the mean of the first k + 1 numbers, x[0] to x[k] "
                     "(so means[0] = x[0])."), gives=([0.0, 4.0, 6.0, 6.0, 5.0], None)),
             )),
        Case("one number, x = 4.25",
             dict(x=[4.25]),
             expect=([4.25], [0.0]),
             why="After one number the mean is that number and the variance (dividing by n = 1) is 0."),
        Case("x = 10^8 + 4, 10^8 + 8, 10^8 + 6, 10^8 + 2, 10^8 + 10 (a large offset)",
             dict(x=[OFFSET + v for v in FIVE]),
             expect=([OFFSET + m for m in FIVE_MEANS], FIVE_VARIANCES), rtol=1e-12, atol=1e-5,
             why=("Adding the same number to every value moves the means by it and leaves the variances as they "
                  "were: 0, 4, 8/3, 5, 8."),
             mistakes=(
                 Mistake("sum_of_squares_cancellation", (
                     "right on small numbers, wrong when they share a large offset: the variance as (mean of x^2) - "
                     "(mean)^2 subtracts two numbers near 10^16 and loses every digit. Use the updates with "
                     "(x_n - m_(n-1)) (x_n - m_n), which never square a large number."),
                     test=lambda s: close(s.out[0], [OFFSET + m for m in FIVE_MEANS], rtol=1e-12, atol=1e-5)
                     and not close(s.out[1], FIVE_VARIANCES, rtol=1e-6, atol=1e-3)),
             )),
    ),
    passed="running_mean_var looks right: the means and variances (dividing by n) after each point; input untouched.",
)


# --------------------------------------------------------------------------- reset_starved
# Eight points, four components holding N_k = 5, 1.5, 1 and 0.5 of them: the threshold is
# N / (2M) = 1, so only component 3 is starved (1.5 is below N / M = 2, and 1 is exactly at the
# threshold: neither is starved).
RESET_X = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5], [5.0, 5.0], [6.0, 5.0], [5.0, 6.0]]
RESET_GAMMA = [[1.0, 0.0, 0.0, 0.0]] * 5 + [[0.0, 1.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5], [0.0, 0.0, 1.0, 0.0]]
RESET_MU = [[0.5, 0.5], [5.3, 5.0], [5.0, 6.0], [20.0, 20.0]]
RESET_SIGMA2 = [0.25, 0.125, 0.1, 0.01]
RESET_PI = [0.6, 0.2, 0.15, 0.05]
# The data's isotropic variance: both coordinates have mean 18.5 / 8 = 2.3125 and sum of squares
# 88.25, so each coordinate's sum of squared deviations is 88.25 - 8 * 2.3125^2 = 45.46875; over
# both coordinates 90.9375, divided by N D = 16:
DATA_VARIANCE = 5.68359375          # = 90.9375 / 16 = 1455 / 256
STARVED_PI = [0.6 / 1.2, 0.2 / 1.2, 0.15 / 1.2, 0.25 / 1.2]   # pi_3 <- 1/M = 1/4, then divided by the sum 1.2


def _mu_row(s, j: int, want) -> bool:
    return close(np.asarray(s.out[0])[j], want)


RESET_STARVED = FunctionSpec(
    name="reset_starved",
    params=("X", "gamma", "mu", "sigma2", "pi", "candidates"),
    returns=(Output("mu", lambda a: np.shape(a["mu"]), "(M, D), like mu"),
             Output("sigma2", ("sigma2",), "(M,), like sigma2"),
             Output("pi", ("pi",), "(M,), like pi")),
    integer_arguments=("candidates",),
    cases=(
        Case("8 points, 4 components holding N_k = 5, 1.5, 1 and 0.5 of them (threshold N / (2M) = 1)",
             dict(X=RESET_X, gamma=RESET_GAMMA, mu=RESET_MU, sigma2=RESET_SIGMA2, pi=RESET_PI, candidates=[0, 1, 2, 5]),
             expect=(RESET_MU[:3] + [[5.0, 5.0]], RESET_SIGMA2[:3] + [DATA_VARIANCE], STARVED_PI),
             why=("N_k is the sum of gamma's column k: 5, 1.5, 1 and 0.5. Only component 3 is below N / (2M) = 1 "
                  "(component 2 is exactly at it: not starved), so only it changes: its mean moves to "
                  "X[candidates[3]] = X[5] = (5, 5), its variance becomes the data's isotropic variance "
                  "sum_i ||x_i - mean||^2 / (N D) = 90.9375 / 16 = 5.683594, its weight 1/M = 1/4, and then all the "
                  "weights are divided by their sum 1.2."),
             mistakes=(
                 Mistake("threshold_fair_share", (
                     "component 1 (N_1 = 1.5) was reset: the threshold is half a fair share, N / (2M) = 1, not "
                     "N / M = 2."), test=lambda s: _mu_row(s, 1, [1.0, 0.0])),
                 Mistake("reset_at_threshold", (
                     "component 2 holds exactly N / (2M) = 1 point and was reset: a component is starved only when "
                     "N_j is strictly below N / (2M) (use <, not <=)."), test=lambda s: _mu_row(s, 2, [0.0, 1.0])),
                 Mistake("starved_not_moved", (
                     "component 3 holds 0.5 of a point (N_3 = the sum of gamma's column 3), below N / (2M) = 1, but "
                     "its mean did not move: it moves to X[candidates[3]] = X[5] = (5, 5)."),
                     test=lambda s: _mu_row(s, 3, [20.0, 20.0])),
                 Mistake("candidate_index", (
                     "component 3 moved to X[3], the row with its own index; it moves to the row its candidate "
                     "names, X[candidates[3]] = X[5] = (5, 5)."), test=lambda s: _mu_row(s, 3, [1.0, 1.0])),
                 Mistake("others_changed", (
                     "components 0, 1 and 2 hold 5, 1.5 and 1 of the 8 points: none is below N / (2M) = 1, so their "
                     "means and variances must not change."),
                     test=lambda s: not (close(np.asarray(s.out[0])[:3], RESET_MU[:3])
                                         and close(np.asarray(s.out[1])[:3], RESET_SIGMA2[:3]))),
                 Mistake("variance_without_1_over_D", (
                     "the reset variance is the mean squared distance to the data mean, 90.9375 / 8; it should also "
                     "divide by D: sum_i ||x_i - mean||^2 / (N D), the data's variance per coordinate."),
                     test=lambda s: close(np.asarray(s.out[1])[3], 90.9375 / 8)),
                 Mistake("variance_not_reset", (
                     "the starved component kept its variance 0.01; it gets the data's isotropic variance "
                     "sum_i ||x_i - mean||^2 / (N D)."), test=lambda s: close(np.asarray(s.out[1])[3], 0.01)),
                 Mistake("weights_not_renormalised", (
                     "the weights are not renormalised after the reset: pi_3 <- 1/M, then divide all the weights "
                     "by their sum."), gives=(None, None, [0.6, 0.2, 0.15, 0.25])),
                 Mistake("weight_not_reset", (
                     "the starved component kept its weight; it gets pi_j <- 1/M, then all the weights are divided "
                     "by their sum."), gives=(None, None, RESET_PI)),
             )),
        Case("4 points, 2 components holding 2 points each: none starved",
             dict(X=[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]],
                  gamma=[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
                  mu=[[1.0, 0.0], [1.0, 2.0]], sigma2=[0.5, 0.5], pi=[0.5, 0.5], candidates=[3, 0]),
             expect=([[1.0, 0.0], [1.0, 2.0]], [0.5, 0.5], [0.5, 0.5]),
             why="N_0 = N_1 = 2, above N / (2M) = 1: nothing is starved and nothing changes."),
    ),
    passed=("reset_starved looks right: only the starved component moves, to its candidate point, with the data's "
            "variance; weights sum to one; inputs untouched."),
)


# --------------------------------------------------------------------------- merge_candidates
def _n_pairs(a) -> int:
    M = np.shape(a["gamma"])[1]
    return M * (M - 1) // 2


MERGE_GAMMA = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.6, 0.4], [0.0, 0.5, 0.5], [0.2, 0.0, 0.8]]
# columns: gamma_0 = (1, .5, 0, 0, .2), gamma_1 = (0, .5, .6, .5, 0), gamma_2 = (0, 0, .4, .5, .8);
# squared norms 1.29, 0.86 and 1.05
MERGE_J = [0.6 * 0.4 + 0.5 * 0.5, 0.5 * 0.5, 0.2 * 0.8]          # pairs (1, 2), (0, 1), (0, 2)

MERGE_CANDIDATES = FunctionSpec(
    name="merge_candidates",
    params=("gamma",),
    returns=(Output("pairs", lambda a: (_n_pairs(a), 2), "(M(M-1)/2, 2): every pair i < j once", integer=True),
             Output("J", lambda a: (_n_pairs(a),), "(M(M-1)/2,): the criterion of each pair")),
    mistakes=(
        Mistake("pairs_with_itself", (
            "pairs includes components paired with themselves, (j, j): only pairs i < j, M(M-1)/2 of them."),
            test=lambda s: np.shape(s.out[0])[0] > _n_pairs(s.args) and bool(np.any(s.out[0][:, 0] == s.out[0][:, 1]))),
        Mistake("each_pair_twice", (
            "pairs holds each pair twice, (i, j) and (j, i): keep only i < j, M(M-1)/2 pairs."),
            test=lambda s: np.shape(s.out[0])[0] > _n_pairs(s.args) and bool(np.any(s.out[0][:, 0] > s.out[0][:, 1]))),
    ),
    cases=(
        Case("5 points, 3 components",
             dict(gamma=MERGE_GAMMA),
             expect=([[1, 2], [0, 1], [0, 2]], MERGE_J),
             why=("J_merge(i, j) = gamma_i . gamma_j, the inner product of the columns: (0, 1) gives 0.5 * 0.5 = 0.25, "
                  "(0, 2) gives 0.2 * 0.8 = 0.16 and (1, 2) gives 0.6 * 0.4 + 0.5 * 0.5 = 0.49, the largest: best "
                  "first, the pairs are (1, 2), (0, 1), (0, 2)."),
             mistakes=(
                 Mistake("ascending_order", (
                     "the pairs come in increasing order of J_merge; they should come in DECREASING order, the best "
                     "merge candidate (the largest gamma_i . gamma_j) first."),
                     gives=([[0, 2], [0, 1], [1, 2]], MERGE_J[::-1])),
                 Mistake("cosine_not_inner_product", (
                     "J is the cosine of the angle between the responsibility vectors; Ueda et al.'s J_merge(i, j) is "
                     "the plain inner product gamma_i . gamma_j, not divided by the norms."),
                     gives=(None, [0.49 / math.sqrt(0.86 * 1.05), 0.25 / math.sqrt(1.29 * 0.86),
                                   0.16 / math.sqrt(1.29 * 1.05)])),
                 Mistake("pair_order_i_greater_than_j", (
                     "each pair (i, j) should have i < j (each pair once, the smaller index first)."),
                     test=lambda s: bool(np.any(s.out[0][:, 0] >= s.out[0][:, 1]))),
                 Mistake("not_best_first", (
                     "the pairs should come in decreasing order of J_merge (best candidate first), J sorted with "
                     "them."), test=lambda s: bool(np.any(np.diff(s.out[1]) > 0))),
             )),
    ),
    passed="merge_candidates looks right: every pair once, i < j, best first, J by hand; gamma untouched.",
)


# --------------------------------------------------------------------------- split_criterion
# component 0 holds three points fully (N_0 = 3, f = 1/3 at each), mean (2/3, 2/3), sigma^2 = 1:
# ||x - mu||^2 = 8/9, 20/9, 20/9, so J_0 = log(1/3) + log(2 pi) + (48/9) / 2 / 3; component 1
# holds one point, at its mean, with sigma^2 = 0.5: J_1 = log 1 - log N(mu | mu, 0.5 I) = log(pi)
SPLIT_J0 = math.log(2 * math.pi / 3) + 8 / 9
SPLIT_J1 = math.log(math.pi)
FAR_SQ = 30.0 ** 2 + 40.0 ** 2         # the far point (30, 40) is 50 standard deviations from (0, 0)

SPLIT_CRITERION = FunctionSpec(
    name="split_criterion",
    params=("X", "gamma", "mu", "sigma2"),
    returns=Output("J", lambda a: (_n_components(a),), "(M,): one number per component"),
    mistakes=(
        Mistake("log_of_underflowed_pdf", (
            "J is infinite: ln p_k was taken as the log of a density that underflowed to 0 for a point far from "
            "component k. Compute ln p_k in the log domain: ln N(x | mu_k, sigma2_k I) = -D/2 ln(2 pi sigma2_k) - "
            "||x - mu_k||^2 / (2 sigma2_k)."), test=lambda s: bool(np.any(np.isposinf(s.out)))),
        Mistake("zero_log_zero_nan", (
            "J contains NaN: a term with f_k(x_n) = 0 gives 0 * ln 0 = 0 * (-inf) = NaN. By convention 0 ln 0 = 0: "
            "leave those terms out (np.where(f > 0, ..., 0), or scipy.special.xlogy)."),
            test=lambda s: bool(np.any(np.isnan(s.out)))),
    ),
    cases=(
        Case("4 points in D = 2: one component holds three of them, the other one point at its mean",
             dict(X=[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]],
                  gamma=[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
                  mu=[[2 / 3, 2 / 3], [2.0, 2.0]], sigma2=[1.0, 0.5]),
             expect=[SPLIT_J0, SPLIT_J1],
             why=("f_k(x_n) = gamma_nk / N_k. Component 1 owns a single point, at its own mean, with sigma^2 = 0.5 in "
                  "D = 2: f = 1 there and J = log 1 - log N(mu | mu, 0.5 I) = log(pi) = 1.1447. Component 0 holds "
                  "three points fully, so N_0 = 3 and f_0 = 1/3 at each: J = sum_n (1/3) (log(1/3) - log N(x_n | "
                  "mu_0, I)) = log(2 pi / 3) + 8/9 = 1.6282 (the squared distances are 8/9, 20/9 and 20/9)."),
             mistakes=(
                 Mistake("f_not_normalised", (
                     "f_k is not normalised: f_k(x_n) = gamma_nk / N_k divides by the component's total "
                     "responsibility N_k, so that it sums to one over the points (here N_0 = 3)."),
                     gives=[3 * LOG_2PI + 8 / 3, SPLIT_J1]),
                 Mistake("missing_f_log_f", (
                     "J leaves out the term sum_n f_k ln f_k: it is a Kullback-Leibler divergence, "
                     "sum_n f_k(x_n) (ln f_k(x_n) - ln p_k(x_n)), not the cross-entropy -sum_n f_k ln p_k."),
                     gives=[LOG_2PI + 8 / 9, SPLIT_J1]),
                 Mistake("wrong_sign", (
                     "J has the wrong sign: J_split(k) = sum_n f_k(x_n) ln(f_k(x_n) / p_k(x_n)), large when the "
                     "component fits its points badly."), gives=[-SPLIT_J0, -SPLIT_J1]),
                 Mistake("variance_as_sd", (
                     "ln p_k treats sigma2 as a standard deviation: p_k(x) = N(x | mu_k, sigma2_k I) with sigma2 the "
                     "variance."), gives=[SPLIT_J0, math.log(math.pi / 2)]),
                 Mistake("missing_normalising_constant", (
                     "ln p_k leaves out the normalising constant -D/2 ln(2 pi sigma_k^2) of the Gaussian."),
                     gives=[math.log(1 / 3) + 8 / 9, 0.0]),
                 Mistake("divided_by_N_k_twice", (
                     "J is divided by N_k once too often (or averaged): J_split(k) = sum_n f_k(x_n) "
                     "ln(f_k(x_n) / p_k(x_n)), with f_k = gamma_nk / N_k already normalised."),
                     gives=[SPLIT_J0 / 3, SPLIT_J1]),
             )),
        Case("a point (30, 40), 50 standard deviations from its component at (0, 0)",
             dict(X=[[0.0, 0.0], [30.0, 40.0]], gamma=[[1.0, 0.0], [0.0, 1.0]],
                  mu=[[0.0, 0.0], [0.0, 0.0]], sigma2=[1.0, 1.0]),
             expect=[LOG_2PI, LOG_2PI + FAR_SQ / 2],
             why=("Each component holds one point (f = 1 there, 0 elsewhere), so J_k = -ln p_k(x) = ln(2 pi) + "
                  "||x - mu_k||^2 / 2: ln(2 pi) for the point at its mean, and ln(2 pi) + 2500 / 2 for the far one. "
                  "p_k(30, 40) = exp(-1250) / (2 pi) is below the smallest float, so ln p_k must be computed "
                  "directly."),
             mistakes=(
                 Mistake("missing_normalising_constant", (
                     "ln p_k leaves out the normalising constant -D/2 ln(2 pi sigma_k^2) of the Gaussian."),
                     gives=[0.0, FAR_SQ / 2]),
             )),
    ),
    passed="split_criterion looks right: shape (M,), a one-point component by hand; inputs untouched.",
)


# --------------------------------------------------------------------------- information_criteria
# one Gaussian N(0, 1) in D = 1 on -1, 1, -1, 1: each point is one sd from the mean; p = 2 (a mean
# and a variance, no free weight), N = 4
LL_ONE = 4 * (-0.5 * LOG_2PI - 0.5)
BIC_ONE, AIC_ONE = -2 * LL_ONE + 2 * math.log(4), -2 * LL_ONE + 2 * 2
# two components N(-1, 1) and N(1, 1), weights 1/2, on -1 and 1: each point's density is
# (phi(0) + phi(2)) / 2 with phi(z) = exp(-z^2 / 2) / sqrt(2 pi); p = 2 + 2 + 1 = 5, N = 2
LL_TWO = 2 * (math.log((1 + math.exp(-2.0)) / 2) - 0.5 * LOG_2PI)
BIC_TWO, AIC_TWO = -2 * LL_TWO + 5 * math.log(2), -2 * LL_TWO + 2 * 5
# one Gaussian N(0, 1) on 0 and 40: log L = -log(2 pi) - 40^2 / 2; p = 2, N = 2
LL_FAR = -LOG_2PI - 800.0


def _swapped(bic, aic) -> Mistake:
    return Mistake("swapped", "bic and aic are swapped: return (bic, aic), in that order.", gives=(aic, bic), rtol=1e-9)


def _log10(bic, p, n) -> Mistake:
    return Mistake("log10_in_bic", "BIC uses log10(N); use the natural logarithm: BIC = -2 ln L + p ln N.",
                   gives=(bic - p * math.log(n) + p * math.log10(n), None), rtol=1e-9)


INFORMATION_CRITERIA = FunctionSpec(
    name="information_criteria",
    params=("X", "mu", "Sigma", "pi"),
    returns=(Output("bic", (), "one number"), Output("aic", (), "one number")),
    nonfinite=Mistake("log_of_underflowed_density", (
        "For a point far from every component the mixture's density underflows to 0 and ln 0 = -inf: compute "
        "ln L with the log-densities (multivariate_normal(...).logpdf) and log-sum-exp over the components "
        "(scipy.special.logsumexp), not as the log of a sum of densities.")),
    cases=(
        Case("one Gaussian N(0, 1) in D = 1 on the points -1, 1, -1, 1",
             dict(X=[[-1.0], [1.0], [-1.0], [1.0]], mu=[[0.0]], Sigma=[[[1.0]]], pi=[1.0]),
             expect=(BIC_ONE, AIC_ONE), rtol=1e-9,
             why=("log L = 4 (-ln(2 pi)/2 - 1/2) (each point is one standard deviation from the mean), p = 2 "
                  "parameters (a mean and a variance, K D + K D (D + 1) / 2 + K - 1 = 1 + 1 + 0), so AIC = -2 log L "
                  "+ 2 p = 15.3515 and BIC = -2 log L + p ln N = 14.1241 (N = 4)."),
             mistakes=(
                 _swapped(BIC_ONE, AIC_ONE),
                 _log10(BIC_ONE, 2, 4),
                 Mistake("loglik_sign", (
                     "the log-likelihood term has the wrong sign: BIC = -2 ln L + p ln N and AIC = -2 ln L + 2 p, "
                     "with ln L the (negative) log-likelihood."),
                     test=lambda s: math.isclose(s.out[0], 2 * LL_ONE + 2 * math.log(4), rel_tol=1e-9)
                     or math.isclose(s.out[1], 2 * LL_ONE + 4, rel_tol=1e-9)),
             )),
        Case("two components N(-1, 1) and N(1, 1) in D = 1, weights 1/2, on the points -1 and 1",
             dict(X=[[-1.0], [1.0]], mu=[[-1.0], [1.0]], Sigma=[[[1.0]], [[1.0]]], pi=[0.5, 0.5]),
             expect=(BIC_TWO, AIC_TWO), rtol=1e-9,
             why=("Each point's density is (phi(0) + phi(2)) / 2, so log L = 2 ln((1 + e^-2) / 2) - ln(2 pi); "
                  "p = K D + K D (D + 1) / 2 + (K - 1) = 2 + 2 + 1 = 5 (the K - 1 free weights count: they sum to "
                  "one), so AIC = -2 log L + 10 = 15.9406 and BIC = -2 log L + 5 ln 2 = 9.4064."),
             mistakes=(
                 _swapped(BIC_TWO, AIC_TWO),
                 _log10(BIC_TWO, 5, 2),
                 Mistake("weights_not_counted", (
                     "the parameter count leaves out the mixing weights: K weights summing to one are K - 1 free "
                     "parameters, p = K D + K D (D + 1) / 2 + K - 1 (here 5)."),
                     test=lambda s: math.isclose(s.out[1], -2 * LL_TWO + 2 * 4, rel_tol=1e-9)
                     or math.isclose(s.out[0], -2 * LL_TWO + 4 * math.log(2), rel_tol=1e-9)),
                 Mistake("all_K_weights_counted", (
                     "one parameter too many: K weights summing to one are K - 1 free parameters, "
                     "p = K D + K D (D + 1) / 2 + K - 1 (here 5)."),
                     test=lambda s: math.isclose(s.out[1], -2 * LL_TWO + 2 * 6, rel_tol=1e-9)
                     or math.isclose(s.out[0], -2 * LL_TWO + 6 * math.log(2), rel_tol=1e-9)),
             )),
        Case("one Gaussian N(0, 1) on the points 0 and 40 (40 standard deviations away)",
             dict(X=[[0.0], [40.0]], mu=[[0.0]], Sigma=[[[1.0]]], pi=[1.0]),
             expect=(-2 * LL_FAR + 2 * math.log(2), -2 * LL_FAR + 2 * 2), rtol=1e-9,
             why=("log L = ln phi(0) + ln phi(40) = -ln(2 pi) - 40^2 / 2 = -801.8379, p = 2 and N = 2: finite, "
                  "although the density at 40 (exp(-800) / sqrt(2 pi)) is below the smallest float.")),
    ),
    passed="information_criteria looks right on one Gaussian by hand: (BIC, AIC) with p = 2, N = 4.",
)

SPECS = {spec.name: spec for spec in (GRAD_NEG_LOGLIK, M_STEP_ISOTROPIC, RUNNING_MEAN_VAR, RESET_STARVED,
                                      MERGE_CANDIDATES, SPLIT_CRITERION, INFORMATION_CRITERIA)}
