"""Lab 02 (the lower bound): the visible checks of ``compute_loglik``, ``calc_probs``,
``compute_q``, ``update_mu``, ``update_sigma`` and ``update_lambda``.

A univariate mixture of k Gaussians with weights ``lam``, means ``mu`` and standard deviations
``sigma`` (not variances); the data have no unit; log-likelihoods and bounds are in nats. Every
expected value below is worked out by hand in its case's ``why``.
"""

from __future__ import annotations

import math

import numpy as np

from ..checking import responsibility_mistakes
from ..visible import Case, FunctionSpec, Mistake, Output, close

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)     # log sqrt(2 pi), the Gaussian's constant
LOG_2 = math.log(2.0)


def _n(args) -> int:
    """n, the number of points of a call (from x, or from gamma's rows)."""
    return len(args["x"]) if "x" in args else np.shape(args["gamma"])[0]


def _k_of_gamma(args) -> tuple:
    """(k,): one entry per component, k = the number of columns of gamma."""
    return (np.shape(args["gamma"])[1],)


def _n_by_k(args) -> tuple:
    """(n, k): one row per point, one column per component."""
    return (len(args["x"]), len(args["lam"]))


def _one_value_per_point(what: str) -> Mistake:
    """A sum over the points returned as one value per point."""
    return Mistake("one_value_per_point", (
        f"you return one value per point: {what} is one number, the SUM over the points."),
        test=lambda s: np.shape(s.out) == (_n(s.args),) and _n(s.args) > 1)


def _one_value_per_point_not_component(what: str) -> Mistake:
    """An M-step update averaged over the components (axis 1) instead of over the points."""
    return Mistake("one_value_per_point", (
        f"you return one value per point; {what} has one entry per component: sum or average over the points "
        "(axis 0 of gamma), not over the components (axis 1)."),
        test=lambda s: np.shape(s.out) == (_n(s.args),) and _n(s.args) != np.shape(s.args["gamma"])[1])


# --------------------------------------------------------------------------- compute_loglik
# one component N(5, 2^2) at the points 3, 5 and 7: the squared distances over 2 sigma^2 are 1/2, 0 and 1/2
THREE_POINTS = -3 * (HALF_LOG_2PI + math.log(2.0)) - 1.0


def _wrong_sign(want: float) -> Mistake:
    return Mistake("wrong_sign", "it has the wrong sign: return the log-likelihood log p(x), not -log p(x).",
                   gives=-want)


COMPUTE_LOGLIK = FunctionSpec(
    name="compute_loglik",
    params=("x", "lam", "mu", "sigma"),
    returns=Output("the log-likelihood", (), "the sum over all the points"),
    nonfinite=Mistake("log_of_underflowed_sum", (
        "A point far from every component makes every density underflow to 0, and log(0) = -inf: work with "
        "log-densities (scipy.stats.norm.logpdf) and combine them with scipy.special.logsumexp instead of taking "
        "the log of a sum of densities.")),
    mistakes=(_one_value_per_point("the log-likelihood"),),
    cases=(
        Case("one component N(0, 1), one point x = 0",
             dict(x=[0.0], lam=[1.0], mu=[0.0], sigma=[1.0]),
             expect=-HALF_LOG_2PI, rtol=1e-9,
             why=("The density of N(0, 1) at 0 is 1 / sqrt(2 pi) and the weight is 1, so the answer is "
                  "-log sqrt(2 pi) = -0.918939."),
             mistakes=(
                 _wrong_sign(-HALF_LOG_2PI),
                 Mistake("likelihood_not_log", "it looks like the likelihood itself (1 / sqrt(2 pi)); take its log.",
                         gives=math.exp(-HALF_LOG_2PI)),
                 Mistake("missing_constant", (
                     "you get 0: the constant -log sqrt(2 pi) of the Gaussian log-density is missing, "
                     "log N(x | mu, sigma^2) = -log(sqrt(2 pi) sigma) - (x - mu)^2 / (2 sigma^2)."), gives=0.0),
             )),
        Case("one component N(5, 2^2), points 3, 5 and 7 (sigma = 2 is a standard deviation)",
             dict(x=[3.0, 5.0, 7.0], lam=[1.0], mu=[5.0], sigma=[2.0]),
             expect=THREE_POINTS, rtol=1e-9,
             why=("Each point contributes -log(sqrt(2 pi) 2) - (x - 5)^2 / (2 * 2^2), that is -log(sqrt(2 pi) 2) - "
                  "1/2, -log(sqrt(2 pi) 2) and -log(sqrt(2 pi) 2) - 1/2: -5.836257 in all."),
             mistakes=(
                 Mistake("mean_not_sum", "you return the mean over the points; the log-likelihood is the sum.",
                         gives=THREE_POINTS / 3),
                 _wrong_sign(THREE_POINTS),
                 Mistake("sigma_as_variance", (
                     "sigma is used as a variance; it is the standard deviation (the variance is sigma^2)."),
                     gives=-3 * (HALF_LOG_2PI + 0.5 * math.log(2.0)) - 2.0),
                 Mistake("variance_as_sd", (
                     "the density was given the variance sigma^2 = 4 where it takes the standard deviation "
                     "(scipy.stats.norm's scale is the standard deviation, sigma = 2)."),
                     gives=-3 * (HALF_LOG_2PI + math.log(4.0)) - 0.25),
                 Mistake("missing_log_sigma", (
                     "the term -log(sigma) of each log-density (from the 1 / sigma in front of the Gaussian) is "
                     "missing."), gives=-3 * HALF_LOG_2PI - 1.0),
             )),
        Case("x = 0, components N(0, 1) and N(1000, 1) with weights 0.3 and 0.7",
             dict(x=[0.0], lam=[0.3, 0.7], mu=[0.0, 1000.0], sigma=[1.0, 1.0]),
             expect=math.log(0.3) - HALF_LOG_2PI, rtol=1e-9,
             why=("The component at 1000 adds almost nothing, so the likelihood is 0.3 / sqrt(2 pi) and the answer "
                  "is log 0.3 - log sqrt(2 pi) = -2.122911."),
             mistakes=(
                 Mistake("no_weights", (
                     "you get -log sqrt(2 pi): the weight lam_1 = 0.3 is missing. p(x) = sum_j lam_j "
                     "N(x | mu_j, sigma_j^2)."), gives=-HALF_LOG_2PI),
                 Mistake("log_inside_sum", (
                     "the log seems to be inside the sum over the components. The log-likelihood is the log OF the "
                     "sum, log(lam_1 N_1 + lam_2 N_2)."), test=lambda s: s.out < -1000),
                 _wrong_sign(math.log(0.3) - HALF_LOG_2PI),
             )),
        Case("x = 1000, far from both components N(0, 1) and N(1, 1), equal weights",
             dict(x=[1000.0], lam=[0.5, 0.5], mu=[0.0, 1.0], sigma=[1.0, 1.0]),
             expect=math.log(0.5) - HALF_LOG_2PI - 999.0 ** 2 / 2 + math.log1p(math.exp(-999.5)), rtol=1e-9,
             why=("The component at 1 dominates: log 0.5 - log sqrt(2 pi) - 999^2 / 2 = -499002.112086. Both densities "
                  "underflow to 0 there, but their logs are finite: combine them with scipy.special.logsumexp.")),
    ),
    passed=("compute_loglik looks right: one number, the sum over points, sigma a standard deviation, the weights "
            "inside the log, a point far from every component, inputs untouched."),
)


# --------------------------------------------------------------------------- calc_probs
# x = 0 with N(0, 2^2) and N(4, 2^2): the density of component 2 is that of component 1 times exp(-4^2 / (2 * 2^2))
E2 = math.exp(-2.0)
BAYES = 0.75 / (0.75 + 0.25 * E2)                                       # gamma_11, by Bayes' rule
# the same with the exponent -1/2 (the variance 4 used as the standard deviation) and -4 (twice too large)
BAYES_VAR_AS_SD = 0.75 / (0.75 + 0.25 * math.exp(-0.5))
BAYES_TWICE = 0.75 / (0.75 + 0.25 * math.exp(-4.0))


CALC_PROBS = FunctionSpec(
    name="calc_probs",
    params=("x", "lam", "mu", "sigma"),
    returns=Output("gamma", _n_by_k, "one row per point and one column per component, even when k = 1"),
    nonfinite=Mistake("density_underflow", (
        "For a point far from every component all the densities underflow to 0 and 0/0 = NaN. Work with "
        "log-densities b_ij = log lam_j + log N(x_i | mu_j, sigma_j^2) and normalise with the log-sum-exp trick: "
        "gamma_ij = exp(b_ij - logsumexp_l b_il) (scipy.special.logsumexp(b, axis=1, keepdims=True)).")),
    mistakes=responsibility_mistakes(lambda a: len(a["x"]), lambda a: len(a["lam"])),
    cases=(
        Case("three identical components N(2, 1.5^2) with weights 0.2, 0.5, 0.3",
             dict(x=[-1.0, 2.0, 6.5, 3.0], lam=[0.2, 0.5, 0.3], mu=[2.0, 2.0, 2.0], sigma=[1.5, 1.5, 1.5]),
             expect=[[0.2, 0.5, 0.3]] * 4,
             why=("Identical components explain every point equally well, so the posterior of each point is the "
                  "prior: every row is [0.2, 0.5, 0.3]."),
             mistakes=(
                 Mistake("no_weights", (
                     "every row is [1/3, 1/3, 1/3]: the weights lam are missing. gamma_ij is proportional to "
                     "lam_j N(x_i | mu_j, sigma_j^2), so identical components give the prior lam."),
                     gives=[[1 / 3, 1 / 3, 1 / 3]] * 4),
             )),
        Case("x = 0 with N(0, 2^2) (weight 0.75) and N(4, 2^2) (weight 0.25): mu_2 is 2 sigma away",
             dict(x=[0.0], lam=[0.75, 0.25], mu=[0.0, 4.0], sigma=[2.0, 2.0]),
             expect=[[BAYES, 1.0 - BAYES]],
             why=("The density of component 2 at x = 0 is that of component 1 times exp(-4^2 / (2 * 2^2)) = exp(-2), "
                  "so Bayes' rule gives gamma_11 = 0.75 / (0.75 + 0.25 exp(-2)) = 0.956835 and gamma_12 = 1 - "
                  "gamma_11."),
             mistakes=(
                 Mistake("no_weights", (
                     "you get 1 / (1 + exp(-2)): the weights lam are missing. gamma_ij is proportional to "
                     "lam_j N(x_i | mu_j, sigma_j^2)."), gives=[[1 / (1 + E2), E2 / (1 + E2)]]),
                 Mistake("variance_as_sd", (
                     "you get 0.75 / (0.75 + 0.25 exp(-1/2)): the density was given the variance sigma^2 = 4 where "
                     "it takes the standard deviation (scipy.stats.norm's scale is the standard deviation, "
                     "sigma = 2)."), gives=[[BAYES_VAR_AS_SD, 1.0 - BAYES_VAR_AS_SD]]),
                 Mistake("sigma_as_variance", (
                     "you get 0.75 / (0.75 + 0.25 exp(-4)): the exponent is twice too large. sigma is the standard "
                     "deviation: the exponent is -(x - mu)^2 / (2 sigma^2), with sigma squared and the 1/2 kept."),
                     gives=[[BAYES_TWICE, 1.0 - BAYES_TWICE]]),
                 Mistake("swapped_columns", (
                     "the columns are the wrong way round: column j is component j, and x = 0 sits at mu_1 = 0."),
                     gives=[[1.0 - BAYES, BAYES]]),
             )),
        Case("points -1000 and 1000, components N(0, 1) and N(1, 1), equal weights",
             dict(x=[-1000.0, 1000.0], lam=[0.5, 0.5], mu=[0.0, 1.0], sigma=[1.0, 1.0]),
             expect=[[1.0, 0.0], [0.0, 1.0]], atol=1e-12,
             why=("Both points are far from both components, but -1000 is nearer mu_1 = 0 and 1000 nearer mu_2 = 1, "
                  "so the rows are [1, 0] and [0, 1]. Every density underflows to 0 there: normalise the "
                  "log-densities with scipy.special.logsumexp."),
             mistakes=(
                 Mistake("underflow_masked", (
                     "both rows are [1/2, 1/2]: every density underflowed to 0 and something (an epsilon added to "
                     "avoid 0/0?) made the components equal. -1000 is nearer mu_1 and 1000 nearer mu_2: work with "
                     "log-densities and normalise with scipy.special.logsumexp, without epsilons."),
                     gives=[[0.5, 0.5], [0.5, 0.5]], atol=1e-6),
             )),
        Case("one component (k = 1), four points",
             dict(x=[0.3, -2.0, 5.0, 40.0], lam=[1.0], mu=[0.0], sigma=[3.0]),
             expect=[[1.0], [1.0], [1.0], [1.0]],
             why="With one component every point belongs to it: gamma is a column of ones, shape (4, 1)."),
    ),
    passed=("calc_probs looks right: shape (n, k), rows summing to 1, the prior for identical components, a value "
            "by Bayes' rule, points far from every component, inputs untouched."),
)


# --------------------------------------------------------------------------- compute_q
Q_X = [0.0, 1.0, -2.0]
# two identical N(0, 1) with weights 1/2: the posterior is [1/2, 1/2] and Q = ℓ = sum_i log N(x_i | 0, 1)
Q_ELL = -3 * HALF_LOG_2PI - (0.0 + 1.0 + 4.0) / 2
# hard gamma: 0 and 1 to N(0, 1) (weight 0.6), -2 to N(-2, 2^2) (weight 0.4), entropy 0
Q_HARD = 2 * math.log(0.6) + math.log(0.4) - 2 * HALF_LOG_2PI - 0.5 - (HALF_LOG_2PI + math.log(2.0))
# x = 1000 with N(0, 1) and N(1, 1), weights 1/2, gamma = [0.3, 0.7]
Q_FAR = (math.log(0.5) - HALF_LOG_2PI - 0.3 * 1000.0 ** 2 / 2 - 0.7 * 999.0 ** 2 / 2
         - 0.3 * math.log(0.3) - 0.7 * math.log(0.7))

COMPUTE_Q = FunctionSpec(
    name="compute_q",
    params=("x", "lam", "mu", "sigma", "gamma"),
    returns=Output("Q", (), "the sum over all the points and components"),
    nonfinite=Mistake("log_of_underflowed_density", (
        "Far from every component the density itself underflows to 0 and log(0) = -inf, but its log is a finite "
        "number: use log-densities (scipy.stats.norm.logpdf), never the log of a density.")),
    mistakes=(
        Mistake("zero_log_zero", (
            "Q is NaN for a gamma with exact zeros: gamma * np.log(gamma) is 0 * (-inf) = NaN where gamma = 0. In "
            "the entropy term -sum gamma log gamma, 0 log 0 = 0 by convention (the limit of g log g as g -> 0): "
            "compute it with scipy.special.xlogy(gamma, gamma) (or -scipy.special.entr(gamma)), which give 0 "
            "there."),
            test=lambda s: bool(np.any(np.isnan(np.asarray(s.out, dtype=float))))
            and bool(np.any(np.asarray(s.args["gamma"]) == 0))),
        _one_value_per_point("Q"),
    ),
    cases=(
        Case("two identical components N(0, 1), weights 1/2, gamma = 1/2 everywhere (the posterior)",
             dict(x=Q_X, lam=[0.5, 0.5], mu=[0.0, 0.0], sigma=[1.0, 1.0], gamma=[[0.5, 0.5]] * 3),
             expect=Q_ELL,
             why=("gamma is the posterior here, so Q equals the log-likelihood, sum_i log N(x_i | 0, 1) = "
                  "-3 log sqrt(2 pi) - (0 + 1 + 4) / 2 = -5.256816."),
             mistakes=(
                 Mistake("no_entropy", (
                     "you get log 2 per point too little: the entropy term - sum gamma log gamma is missing. gamma is "
                     "the posterior here, so Q must equal the log-likelihood."), gives=Q_ELL - 3 * LOG_2),
                 Mistake("entropy_wrong_sign", (
                     "the entropy term has the wrong sign: Q SUBTRACTS sum gamma log gamma (which is <= 0), so the "
                     "entropy adds a non-negative amount."), gives=Q_ELL - 6 * LOG_2),
                 Mistake("no_log_lam", (
                     "log lam_j is missing: Q = sum_ij gamma_ij log(lam_j N(x_i | mu_j, sigma_j^2)) - sum_ij "
                     "gamma_ij log gamma_ij."), gives=Q_ELL + 3 * LOG_2),
                 Mistake("mean_not_sum", "you return the mean over the points; Q is the sum.", gives=Q_ELL / 3),
             )),
        Case("the same points, hard gamma: x = 0 and 1 to component 1, x = -2 to component 2 (0 log 0 = 0)",
             dict(x=Q_X, lam=[0.6, 0.4], mu=[0.0, -2.0], sigma=[1.0, 2.0], gamma=[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
             expect=Q_HARD,
             why=("With 0/1 gamma the entropy is 0 and Q adds log(lam_j N(x_i | mu_j, sigma_j^2)) of each point's own "
                  "component: 2 log 0.6 + log 0.4 - 3 log sqrt(2 pi) - 1/2 - log 2 = -5.887905. Terms with gamma = 0 "
                  "count nothing (0 log 0 = 0: scipy.special.xlogy(gamma, gamma) gives it).")),
        Case("x = 1000, far from N(0, 1) and N(1, 1), gamma = [0.3, 0.7]",
             dict(x=[1000.0], lam=[0.5, 0.5], mu=[0.0, 1.0], sigma=[1.0, 1.0], gamma=[[0.3, 0.7]]),
             expect=Q_FAR,
             why=("Q = log 0.5 - log sqrt(2 pi) - 0.3 * 1000^2 / 2 - 0.7 * 999^2 / 2 - 0.3 log 0.3 - 0.7 log 0.7. Use "
                  "log-densities: the density itself underflows to 0 there, but its log is a finite number.")),
    ),
    passed=("compute_q looks right: Q = ℓ when gamma is the posterior, the entropy term with its sign, 0 log 0 = 0, "
            "a point far from every component, inputs untouched."),
)


# --------------------------------------------------------------------------- update_mu
MU_X = [1.0, 2.0, 6.0, 10.0, 3.0]          # sum 22, mean 4.4
MU_SOFT = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.05, 0.95], [0.6, 0.4]]


def _weighted_means_add_up(s) -> bool:
    """N_1 mu_1 + N_2 mu_2 = the sum of the points (N_j = sum_i gamma_ij), each mean within the points' range."""
    x, gamma, mu = s.args["x"], s.args["gamma"], np.asarray(s.out, dtype=float)
    return (math.isclose(float(gamma.sum(axis=0) @ mu), float(x.sum()), rel_tol=1e-9)
            and bool(np.all(mu >= x.min())) and bool(np.all(mu <= x.max())))


UPDATE_MU = FunctionSpec(
    name="update_mu",
    params=("x", "gamma"),
    returns=Output("mu", _k_of_gamma, "one mean per component"),
    nonfinite=Mistake("zero_weight_component", (
        "A NaN or infinite mean is 0 / 0: a component whose weights sum to 0. Divide sum_i gamma_ij x_i by "
        "sum_i gamma_ij, the gamma you are given (not rounded).")),
    mistakes=(_one_value_per_point_not_component("mu"),),
    cases=(
        Case("hard gamma: points 1, 2, 3 to component 1, 6 and 10 to component 2",
             dict(x=MU_X, gamma=[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]),
             expect=[2.0, 8.0],
             why="With 0/1 gamma each mean is the plain mean of its points: (1 + 2 + 3) / 3 = 2 and (6 + 10) / 2 = 8.",
             mistakes=(
                 Mistake("divided_by_n", (
                     "you divide by n = 5, not by each component's total weight N_j = sum_i gamma_ij (3 and 2)."),
                     gives=[6.0 / 5, 16.0 / 5]),
                 Mistake("ignores_gamma", (
                     "every mean is the plain average of all the points (4.4): gamma is ignored. Weight point i by "
                     "gamma_ij: mu_j = sum_i gamma_ij x_i / sum_i gamma_ij."), gives=[4.4, 4.4]),
             )),
        Case("three components, every gamma = 1/3",
             dict(x=MU_X, gamma=[[1 / 3, 1 / 3, 1 / 3]] * 5),
             expect=[4.4, 4.4, 4.4],
             why="Equal weights give every component the overall mean, 22 / 5 = 4.4.",
             mistakes=(
                 Mistake("divided_by_n", (
                     "you divide by n = 5, not by each component's total weight N_j = sum_i gamma_ij (5/3 here)."),
                     gives=[4.4 / 3] * 3),
             )),
        Case("soft gamma, two components",
             dict(x=MU_X, gamma=MU_SOFT),
             holds=_weighted_means_add_up,
             why=("The weights of each point add up to 1, so N_1 mu_1 + N_2 mu_2 (N_j = sum_i gamma_ij) must equal the "
                  "sum of the points, 22, and each weighted mean lies between the smallest and the largest point: "
                  "divide each weighted sum by its own N_j."),
             mistakes=(
                 Mistake("rounds_gamma", (
                     "your means are those of hard 0/1 groups (gamma rounded to its largest entry): weight each "
                     "point by its soft gamma_ij."), gives=[(1.0 + 2.0 + 3.0) / 3, (6.0 + 10.0) / 2]),
             )),
    ),
    passed=("update_mu looks right: group means for 0/1 gamma, the overall mean for equal weights, the weighted means "
            "add up, inputs untouched."),
)


# --------------------------------------------------------------------------- update_sigma
UPDATE_SIGMA = FunctionSpec(
    name="update_sigma",
    params=("x", "gamma", "mu"),
    returns=Output("sigma", _k_of_gamma, "one standard deviation per component"),
    nonfinite=Mistake("zero_weight_component", (
        "A NaN or infinite standard deviation is 0 / 0 (a component whose weights sum to 0) or the square root "
        "of a negative number: divide sum_i gamma_ij (x_i - mu_j)^2 by sum_i gamma_ij, then take the square root.")),
    mistakes=(_one_value_per_point_not_component("sigma"),),
    cases=(
        Case("hard gamma, points 1 and 3 (mean 2) and 10 and 14 (mean 12)",
             dict(x=[1.0, 3.0, 10.0, 14.0], gamma=[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], mu=[2.0, 12.0]),
             expect=[1.0, 2.0],
             why="Each component's points lie 1 and 2 from its mean: standard deviations sqrt((1 + 1) / 2) = 1 and "
                 "sqrt((4 + 4) / 2) = 2.",
             mistakes=(
                 Mistake("returns_variance", (
                     "you return the variances [1, 4]; return the standard deviations, their square roots."),
                     gives=[1.0, 4.0]),
                 Mistake("divided_by_n", (
                     "you divide by n = 4; divide each sum by its own component's weight N_j = sum_i gamma_ij = 2."),
                     test=lambda s: close(s.out, [math.sqrt(0.5), math.sqrt(2.0)]) or close(s.out, [0.5, 2.0])),
                 Mistake("divided_by_n_minus_1", (
                     "you divide by N_j - 1; the maximum-likelihood variance divides by N_j = sum_i gamma_ij."),
                     test=lambda s: close(s.out, [math.sqrt(2.0), math.sqrt(8.0)]) or close(s.out, [2.0, 8.0])),
             )),
        Case("one component, points 1 and 3, mu given as 0 (not their mean)",
             dict(x=[1.0, 3.0], gamma=[[1.0], [1.0]], mu=[0.0]),
             expect=[math.sqrt(5.0)],
             why="Measure the spread about the mu you are given: sqrt((1^2 + 3^2) / 2) = sqrt(5) = 2.236068.",
             mistakes=(
                 Mistake("ignores_given_mu", (
                     "you get 1, the spread about the points' own mean 2: measure it about the mu you are given "
                     "(in EM, the new means from update_mu), sqrt((1^2 + 3^2) / 2) = sqrt(5)."), gives=[1.0]),
                 Mistake("returns_variance", (
                     "you return the variance 5; return the standard deviation, its square root."), gives=[5.0]),
             )),
    ),
    passed=("update_sigma looks right: standard deviations (not variances), each divided by its own weight, about the "
            "given means, inputs untouched."),
)


# --------------------------------------------------------------------------- update_lambda
UPDATE_LAMBDA = FunctionSpec(
    name="update_lambda",
    params=("gamma",),
    returns=Output("lam", _k_of_gamma, "one weight per component"),
    mistakes=(_one_value_per_point_not_component("lam"),),
    cases=(
        Case("hard gamma, three components with 2, 1 and 1 points",
             dict(gamma=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
             expect=[0.5, 0.25, 0.25],
             why="The weights are the fractions of points in each component, N_j / n: [2/4, 1/4, 1/4].",
             mistakes=(
                 Mistake("counts_not_weights", (
                     "you return the counts N_j = sum_i gamma_ij; the weights are N_j / n, which sum to 1."),
                     gives=[2.0, 1.0, 1.0]),
             )),
        Case("soft gamma, two components",
             dict(gamma=[[0.9, 0.1], [0.2, 0.8]]),
             expect=[0.55, 0.45],
             why="Average the columns: [(0.9 + 0.2) / 2, (0.1 + 0.8) / 2] = [0.55, 0.45].",
             mistakes=(
                 Mistake("counts_not_weights", (
                     "you return the counts N_j = sum_i gamma_ij; the weights are N_j / n, which sum to 1."),
                     gives=[1.1, 0.9]),
                 Mistake("averaged_rows", (
                     "you average each row (over the components, axis 1), which always gives 1/k; average each "
                     "column, over the points (axis 0)."), gives=[0.5, 0.5]),
             )),
    ),
    passed="update_lambda looks right: the average of each column of gamma, summing to 1, inputs untouched.",
)

SPECS = {spec.name: spec for spec in (COMPUTE_LOGLIK, CALC_PROBS, COMPUTE_Q, UPDATE_MU, UPDATE_SIGMA, UPDATE_LAMBDA)}
