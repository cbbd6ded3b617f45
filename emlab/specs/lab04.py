"""Lab 04 (the ±1 saddle point): the visible checks of ``log_density``, ``ll``, ``grad_ll``,
``hessian_ll`` and ``anneal``.

The model: 1/2 N(mu, sigma^2) + 1/2 N(-mu, sigma^2), sigma a standard deviation; ll is the
log-likelihood of the two points +1 and -1; log-likelihoods in nats. Every expected value is
worked out by hand in its case's ``why``, or is a relation any correct answer satisfies
(symmetry in mu, parity of the derivatives). The two values off both axes, (mu, sigma) =
(0.5, 0.8), are written out as literals (worked out once, to 12 digits, from the lab's
formulas), so that no formula of a derivative appears here.

For sigma <= 0 the lab defines the log-density as the Dirac limit: +inf at x = +-mu, -inf
elsewhere: those cases are ``Case(..., infinite=True)`` (infinities compared as written; NaN
is never right).
"""

from __future__ import annotations

import math

import numpy as np

from ..visible import Case, FunctionSpec, Mistake, Output, Seen, close

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)     # log sqrt(2 pi), the Gaussian's constant
INF = math.inf


def _has_nan(s: Seen) -> bool:
    return bool(np.any(np.isnan(np.asarray(s.out, dtype=float))))


DIRAC = ("sigma <= 0 is treated as 0: the Dirac mixture 1/2 delta_mu + 1/2 delta_-mu, whose log-density is +inf "
         "at x = +mu and x = -mu and -inf everywhere else.")

DIRAC_NAN = Mistake("dirac_nan", (
    "NaN for sigma <= 0. " + DIRAC + " Handle sigma <= 0 before calling the Gaussian (norm.logpdf with a scale "
    "of 0 or less returns NaN), e.g. with np.where on x == mu or x == -mu."), test=_has_nan)


def _wrong_sign(want, what: str):
    return Mistake("wrong_sign", f"it has the wrong sign: return {what}, not its negative.", gives=-np.asarray(want))


# --------------------------------------------------------------------------- log_density
LOG_N_0_4 = [-math.log(2.0) - HALF_LOG_2PI, -math.log(2.0) - HALF_LOG_2PI - 1.0 / 8.0,
             -math.log(2.0) - HALF_LOG_2PI - 9.0 / 8.0]                    # log N(x | 0, 2^2) at 0, 1, -3
SYMMETRY_X = [0.3, -1.2, 2.0]

LOG_DENSITY = FunctionSpec(
    name="log_density",
    params=("x", "mu", "sigma"),
    returns=Output("log p", ("x",), "one log-density per point"),
    nonfinite=Mistake("log_of_underflowed_sum", (
        "For sigma > 0 the log-density is finite everywhere. Far from both components both densities underflow to "
        "0 and log(0) = -inf: add the two terms in the log domain (np.logaddexp or scipy.special.logsumexp of the "
        "two log-densities, from norm.logpdf) instead of taking the log of a sum of densities.")),
    mistakes=(
        Mistake("one_number", (
            "you return one number: log_density returns one log-density per point, an array of shape (n,) (the "
            "sum over the points is ll's job)."),
            test=lambda s: np.ndim(s.out) == 0 and len(s.args["x"]) > 1),
    ),
    cases=(
        Case("mu = 0, sigma = 2: both components are N(0, 4), so the mixture is N(0, 4)",
             dict(x=[0.0, 1.0, -3.0], mu=0.0, sigma=2.0),
             expect=LOG_N_0_4,
             why=("With mu = 0 both components are N(0, 2^2), so p(x) = N(x | 0, 4) and log p(x) = -log 2 - "
                  "log sqrt(2 pi) - x^2 / 8: at x = 0, 1 and -3 that is -1.612086, -1.737086 and -2.737086."),
             mistakes=(
                 Mistake("density_not_log", "you returned the density; return its log.", gives=np.exp(LOG_N_0_4)),
                 Mistake("sigma_as_variance", (
                     "sigma is used as the variance (a scale of sqrt(sigma), or an exponent divided by 2 sigma). "
                     "sigma is the standard deviation: the exponent divides by 2 sigma^2 and the normaliser is "
                     "1 / (sqrt(2 pi) sigma)."),
                     gives=[-0.5 * math.log(2.0) - HALF_LOG_2PI - x * x / 4.0 for x in (0.0, 1.0, -3.0)]),
                 Mistake("variance_as_sd", (
                     "the Gaussian was given the variance sigma^2 = 4 where it takes the standard deviation "
                     "(norm.logpdf's scale is the standard deviation, sigma = 2)."),
                     gives=[-math.log(4.0) - HALF_LOG_2PI - x * x / 32.0 for x in (0.0, 1.0, -3.0)]),
                 Mistake("no_weights_half", (
                     "the weights 1/2 are missing: p(x) = 1/2 N(x | mu, sigma^2) + 1/2 N(x | -mu, sigma^2), and "
                     "with mu = 0 that is N(x | 0, sigma^2) itself."),
                     gives=[v + math.log(2.0) for v in LOG_N_0_4]),
                 _wrong_sign(LOG_N_0_4, "log p(x)"),
             )),
        Case("symmetry: the mixture is the same for mu and -mu, and p(-x) = p(x)",
             (dict(x=SYMMETRY_X, mu=0.7, sigma=0.9), dict(x=SYMMETRY_X, mu=-0.7, sigma=0.9),
              dict(x=[-v for v in SYMMETRY_X], mu=0.7, sigma=0.9)),
             holds=lambda s: close(s.outs[0], s.outs[1]) and close(s.outs[0], s.outs[2]),
             why=("log_density(x, 0.7, 0.9), log_density(x, -0.7, 0.9) and log_density(-x, 0.7, 0.9) should be "
                  "equal: swapping the components, or reflecting the points, changes nothing."),
             mistakes=(
                 Mistake("not_symmetric", (
                     "log_density(x, 0.7, 0.9), log_density(x, -0.7, 0.9) and log_density(-x, 0.7, 0.9) differ; "
                     "all three should be equal. Did you include both components, one at +mu and one at -mu, each "
                     "with weight 1/2?"), test=lambda s: True),
             )),
        Case("a point 50 standard deviations away (x = 50, mu = 0, sigma = 1)",
             dict(x=[50.0], mu=0.0, sigma=1.0),
             expect=[-HALF_LOG_2PI - 1250.0],
             why="log N(50 | 0, 1) = -log(2 pi) / 2 - 50^2 / 2 = -1250.918939."),
        Case("sigma = 0: the Dirac mixture 1/2 delta_0.5 + 1/2 delta_-0.5",
                  dict(x=[0.5, -0.5, 0.2], mu=0.5, sigma=0.0),
                  expect=[INF, INF, -INF], infinite=True,
                  why="With sigma <= 0 the density is an infinite spike at x = +-mu and 0 elsewhere.",
                  mistakes=(
                      DIRAC_NAN,
                      Mistake("no_dirac_atoms", (
                          "-inf at the atoms x = +-mu: the Dirac mixture puts an infinite spike there. " + DIRAC),
                          test=lambda s: s.out[0] == -INF and s.out[1] == -INF),
                  )),
        Case("sigma = -1 is treated as 0: the Dirac mixture at +-0.5 (mu = -0.5)",
                  dict(x=[0.5, 0.2, -0.5], mu=-0.5, sigma=-1.0),
                  expect=[INF, -INF, INF], infinite=True,
                  why=DIRAC,
                  mistakes=(
                      DIRAC_NAN,
                      Mistake("no_dirac_atoms", (
                          "-inf at the atoms x = +-mu: the Dirac mixture puts an infinite spike there. " + DIRAC),
                          test=lambda s: s.out[0] == -INF and s.out[2] == -INF),
                  )),
    ),
    passed="log_density passes the visible checks (shape, mu = 0, symmetry, a far point, sigma = 0).",
)


# --------------------------------------------------------------------------- ll
LL_0_1 = 2.0 * (-HALF_LOG_2PI - 0.5)                          # 2 log N(1 | 0, 1)
LL_0_2 = 2.0 * (-math.log(2.0) - HALF_LOG_2PI - 1.0 / 8.0)    # 2 log N(1 | 0, 2^2)


def _mean_not_sum(want):
    return Mistake("mean_not_sum", "it looks like the mean over the two points; ll is their sum.", gives=want / 2.0)


LL = FunctionSpec(
    name="ll",
    params=("mu", "sigma"),
    returns=Output("the log-likelihood", (), "one number, the sum over the points +1 and -1"),
    nonfinite=Mistake("log_of_underflowed_sum", (
        "For sigma > 0 ll is finite, however far the components are from the points. Far from both components "
        "both densities underflow to 0 and log(0) = -inf: add the two terms in the log domain (np.logaddexp or "
        "scipy.special.logsumexp of the log-densities), as in log_density.")),
    mistakes=(
        Mistake("one_value_per_point", (
            "you return one value per point: ll is one number, the sum of log p(+1 | mu, sigma) and "
            "log p(-1 | mu, sigma)."), test=lambda s: np.shape(s.out) == (2,)),
    ),
    cases=(
        Case("mu = 0, sigma = 1: ll = 2 log N(1 | 0, sigma^2)",
             dict(mu=0.0, sigma=1.0),
             expect=LL_0_1,
             why=("With mu = 0 the mixture is N(0, sigma^2), and both points are 1 from 0: ll = 2 (-log sqrt(2 pi) "
                  "- 1/2) = -2.837877."),
             mistakes=(_mean_not_sum(LL_0_1), _wrong_sign(LL_0_1, "ll = log p(+1) + log p(-1)"),
                       Mistake("no_weights_half", (
                           "the weights 1/2 of the two components are missing (each point's term is off by log 2)."),
                           gives=LL_0_1 + 2.0 * math.log(2.0)))),
        Case("mu = 0, sigma = 2: ll = 2 log N(1 | 0, sigma^2)",
             dict(mu=0.0, sigma=2.0),
             expect=LL_0_2,
             why="ll = 2 (-log 2 - log sqrt(2 pi) - 1 / (2 * 2^2)) = -3.474171.",
             mistakes=(_mean_not_sum(LL_0_2),
                       Mistake("sigma_as_variance", (
                           "sigma is used as the variance. sigma is the standard deviation: the exponent divides "
                           "by 2 sigma^2 and the normaliser is 1 / (sqrt(2 pi) sigma)."),
                           gives=2.0 * (-0.5 * math.log(2.0) - HALF_LOG_2PI - 0.25)),
                       Mistake("variance_as_sd", (
                           "the Gaussian was given the variance sigma^2 = 4 where it takes the standard deviation "
                           "(norm.logpdf's scale is the standard deviation, sigma = 2)."),
                           gives=2.0 * (-math.log(4.0) - HALF_LOG_2PI - 1.0 / 32.0)))),
        Case("symmetry: ll(mu, sigma) = ll(-mu, sigma)",
             (dict(mu=0.6, sigma=0.7), dict(mu=-0.6, sigma=0.7)),
             holds=lambda s: close(s.outs[0], s.outs[1]),
             why="ll(0.6, 0.7) and ll(-0.6, 0.7) should be equal: swapping the components changes nothing."),
        Case("components 50 standard deviations from both points (mu = 0.5, sigma = 0.01)",
             dict(mu=0.5, sigma=0.01),
             expect=2.0 * (math.log(50.0) - HALF_LOG_2PI - 1250.0), rtol=1e-9,
             why=("Each point is 0.5 = 50 sigma from the nearer component and 150 sigma from the other, which adds "
                  "nothing: log p(1) = log 1/2 - log(sqrt(2 pi) 0.01) - 50^2 / 2 = log 50 - log sqrt(2 pi) - 1250, "
                  "and ll is twice that, -2494.013831 (finite: add the components in the log domain).")),
        Case("sigma = 0 with the atoms on the points (mu = 1)",
                  dict(mu=1.0, sigma=0.0),
                  expect=INF, infinite=True,
                  why="Spikes on both points give an infinite likelihood: ll(+-1, 0) = +inf.",
                  mistakes=(
                      Mistake("dirac_nan", "NaN for sigma <= 0. " + DIRAC + " So ll(+-1, 0) = +inf.",
                              test=_has_nan),
                      Mistake("no_dirac_atoms", (
                          "-inf, but the spikes of the Dirac mixture sit exactly on the points +1 and -1: ll is "
                          "+inf. " + DIRAC), gives=-INF),
                  )),
    ),
    passed="ll passes the visible checks (mu = 0, symmetry, far components, sigma = 0).",
)


# --------------------------------------------------------------------------- grad_ll
GRAD_OFF_AXES = [0.479448712942, -0.169623391177]     # grad_ll(0.5, 0.8), from the lab's formulas


def _gradient_part_wrong(part: int):
    """Only entry ``part`` of the gradient at (0.5, 0.8) is wrong."""
    other = 1 - part
    return lambda s: (close(s.out[other], GRAD_OFF_AXES[other], rtol=1e-6)
                      and not close(s.out[part], GRAD_OFF_AXES[part], rtol=1e-6))


MU_DERIVATIVE_SIGN = ("d ll / d mu has the wrong sign. Below sigma = 1, mu = 0 is a minimum along mu, so ll rises as "
                      "mu grows from 0 (d ll / d mu > 0 at mu = 0.3, sigma = 0.7); above sigma = 1 it is the maximum, "
                      "so ll falls (d ll / d mu < 0 at mu = 0.3, sigma = 1.5) (section 3). Check the sign of each "
                      "term: log cosh(mu / sigma^2) pushes mu away from 0, -(1 + mu^2) / (2 sigma^2) pulls it back.")

GRAD_LL = FunctionSpec(
    name="grad_ll",
    params=("mu", "sigma"),
    returns=Output("the gradient", (2,), "(d ll / d mu, d ll / d sigma)"),
    nonfinite=Mistake("nonfinite", "The gradient is finite at every point with sigma > 0."),
    cases=(
        Case("the saddle (0, 1): both derivatives are 0",
             dict(mu=0.0, sigma=1.0),
             expect=[0.0, 0.0], atol=1e-9,
             why="(0, 1) is a critical point: the gradient is (0, 0)."),
        Case("mu = 0, sigma = 2: d ll / d mu = 0 (ll is even in mu), d ll / d sigma = 2 (-1/sigma + 1/sigma^3)",
             dict(mu=0.0, sigma=2.0),
             expect=[0.0, 2.0 * (-1.0 / 2.0 + 1.0 / 8.0)],
             why=("ll(0, sigma) = 2 log N(1 | 0, sigma^2) = 2 (-log sigma - log sqrt(2 pi) - 1 / (2 sigma^2)), whose "
                  "derivative in sigma is 2 (-1/sigma + 1/sigma^3) = 2 (-1/2 + 1/8) = -0.75; ll is even in mu, so "
                  "d ll / d mu = 0 at mu = 0."),
             mistakes=(
                 Mistake("wrong_order", "the order is (d ll / d mu, d ll / d sigma); yours is the other way round.",
                         gives=[-0.75, 0.0]),
                 _wrong_sign([0.0, -0.75], "the gradient of ll"),
                 Mistake("one_point_only", (
                     "it is half the gradient: ll sums over the two points +1 and -1, and each contributes (here "
                     "the same amount). Did you differentiate one point's log-density only?"), gives=[0.0, -0.375]),
                 Mistake("derivative_wrt_variance", (
                     "the second entry looks like d ll / d(sigma^2), the derivative with respect to the variance. "
                     "It is d ll / d sigma, with sigma the standard deviation: d ll / d sigma = 2 sigma d ll / "
                     "d(sigma^2)."), gives=[0.0, -0.1875]),
             )),
        Case("mu = 0.3, sigma = 0.7: the sign of d ll / d mu",
             dict(mu=0.3, sigma=0.7),
             holds=lambda s: s.out[0] > 0,
             why=("d ll / d mu should be positive: below sigma = 1, mu = 0 is a minimum along mu, so ll rises as mu "
                  "grows (section 3)."),
             mistakes=(Mistake("mu_derivative_sign", MU_DERIVATIVE_SIGN, test=lambda s: s.out[0] < 0),)),
        Case("mu = 0.3, sigma = 1.5: the sign of d ll / d mu",
             dict(mu=0.3, sigma=1.5),
             holds=lambda s: s.out[0] < 0,
             why=("d ll / d mu should be negative: above sigma = 1, mu = 0 is the maximum along mu, so ll falls as "
                  "mu grows (section 3)."),
             mistakes=(Mistake("mu_derivative_sign", MU_DERIVATIVE_SIGN, test=lambda s: s.out[0] > 0),)),
        Case("mu = 0.5, sigma = 0.8 (off both axes: no term of the derivative vanishes)",
             dict(mu=0.5, sigma=0.8),
             expect=GRAD_OFF_AXES,
             why=("Worked out from the lab's formulas. Differentiate each term of the closed form of section 2 through "
                  "the chain rule (sigma appears in the normalising factor, in the exponent and in a = mu / sigma^2), "
                  "and compare with finite differences of your ll below."),
             mistakes=(
                 Mistake("sigma_chain_rule_factor", (
                     "d ll / d sigma is wrong where mu is not 0 (d ll / d mu is right): the term 2 log cosh(a), "
                     "a = mu / sigma^2, contributes 2 tanh(a) da/dsigma with da/dsigma = -2 mu / sigma^3; yours "
                     "has lost the factor 2 of that derivative."),
                     gives=[0.479448712942, 1.106594554411]),
                 Mistake("sigma_derivative_wrong", (
                     "d ll / d sigma is wrong (d ll / d mu is right). Differentiate every term in sigma: -log sigma, "
                     "-(1 + mu^2) / (2 sigma^2), and log cosh(a) through a = mu / sigma^2 (da/dsigma = "
                     "-2 mu / sigma^3)."), test=_gradient_part_wrong(1)),
                 Mistake("mu_derivative_wrong", (
                     "d ll / d mu is wrong (d ll / d sigma is right). Differentiate -(1 + mu^2) / (2 sigma^2) and "
                     "log cosh(a) in mu, with da/dmu = 1 / sigma^2."), test=_gradient_part_wrong(0)),
             )),
        Case("parity: grad_ll(-0.6, 0.8) = (-d ll / d mu, d ll / d sigma) of grad_ll(0.6, 0.8)",
             (dict(mu=0.6, sigma=0.8), dict(mu=-0.6, sigma=0.8)),
             holds=lambda s: close(s.outs[1], [-s.outs[0][0], s.outs[0][1]]),
             why=("ll is even in mu, so d ll / d mu is odd (it changes sign with mu) and d ll / d sigma is even (it "
                  "does not).")),
    ),
    passed=("grad_ll passes the visible checks (zero at the saddle, mu = 0, signs, parity in mu). "
            "Compare it with finite differences of your ll below."),
)


# --------------------------------------------------------------------------- hessian_ll
HESSIAN_OFF_AXES = [[-0.326964773142, -4.696165815927],
                    [-4.696165815927, -1.24198224112]]      # hessian_ll(0.5, 0.8), from the lab's formulas


def _diagonal_right_mixed_wrong(s) -> bool:
    H = np.asarray(s.out, dtype=float)
    return (close([H[0, 0], H[1, 1]], [HESSIAN_OFF_AXES[0][0], HESSIAN_OFF_AXES[1][1]])
            and not close([H[0, 1], H[1, 0]], [HESSIAN_OFF_AXES[0][1], HESSIAN_OFF_AXES[1][0]]))


HALF_HESSIAN = ("it is half the Hessian: ll sums over the two points +1 and -1, and each contributes (here the same "
                "amount). Did you differentiate one point's log-density only?")

HESSIAN_LL = FunctionSpec(
    name="hessian_ll",
    params=("mu", "sigma"),
    returns=Output("the Hessian", (2, 2), "order (mu, sigma)"),
    nonfinite=Mistake("nonfinite", "The Hessian is finite at every point with sigma > 0."),
    cases=(
        Case("the saddle (0, 1)",
             dict(mu=0.0, sigma=1.0),
             expect=[[0.0, 0.0], [0.0, -4.0]], atol=1e-8,
             why="At the saddle the Hessian is [[0, 0], [0, -4]] (the check number of the statement).",
             mistakes=(
                 Mistake("half_hessian", HALF_HESSIAN, gives=[[0.0, 0.0], [0.0, -2.0]], atol=1e-8),
                 _wrong_sign([[0.0, 0.0], [0.0, -4.0]], "the Hessian of ll"),
             )),
        Case("mu = 0, sigma = 2: d2 ll / d sigma2 = 2 (1/sigma^2 - 3/sigma^4), mixed derivative 0",
             dict(mu=0.0, sigma=2.0),
             expect=[[2.0 * (1.0 / 16.0 - 1.0 / 4.0), 0.0], [0.0, 2.0 * (1.0 / 4.0 - 3.0 / 16.0)]],
             why=("On the line mu = 0: d2 ll / d sigma2 is the second derivative of 2 (-log sigma - log sqrt(2 pi) - "
                  "1 / (2 sigma^2)), 2 (1/sigma^2 - 3/sigma^4) = 0.125; d2 ll / d mu2 is twice the mu^2 coefficient "
                  "of section 3, 2 (1/sigma^4 - 1/sigma^2) = -0.375; ll is even in mu, so the mixed derivative is 0."),
             mistakes=(Mistake("half_hessian", HALF_HESSIAN, gives=[[-0.1875, 0.0], [0.0, 0.0625]]),)),
        Case("mu = 0.5, sigma = 0.8 (off both axes: the mixed derivative is not 0)",
             dict(mu=0.5, sigma=0.8),
             expect=HESSIAN_OFF_AXES,
             why=("Worked out from the lab's formulas. Differentiate your gradient once more, term by term, in mu "
                  "and in sigma, and compare with finite differences of your grad_ll below."),
             mistakes=(
                 Mistake("mixed_derivative_zero", (
                     "the mixed derivative d2 ll / d mu d sigma is 0 (or missing): off the line mu = 0 it is far "
                     "from 0."), test=lambda s: _diagonal_right_mixed_wrong(s) and close(s.out[0, 1], 0.0)),
                 Mistake("mixed_missing_tanh_term", (
                     "the mixed derivative lacks a term (the diagonal is right): d ll / d mu depends on sigma twice, "
                     "through its factor 1 / sigma^2 and through tanh(a), a = mu / sigma^2. Differentiate both "
                     "(product rule); the second gives (1 - tanh(a)^2) da/dsigma, with da/dsigma = -2 mu / "
                     "sigma^3."), gives=[[-0.326964773142, -1.198621782354], [-1.198621782354, -1.24198224112]]),
                 Mistake("mixed_derivative_wrong", (
                     "the mixed derivative d2 ll / d mu d sigma is wrong (the diagonal is right): differentiate "
                     "your d ll / d mu in sigma, every place sigma appears (1 / sigma^2, and a = mu / sigma^2 "
                     "inside tanh)."), test=_diagonal_right_mixed_wrong),
                 Mistake("sech_not_squared", (
                     "it looks like d tanh(a) / da was taken as 1 - tanh(a); it is 1 - tanh(a)^2 (sech^2 a)."),
                     gives=[[-1.432732363971, -3.31395632739], [-3.31395632739, -2.969744101791]]),
             )),
        Case("symmetry and parity at mu = +-0.6, sigma = 0.8",
             (dict(mu=0.6, sigma=0.8), dict(mu=-0.6, sigma=0.8)),
             holds=lambda s: (close(s.outs[0], np.transpose(s.outs[0]))
                              and close(s.outs[1], s.outs[0] * np.array([[1.0, -1.0], [-1.0, 1.0]]))),
             why=("ll is even in mu, so from hessian_ll(0.6, 0.8) to hessian_ll(-0.6, 0.8) the mixed derivative "
                  "changes sign and the diagonal does not."),
             mistakes=(
                 Mistake("not_symmetric", (
                     "hessian_ll(0.6, 0.8) is not symmetric: d2 ll / d mu d sigma and d2 ll / d sigma d mu are the "
                     "same mixed derivative."), test=lambda s: not close(s.outs[0], np.transpose(s.outs[0]))),
             )),
    ),
    passed=("hessian_ll passes the visible checks ([[0, 0], [0, -4]] at the saddle, mu = 0, symmetry, parity). "
            "Compare it with finite differences of your grad_ll below."),
)


# --------------------------------------------------------------------------- anneal
SCHEDULE = [2.0, 1.5, 1.0, 0.7, 0.5]
FIRST = math.tanh(0.5 / 4.0)                  # one update from mu = 0.5 at sigma = 2: tanh(0.5 / 2^2)


def _path_shape(args) -> tuple:
    return (len(args["sigmas"]), 2)


ANNEAL = FunctionSpec(
    name="anneal",
    params=("mu0", "sigmas", "n_inner"),
    returns=Output("the path", _path_shape, "one row (mu, sigma) per sigma of the schedule"),
    nonfinite=Mistake("nonfinite", "Every mu of the path is tanh of something: between -1 and 1."),
    mistakes=(
        Mistake("transposed", (
            "the path looks transposed: it has one ROW per sigma of the schedule, (mu, sigma_t), shape (T, 2)."),
            test=lambda s: np.shape(s.out) == (2, len(s.args["sigmas"])) and len(s.args["sigmas"]) != 2),
    ),
    cases=(
        Case("mu0 = 0.3, sigmas (2, 1.5, 1, 0.7, 0.5), 4 inner updates",
             dict(mu0=0.3, sigmas=SCHEDULE, n_inner=4),
             holds=lambda s: close(s.out[:, 1], SCHEDULE, rtol=1e-12, atol=0.0),
             why="The second column should be the schedule (2, 1.5, 1, 0.7, 0.5): row t is (mu, sigmas[t]).",
             mistakes=(
                 Mistake("schedule_not_recorded", (
                     "the second column should be the schedule itself, in the order given: row t is (mu, "
                     "sigmas[t])."), test=lambda s: True),
             )),
        Case("mu0 = 0.3 and mu0 = -0.3, sigmas (2, 1.5, 1, 0.7, 0.5), 4 inner updates",
             (dict(mu0=0.3, sigmas=SCHEDULE, n_inner=4), dict(mu0=-0.3, sigmas=SCHEDULE, n_inner=4)),
             holds=lambda s: close(s.outs[1][:, 0], -s.outs[0][:, 0]),
             why="The problem is symmetric (tanh is odd), so the paths from 0.3 and -0.3 should be mirror images."),
        Case("mu0 = 0 exactly",
             dict(mu0=0.0, sigmas=SCHEDULE, n_inner=4),
             holds=lambda s: bool(np.all(s.out[:, 0] == 0.0)),
             why="mu = 0 is a fixed point of tanh(mu / sigma^2): every mu of the path is exactly 0."),
        Case("mu0 = 0.5, one sigma (2), one update: mu = tanh(0.5 / 4)",
             dict(mu0=0.5, sigmas=[2.0], n_inner=1),
             expect=[[FIRST, 2.0]],
             why="One update at sigma = 2: mu = tanh(0.5 / 2^2) = tanh(0.125) = 0.124353.",
             mistakes=(
                 Mistake("records_before_update", (
                     "row t records mu before the updates at sigmas[t]; it holds mu AFTER the n_inner updates at "
                     "sigmas[t] (mu0 itself is not a row)."), gives=[[0.5, 2.0]]),
                 Mistake("update_divides_by_sigma", (
                     "the update divides by sigma; it is mu <- tanh(mu / sigma^2), with sigma the standard "
                     "deviation."), gives=[[math.tanh(0.5 / 2.0), 2.0]]),
             )),
        Case("mu0 = 0.5, sigmas (2, 0.5), one update each: mu = tanh(0.5 / 4), then tanh(mu / 0.25)",
             dict(mu0=0.5, sigmas=[2.0, 0.5], n_inner=1),
             expect=[[FIRST, 2.0], [math.tanh(FIRST / 0.25), 0.5]],
             why=("The second update uses the second sigma, 0.5, and starts from the mu the first one reached: "
                  "tanh(0.124353 / 0.5^2) = 0.460079."),
             mistakes=(
                 Mistake("never_lowers_sigma", (
                     "every update uses the first sigma of the schedule: the outer loop sets sigma = sigmas[t] "
                     "before the n_inner updates of mu at step t."),
                     gives=[[FIRST, 2.0], [math.tanh(FIRST / 4.0), 0.5]]),
                 Mistake("restarts_from_mu0", (
                     "each sigma restarts from mu0; it continues from the mu the previous sigma reached."),
                     gives=[[FIRST, 2.0], [math.tanh(0.5 / 0.25), 0.5]]),
             )),
        Case("mu0 = 0.5, one sigma (2), three inner updates: mu = tanh(. / 4) applied three times",
             dict(mu0=0.5, sigmas=[2.0], n_inner=3),
             expect=[[math.tanh(math.tanh(FIRST / 4.0) / 4.0), 2.0]],
             why=("Each sigma of the schedule gets n_inner updates of mu before the next sigma: tanh(tanh(tanh(0.5 / "
                  "4) / 4) / 4) = 0.007769."),
             mistakes=(
                 Mistake("n_inner_ignored", (
                     "one update where n_inner = 3 were asked for: apply mu <- tanh(mu / sigma^2) n_inner times at "
                     "each sigma."), gives=[[FIRST, 2.0]]),
                 Mistake("n_inner_off_by_one", (
                     "the number of updates is off by one: apply the update exactly n_inner times at each sigma."),
                     test=lambda s: (close(s.out, [[math.tanh(FIRST / 4.0), 2.0]])                     # 2 updates
                                     or close(s.out, [[math.tanh(math.tanh(math.tanh(FIRST / 4.0) / 4.0) / 4.0),
                                                       2.0]]))),                                           # 4 updates
             )),
        Case("mu0 = 0.5, sigmas (0.5, 2) in that order (a schedule is used as given), one update each",
             dict(mu0=0.5, sigmas=[0.5, 2.0], n_inner=1),
             expect=[[math.tanh(2.0), 0.5], [math.tanh(math.tanh(2.0) / 4.0), 2.0]],
             why="mu = tanh(0.5 / 0.5^2) = tanh(2) = 0.964028 first, then tanh(0.964028 / 2^2) = 0.236447.",
             mistakes=(
                 Mistake("sorts_schedule", (
                     "the schedule was sorted: the sigmas are used in the order given, never sorted (row t is "
                     "(mu, sigmas[t]))."), gives=[[FIRST, 2.0], [math.tanh(FIRST / 0.25), 0.5]]),
             )),
    ),
    passed="anneal passes the visible checks (shape, schedule column, mu0 = 0, symmetry, two updates by hand).",
)

SPECS = {spec.name: spec for spec in (LOG_DENSITY, LL, GRAD_LL, HESSIAN_LL, ANNEAL)}
