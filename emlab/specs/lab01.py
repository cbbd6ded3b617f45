"""Lab 01 (two means): the visible checks of ``e_step``, ``m_step`` and ``incomplete_loglik``.

Heights, means and standard deviations in cm; log-likelihoods in nats. Every expected value
below is worked out by hand in its case's ``why``.
"""

from __future__ import annotations

import math

import numpy as np

from ..visible import Case, FunctionSpec, Mistake, Output, close

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)     # log sqrt(2 pi), the Gaussian's constant


def _sigmoid(t: float) -> float:
    """1 / (1 + exp(-t)), for the values written out in the cases."""
    return 1.0 / (1.0 + math.exp(-t))


# --------------------------------------------------------------------------- e_step
FIVE_HEIGHTS = [150.0, 163.5, 170.0, 181.0, 199.0]

E_STEP = FunctionSpec(
    name="e_step",
    params=("x", "mu1", "mu2", "sigma"),
    returns=Output("z_hat", ("x",), "one probability P(z = 1 | x) per person"),
    nonfinite=Mistake("density_underflow", (
        "When a height is far from both means, both Gaussian densities underflow to 0 and 0/0 is NaN. Work "
        "with the log-densities: the ratio of the two densities is exp of the difference of their logs, and "
        "that difference is a finite number.")),
    mistakes=(
        Mistake("one_column_per_group", (
            "It looks like one column per group: return only P(z = 1 | x), the probability of group 1 (the "
            "other is 1 minus it)."), test=lambda s: np.ndim(s.out) == 2 and np.shape(s.out)[1] == 2),
        Mistake("not_probabilities", "the results should be probabilities, between 0 and 1.",
                test=lambda s: bool(np.any(np.asarray(s.out) < -1e-9) or np.any(np.asarray(s.out) > 1 + 1e-9))),
    ),
    cases=(
        Case("heights 164, 171 and 178 cm with mu1 = 164, mu2 = 178, sigma = 7",
             dict(x=[164.0, 171.0, 178.0], mu1=164.0, mu2=178.0, sigma=7.0),
             holds=lambda s: close(s.out[1], 0.5) and s.out[0] > 0.5 > s.out[2],
             why=("171 cm is exactly halfway between the means, so both groups explain it equally well and, with "
                  "equal weights 1/2, P(z = 1 | x) = 1/2; a height at mu1 is more likely in group 1 (P > 1/2) "
                  "and one at mu2 less likely (P < 1/2). Check that both densities use the same sigma and that "
                  "the two groups get the same weight."),
             mistakes=(
                 Mistake("swapped_groups", (
                     "164 cm (the mean of group 1) gets P below 1/2 and 178 cm above: the groups are the wrong "
                     "way round. Return P(z = 1 | x), the probability of group 1, the group with mean mu1."),
                     test=lambda s: s.out[0] < 0.5 < s.out[2]),
                 Mistake("hard_assignments", (
                     "every result is 0 or 1: these are hard assignments to the nearer mean (as in k-means). "
                     "The E step gives probabilities: 171 cm, halfway between the means, has P = 1/2."),
                     test=lambda s: set(np.unique(s.out)) <= {0.0, 1.0}),
             )),
        Case("x = 170 cm with mu1 = 170, mu2 = 176, sigma = 3 (mu2 is 2 sigma away)",
             dict(x=[170.0], mu1=170.0, mu2=176.0, sigma=3.0),
             expect=[_sigmoid(2.0)],
             why=("At x = mu1 the density of group 1 is 1 / (sqrt(2 pi) sigma); x is 2 sigma from mu2, so the "
                  "density of group 2 is that times exp(-2^2 / 2) = exp(-2). Bayes' rule with weights 1/2 gives "
                  "P = 1 / (1 + exp(-2)) = 0.880797."),
             mistakes=(
                 Mistake("no_half_in_exponent",
                         "you get 1 / (1 + exp(-4)): the exponent -(x - mu)^2 / (2 sigma^2) is missing its 1/2.",
                         gives=[_sigmoid(4.0)]),
                 Mistake("sigma_as_variance", (
                     "you get 1 / (1 + exp(-6)): the squared distance is divided by 2 sigma, as if sigma were the "
                     "variance. sigma is the standard deviation: divide by 2 sigma^2."), gives=[_sigmoid(6.0)]),
                 Mistake("variance_as_sd", (
                     "you get 1 / (1 + exp(-2/9)): the density was given the variance sigma^2 = 9 where it takes "
                     "the standard deviation (scipy.stats.norm's scale is the standard deviation, sigma = 3)."),
                     gives=[_sigmoid(2.0 / 9.0)]),
                 Mistake("distance_over_sigma_once",
                         "the distance is divided by sigma only once: the exponent is -(x - mu)^2 / (2 sigma^2).",
                         test=lambda s: close(s.out, [_sigmoid(2.0 / 3.0)]) or close(s.out, [_sigmoid(1.0 / 3.0)])),
             )),
        Case("equal means mu1 = mu2 = 170 cm, sigma = 7, five heights",
             dict(x=FIVE_HEIGHTS, mu1=170.0, mu2=170.0, sigma=7.0),
             expect=[0.5] * 5,
             why="When mu1 = mu2 both groups are the same Gaussian, so every P(z = 1 | x) is the prior 1/2."),
        Case("the same five heights with (mu1, mu2) = (160, 175) and then swapped to (175, 160), sigma = 6",
             (dict(x=FIVE_HEIGHTS, mu1=160.0, mu2=175.0, sigma=6.0), dict(x=FIVE_HEIGHTS, mu1=175.0, mu2=160.0, sigma=6.0)),
             holds=lambda s: close(s.outs[0] + s.outs[1], np.ones(5)),
             why=("Swapping mu1 and mu2 swaps the roles of the groups, so the probability of group 1 becomes the "
                  "old probability of group 2, 1 - P.")),
        Case("heights 1000 cm and -800 cm, mu1 = 164, mu2 = 178, sigma = 7",
             dict(x=[1000.0, -800.0], mu1=164.0, mu2=178.0, sigma=7.0),
             expect=[0.0, 1.0], atol=1e-12,
             why=("1000 cm is about 120 standard deviations from both means, so both densities are below the "
                  "smallest float; but 1000 cm is nearer mu2, so P(z = 1 | x) = 0 there, and -800 cm is nearer "
                  "mu1, so P = 1. Compute the difference of the log-densities (a finite number) and turn it into "
                  "a probability without exponentiating the densities themselves.")),
        Case("200 heights from 120 to 220 cm, mu1 = 181, mu2 = 159, sigma = 12.5",
             dict(x=np.linspace(120.0, 220.0, 200), mu1=181.0, mu2=159.0, sigma=12.5),
             holds=lambda s: close(s.out, 1.0 - s.out[::-1]) and bool(np.all(np.diff(s.out) >= -1e-9)),
             why=("The heights are symmetric around 170 cm, halfway between the means, so the heights 170 + d and "
                  "170 - d should get P and 1 - P; and with mu1 above mu2, P(z = 1 | x) should grow with x.")),
    ),
    passed=("e_step looks right: shape (n,), 1/2 halfway and for equal means, 1 - P when the means swap, "
            "a value by hand, heights far from both means, inputs untouched."),
)


# --------------------------------------------------------------------------- m_step
SOFT_X = [158.0, 171.0, 165.5, 183.0, 176.0, 149.0, 190.5, 168.0]      # sum 1361
SOFT_Z = [0.9, 0.3, 0.75, 0.05, 0.2, 0.99, 0.01, 0.6]                 # sum 3.8, so sum(1 - z) = 4.2
SOFT_Z_MOVED = [0.9, 0.3, 0.75, 0.05, 0.2, 0.0, 0.01, 0.6]            # the 149 cm person moved to group 2


def _weighted_means_add_up(s) -> bool:
    """N1 mu1 + N2 mu2 = sum of the heights, and both means inside the range of the heights."""
    mu1, mu2 = s.out
    x, z = s.args["x"], s.args["z_hat"]
    return (math.isclose(z.sum() * mu1 + (1 - z).sum() * mu2, x.sum(), rel_tol=1e-9)
            and x.min() <= mu1 <= x.max() and x.min() <= mu2 <= x.max() and mu1 < mu2)


M_STEP = FunctionSpec(
    name="m_step",
    params=("x", "z_hat"),
    returns=(Output("mu1", (), "one number (sum over the people)"), Output("mu2", (), "one number (sum over the people)")),
    nonfinite=Mistake("zero_weight_group", (
        "A NaN or infinite mean is 0 / 0, a group whose total weight is 0. Use z_hat itself as the weights (do "
        "not round it to 0 or 1): mu1 = sum(z_hat x) / sum(z_hat), mu2 = sum((1 - z_hat) x) / sum(1 - z_hat).")),
    cases=(
        Case("0/1 responsibilities: heights 160, 162, 170 (group 1) and 175, 185 (group 2)",
             dict(x=[160.0, 175.0, 162.0, 185.0, 170.0], z_hat=[1.0, 0.0, 1.0, 0.0, 1.0]),
             expect=(164.0, 180.0),
             why=("When z_hat is 0 or 1, mu1 is the plain mean of the heights with z_hat = 1, (160 + 162 + 170) / 3 "
                  "= 164, and mu2 the mean of the others, (175 + 185) / 2 = 180."),
             mistakes=(
                 Mistake("swapped_means", "you have them the wrong way round: mu1 belongs to z_hat = 1, mu2 to "
                                          "1 - z_hat.", gives=(180.0, 164.0)),
                 Mistake("divided_by_n", "the weighted sums are divided by n = 5; divide each by the total weight "
                                         "of its group, sum(z_hat) = 3 and sum(1 - z_hat) = 2.",
                         gives=(492.0 / 5, 360.0 / 5)),
                 Mistake("mu2_not_weighted_by_1_minus_z", (
                     "mu1 is right but mu2 is not the mean of group 2: mu2 weights each height by 1 - z_hat, "
                     "mu2 = sum((1 - z_hat) x) / sum(1 - z_hat)."),
                     test=lambda s: close(s.out[0], 164.0) and not close(s.out[1], 180.0)),
             )),
        Case("z_hat = 1/2 for everyone",
             dict(x=[151.0, 166.0, 172.5, 180.0, 193.0, 169.0], z_hat=[0.5] * 6),
             expect=(1031.5 / 6, 1031.5 / 6),
             why="With every weight 1/2 both weighted means are the plain mean, 1031.5 / 6 = 171.9167 cm."),
        Case("soft responsibilities, 8 heights",
             dict(x=SOFT_X, z_hat=SOFT_Z),
             holds=_weighted_means_add_up,
             why=("The weights of the two groups add up to 1 for every person, so N1 mu1 + N2 mu2 (N1 = sum of "
                  "z_hat = 3.8, N2 = sum of 1 - z_hat = 4.2) must equal the sum of all the heights, 1361; a "
                  "weighted mean lies between the smallest and the largest height; and the short people carry "
                  "most of z_hat, so mu1 < mu2. Check mu1 = sum(z_hat x) / sum(z_hat) and mu2 = sum((1 - z_hat) "
                  "x) / sum(1 - z_hat)."),
             mistakes=(
                 Mistake("rounds_weights", (
                     "your means are those of hard 0/1 groups (z_hat rounded at 1/2): the M step weights every "
                     "height by z_hat itself, mu1 = sum(z_hat x) / sum(z_hat)."),
                     gives=((158.0 + 165.5 + 149.0 + 168.0) / 4, (171.0 + 183.0 + 176.0 + 190.5) / 4)),
             )),
        Case("soft responsibilities, then the 149 cm person moved from group 1 to group 2",
             (dict(x=SOFT_X, z_hat=SOFT_Z), dict(x=SOFT_X, z_hat=SOFT_Z_MOVED)),
             holds=lambda s: s.outs[1][0] > s.outs[0][0] and s.outs[1][1] < s.outs[0][1],
             why="Moving the shortest person (149 cm) from group 1 to group 2 should raise mu1 and lower mu2."),
    ),
    passed=("m_step looks right: 0/1 weights give the group means, weights 1/2 the overall mean, the weighted "
            "means add up, inputs untouched."),
)


# --------------------------------------------------------------------------- incomplete_loglik
# heights 160, 170, 180 with mu1 = mu2 = 170 and sigma = 10: one Gaussian; the squared distances
# over 2 sigma^2 are 1/2, 0 and 1/2
EQUAL_MEANS = -3 * (HALF_LOG_2PI + math.log(10.0)) - 1.0
FAR_MU2 = -math.log(2.0) - HALF_LOG_2PI          # x = 0 at mu1 = 0, mu2 = 1000, sigma = 1


def _wrong_sign(want):
    return Mistake("wrong_sign", "it has the wrong sign: return log p(x), not -log p(x).", gives=-want)


INCOMPLETE_LOGLIK = FunctionSpec(
    name="incomplete_loglik",
    params=("x", "mu1", "mu2", "sigma"),
    returns=Output("the log-likelihood", (), "the sum over all the people"),
    nonfinite=Mistake("log_of_underflowed_sum", (
        "Far from both means both densities underflow to 0 and log(0) = -inf: combine the two log-densities "
        "with the log-sum-exp trick (np.logaddexp or scipy.special.logsumexp) instead of taking the log of a "
        "sum of densities.")),
    mistakes=(
        Mistake("one_value_per_person", (
            "you return one value per person: the log-likelihood is one number, the SUM over the people of "
            "log(1/2 N(x_i | mu1, sigma^2) + 1/2 N(x_i | mu2, sigma^2))."),
            test=lambda s: np.shape(s.out) == (len(s.args["x"]),) and len(s.args["x"]) > 1),
    ),
    cases=(
        Case("one point x = 0 with mu1 = mu2 = 0, sigma = 1",
             dict(x=[0.0], mu1=0.0, mu2=0.0, sigma=1.0),
             expect=-HALF_LOG_2PI, rtol=1e-9,
             why=("Both groups are N(0, 1), whose density at 0 is 1 / sqrt(2 pi); half of it plus half of it is "
                  "1 / sqrt(2 pi), so the answer is -log(sqrt(2 pi)) = -0.918939."),
             mistakes=(_wrong_sign(-HALF_LOG_2PI),
                       Mistake("no_weights_half", (
                           "you get log 2 - log(sqrt(2 pi)): the weight 1/2 of each group is missing. Both groups "
                           "are N(0, 1) here, so the likelihood is 1/2 / sqrt(2 pi) + 1/2 / sqrt(2 pi)."),
                           gives=math.log(2.0) - HALF_LOG_2PI),
                       Mistake("likelihood_not_log", "it looks like the likelihood itself; take its log.",
                               gives=math.exp(-HALF_LOG_2PI)))),
        Case("heights 160, 170 and 180 cm with mu1 = mu2 = 170, sigma = 10",
             dict(x=[160.0, 170.0, 180.0], mu1=170.0, mu2=170.0, sigma=10.0),
             expect=EQUAL_MEANS, rtol=1e-9,
             why=("With mu1 = mu2 the mixture is one Gaussian: each height contributes -log(sqrt(2 pi) sigma) - "
                  "(x - mu)^2 / (2 sigma^2), here -log(sqrt(2 pi) 10) - 1/2, -log(sqrt(2 pi) 10) and "
                  "-log(sqrt(2 pi) 10) - 1/2: -11.663652 in all."),
             mistakes=(
                 Mistake("mean_not_sum", "it looks like the mean over the people; the log-likelihood is the sum.",
                         gives=EQUAL_MEANS / 3),
                 _wrong_sign(EQUAL_MEANS),
                 Mistake("missing_log_sigma", (
                     "the term -log(sigma) of each log-density (from the 1 / sigma in front of the Gaussian) is "
                     "missing."), gives=-3 * HALF_LOG_2PI - 1.0),
                 Mistake("sigma_as_variance", (
                     "sigma is used as the variance. sigma is the standard deviation; the variance is sigma^2."),
                     gives=-3 * (HALF_LOG_2PI + 0.5 * math.log(10.0)) - 10.0),
                 Mistake("variance_as_sd", (
                     "the density was given the variance sigma^2 = 100 where it takes the standard deviation "
                     "(scipy.stats.norm's scale is the standard deviation, sigma = 10)."),
                     gives=-3 * (HALF_LOG_2PI + math.log(100.0)) - 0.01),
             )),
        Case("one point x = 0 with mu1 = 0, mu2 = 1000, sigma = 1",
             dict(x=[0.0], mu1=0.0, mu2=1000.0, sigma=1.0),
             expect=FAR_MU2, rtol=1e-9,
             why=("The group at 1000 cm adds almost nothing, so the likelihood is 1/2 / sqrt(2 pi) and the answer "
                  "is log(1/2 N(0 | 0, 1)) = -log 2 - log(sqrt(2 pi)) = -1.612086."),
             mistakes=(
                 Mistake("no_weights_half", (
                     "you get -log(sqrt(2 pi)): the weight 1/2 of each group is missing. The likelihood is "
                     "1/2 / sqrt(2 pi) + (almost nothing), so the answer is -log 2 - log(sqrt(2 pi))."),
                     gives=-HALF_LOG_2PI),
                 Mistake("log_inside_sum", (
                     "the log seems to be inside the sum over the groups. The log-likelihood is the log OF the "
                     "sum: log(1/2 N(x | mu1) + 1/2 N(x | mu2))."), test=lambda s: s.out < -1000),
                 _wrong_sign(FAR_MU2),
             )),
        Case("heights 150, 165, 172 and 190 cm with (mu1, mu2) = (160, 180) and swapped, sigma = 8",
             (dict(x=[150.0, 165.0, 172.0, 190.0], mu1=160.0, mu2=180.0, sigma=8.0),
              dict(x=[150.0, 165.0, 172.0, 190.0], mu1=180.0, mu2=160.0, sigma=8.0)),
             holds=lambda s: close(s.outs[0], s.outs[1]),
             why="Both groups have weight 1/2, so swapping mu1 and mu2 cannot change the likelihood."),
        Case("one point x = 1000 with mu1 = 0, mu2 = 1, sigma = 1",
             dict(x=[1000.0], mu1=0.0, mu2=1.0, sigma=1.0),
             expect=-math.log(2.0) - HALF_LOG_2PI - 999.0 ** 2 / 2 + math.log1p(math.exp(-999.5)), rtol=1e-9,
             why="The group at mu2 = 1 dominates: the answer is log(1/2) - log(sqrt(2 pi)) - 999^2 / 2."),
    ),
    passed=("incomplete_loglik looks right: one number, the sum over people, sigma a standard deviation, the "
            "weights 1/2 inside the log, a point far from both means, inputs untouched."),
)

SPECS = {spec.name: spec for spec in (E_STEP, M_STEP, INCOMPLETE_LOGLIK)}
