"""Lab 03 (Old Faithful): the visible checks of ``e_step``, ``m_step`` and ``loglik``.

Shapes (N points, D features, K components): X (N, D), mu (K, D), Sigma (K, D, D) with
Sigma[k] the covariance matrix of component k, pi (K,), gamma (N, K). Log-likelihoods in
nats. Every expected value below is a number or arithmetic worked out by hand in its case's
``why``; the other cases check relations that any correct answer satisfies.
"""

from __future__ import annotations

import math

import numpy as np

from ..checking import responsibility_mistakes
from ..visible import Case, FunctionSpec, Mistake, Output, close, rows_sum_to_one

LOG_2PI = math.log(2.0 * math.pi)     # log of the constant (2 pi)^(D/2) when D = 2
I2 = [[1.0, 0.0], [0.0, 1.0]]
I3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def _times(a: float, matrix) -> list:
    """a times a matrix written out in the spec (for the inputs of a case)."""
    return [[a * v for v in row] for row in matrix]


def _sizes(args) -> tuple[int, int]:
    """(N, K) of an e_step call: the rows of X and of mu."""
    return len(args["X"]), len(args["mu"])


def _dropped_axis(outputs, shapes) -> bool:
    """Some output has as many entries as its expected shape but another shape."""
    return any(np.shape(o) != tuple(s) and np.size(o) == int(np.prod(s)) for o, s in zip(outputs, shapes))


DROPPED_AXIS = ("it has the right number of entries but the wrong shape: keep every axis, even one of length 1 "
                "(gamma of shape (N, 1) when K = 1, mu of shape (K, 1) and Sigma of shape (K, 1, 1) when D = 1).")


# --------------------------------------------------------------------------- e_step
def _e_step_mistakes() -> tuple[Mistake, ...]:
    """The shared responsibility mistakes, with columns normalised to 1 also recognised for
    K = 1 (one column summing to 1 over N > 1 points), and a dropped axis."""
    shared = responsibility_mistakes(lambda a: len(a["X"]), lambda a: len(a["mu"]))
    columns = next(m for m in shared if m.name == "columns_normalised")
    one_column = Mistake(columns.name, columns.message, test=lambda s: (
        len(s.args["mu"]) == 1 and len(s.args["X"]) > 1 and np.shape(s.out) == _sizes(s.args)
        and bool(np.all(np.isfinite(s.out))) and close(np.sum(s.out), 1.0)))
    dropped = Mistake("dropped_axis", DROPPED_AXIS, test=lambda s: (
        np.shape(s.out) != _sizes(s.args)[::-1] and _dropped_axis((s.out,), (_sizes(s.args),))))
    out = []
    for m in shared:
        if m.name == "rows_not_normalised":
            out.append(one_column)
        out.append(m)
    return tuple(out) + (dropped,)


FIVE_2D = [[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1], [1.1, 1.9], [-2.2, -0.4]]
TILTED = [[1.0, 0.4], [0.4, 2.0]]
MIRROR_SIGMA = [[1.0, 0.5], [0.5, 1.0]]
MIRROR_X = [[0.0, 0.0], [0.8, -0.3], [-0.8, 0.3], [2.5, 1.0], [-2.5, -1.0]]
G_1D = 1.0 / (1.0 + math.exp(1.5) / 2.0)        # x = 2 under N(0, 1) and N(0, 4), equal weights
G_1D_NOT_INVERTED = 1.0 / (1.0 + math.exp(-6.0) / 2.0)
G_NEAR = 1.0 / (1.0 + math.exp(-0.5))            # (0, 0) under components at (0, 0) and (1, 0), Sigma = I
G_FAR = math.exp(-49.5) / (1.0 + math.exp(-49.5))  # (50, 0) under the same: the share of (0, 0)


def _columns_swapped(s) -> bool:
    """The points nearer the component at (1, 0) get most of their responsibility in column 0."""
    return s.out[1, 1] < 0.5 and s.out[3, 1] < 0.5


def _mirror_symmetric(s) -> bool:
    g = s.out
    return (close(g[0], [0.5, 0.5]) and close(g[1], g[2, ::-1]) and close(g[3], g[4, ::-1])
            and g[1, 1] > 0.5 and g[3, 1] > 0.5)


E_STEP = FunctionSpec(
    name="e_step",
    params=("X", "mu", "Sigma", "pi"),
    returns=Output("gamma", _sizes, "one row per point and one column per component, gamma[n, k] = p(z_n = k | x_n)"),
    nonfinite=Mistake("density_underflow", (
        "Far from every component each density pi_k N(x | mu_k, Sigma_k) underflows to 0, and 0 / 0 is NaN. "
        "Compute a[n, k] = log pi_k + log N(x_n | mu_k, Sigma_k) and normalise each row with the log-sum-exp "
        "trick: gamma = exp(a - logsumexp(a, axis=1, keepdims=True)).")),
    mistakes=_e_step_mistakes(),
    cases=(
        Case("one component (K = 1), four points in 2-D",
             dict(X=FIVE_2D[:4], mu=[[0.0, 0.0]], Sigma=[I2], pi=[1.0]),
             expect=[[1.0]] * 4,
             why="With a single component every point certainly comes from it: every responsibility is 1."),
        Case("two identical components with weights pi = (0.3, 0.7)",
             dict(X=FIVE_2D, mu=[[0.5, -0.5]] * 2, Sigma=[TILTED, TILTED], pi=[0.3, 0.7]),
             expect=[[0.3, 0.7]] * 5,
             why=("When both components have the same mean and covariance, the densities cancel in Bayes' rule "
                  "and every row of gamma equals pi = (0.3, 0.7)."),
             mistakes=(
                 Mistake("no_pi", (
                     "you get 0.5 everywhere: the mixing weights pi are missing. Multiply each density by pi_k "
                     "(add log pi_k to each log-density) before normalising."), gives=[[0.5, 0.5]] * 5),
                 Mistake("columns_swapped", (
                     "you get (0.7, 0.3): column k must belong to component k (pi[k], mu[k], Sigma[k])."),
                     gives=[[0.7, 0.3]] * 5),
                 Mistake("hard_assignments", (
                     "every responsibility is 0 or 1: these are hard assignments to the most likely component (as "
                     "in k-means). The E step keeps the posterior probabilities themselves: here the data say "
                     "nothing, so every row is the prior pi = (0.3, 0.7)."),
                     test=lambda s: set(np.unique(s.out)) <= {0.0, 1.0}),
             )),
        Case("a point at the shared mean of Sigma = I and Sigma = 4 I (D = 2, equal weights)",
             dict(X=[[1.0, -1.0]], mu=[[1.0, -1.0]] * 2, Sigma=[I2, _times(4.0, I2)], pi=[0.5, 0.5]),
             expect=[[0.8, 0.2]],
             why=("At its mean a Gaussian's density is (2 pi)^(-D/2) |Sigma|^(-1/2): here 1 / (2 pi) and "
                  "1 / (2 pi 4) (|4 I| = 16 in 2-D, whose square root is 4), so with equal weights gamma = "
                  "(1, 1/4) / (5/4) = (0.8, 0.2)."),
             mistakes=(
                 Mistake("no_determinant", (
                     "you get (0.5, 0.5): the factor |Sigma_k|^(-1/2) of the Gaussian density (the term "
                     "-1/2 log |Sigma_k| of the log-density) is missing; it differs between the components and "
                     "does not cancel."), gives=[[0.5, 0.5]]),
                 Mistake("determinant_not_square_rooted", (
                     "you get (16/17, 1/17): the density has |Sigma_k|^(-1/2), the square root of the determinant "
                     "(-1/2 log |Sigma_k| in the log-density), not |Sigma_k|^(-1)."), gives=[[16 / 17, 1 / 17]]),
                 Mistake("hard_assignments", (
                     "you get (1, 0): a hard assignment to the most likely component. The E step keeps the "
                     "posterior probabilities, here (0.8, 0.2)."), gives=[[1.0, 0.0]]),
             )),
        Case("a point at the shared mean of Sigma = I and Sigma = 4 I in 3-D (D = 3, equal weights)",
             dict(X=[[1.0, 0.0, 2.0]], mu=[[1.0, 0.0, 2.0]] * 2, Sigma=[I3, _times(4.0, I3)], pi=[0.5, 0.5]),
             expect=[[8 / 9, 1 / 9]],
             why=("In D = 3, |4 I| = 64 and |Sigma|^(-1/2) = 1/8, so at the shared mean gamma = (1, 1/8) / (9/8) "
                  "= (8/9, 1/9). Write the density for any D: (2 pi)^(-D/2) |Sigma|^(-1/2) exp(-(x - mu)^T "
                  "Sigma^(-1) (x - mu) / 2)."),
             mistakes=(
                 Mistake("only_two_features", (
                     "you get (0.8, 0.2), the answer in 2-D: your density uses only the first two features (a "
                     "bivariate formula with sigma_x, sigma_y and rho?). Write it for any D, with the determinant "
                     "and the inverse of the whole D x D matrix Sigma_k (np.linalg.slogdet, np.linalg.solve)."),
                     gives=[[0.8, 0.2]]),
                 Mistake("no_determinant", (
                     "you get (0.5, 0.5): the factor |Sigma_k|^(-1/2) of the Gaussian density is missing."),
                     gives=[[0.5, 0.5]]),
                 Mistake("determinant_not_square_rooted", (
                     "you get (64/65, 1/65): the density has |Sigma_k|^(-1/2), the square root of the "
                     "determinant, not |Sigma_k|^(-1)."), gives=[[64 / 65, 1 / 65]]),
             )),
        Case("one feature (D = 1, X of shape (1, 1)): x = 2 under N(0, 1) and N(0, 4), equal weights",
             dict(X=[[2.0]], mu=[[0.0], [0.0]], Sigma=[[[1.0]], [[4.0]]], pi=[0.5, 0.5]),
             expect=[[G_1D, 1.0 - G_1D]],
             why=("The densities at x = 2 are exp(-2) / sqrt(2 pi) and exp(-1/2) / (2 sqrt(2 pi)), so gamma = "
                  "(1, exp(3/2) / 2) / (1 + exp(3/2) / 2) = (0.3087, 0.6913). Check that the exponent uses the "
                  "inverse covariance, -(x - mu)^T Sigma^(-1) (x - mu) / 2, and that D = 1 (X of shape (N, 1), "
                  "Sigma of shape (K, 1, 1)) works."),
             mistakes=(
                 Mistake("sigma_not_inverted", (
                     "you get (1, exp(-6) / 2) / (1 + exp(-6) / 2): the exponent uses Sigma_k where the Gaussian "
                     "has its inverse, -(x - mu_k)^T Sigma_k^(-1) (x - mu_k) / 2 (here (x - 0)^2 / 4 for the "
                     "component of variance 4, not (x - 0)^2 * 4)."),
                     gives=[[G_1D_NOT_INVERTED, 1.0 - G_1D_NOT_INVERTED]]),
             )),
        Case("mirror-image components mu = (-1, 0) and (1, 0), the same tilted Sigma, equal weights",
             dict(X=MIRROR_X, mu=[[-1.0, 0.0], [1.0, 0.0]], Sigma=[MIRROR_SIGMA, MIRROR_SIGMA], pi=[0.5, 0.5]),
             holds=_mirror_symmetric,
             why=("The picture is symmetric through the origin: the origin is as likely under both components, so "
                  "its row is (0.5, 0.5); the points x and -x get swapped responsibilities (rows 1 and 2, rows 3 "
                  "and 4); and (0.8, -0.3) and (2.5, 1) are nearer the component at (1, 0), so their column 1 is "
                  "above 0.5."),
             mistakes=(
                 Mistake("columns_swapped", (
                     "the points nearer the component at (1, 0) = mu[1] get most of their responsibility in column "
                     "0: column k must belong to component k (pi[k], mu[k], Sigma[k])."), test=_columns_swapped),
             )),
        Case("a point 50 standard deviations from two components at (0, 0) and (1, 0), Sigma = I",
             dict(X=[[0.0, 0.0], [50.0, 0.0]], mu=[[0.0, 0.0], [1.0, 0.0]], Sigma=[I2, I2], pi=[0.5, 0.5]),
             expect=[[G_NEAR, 1.0 - G_NEAR], [G_FAR, 1.0 - G_FAR]], atol=1e-9,
             why=("Both densities at (50, 0) are about exp(-1250), far below the smallest float (about "
                  "exp(-745)), yet their ratio is exp(49.5): the nearer component (1, 0) takes all the "
                  "responsibility, gamma = (0, 1) to 21 decimals. The point (0, 0) gets (1, exp(-1/2)) / (1 + "
                  "exp(-1/2)) = (0.6225, 0.3775). Compute log pi_k + log N(x | mu_k, Sigma_k) and normalise with "
                  "scipy.special.logsumexp."),
             mistakes=(
                 Mistake("epsilon_added", (
                     "the far point (50, 0) gets (0.5, 0.5): both of its densities underflowed to 0 and the small "
                     "number added to them (an epsilon, a clip) made them equal. Add nothing: compute log pi_k + "
                     "log N(x | mu_k, Sigma_k) and normalise with logsumexp, which gives (0, 1)."),
                     test=lambda s: close(s.out[1], [0.5, 0.5], atol=1e-6)),
             )),
        Case("three components in 3-D, unequal weights",
             dict(X=[[0.5, -1.0, 0.2], [1.5, 0.3, -0.7], [-0.4, 2.2, 1.0], [0.0, 0.0, 0.0], [2.0, -0.5, 1.5],
                     [-1.2, 0.8, -0.3], [0.9, 1.1, 0.4]],
                  mu=[[0.0, 0.0, 0.0], [1.0, -0.5, 0.5], [-0.5, 1.5, 0.0]],
                  Sigma=[[[1.0, 0.3, 0.0], [0.3, 1.5, -0.2], [0.0, -0.2, 0.8]],
                         [[2.0, -0.4, 0.1], [-0.4, 0.7, 0.0], [0.1, 0.0, 1.2]],
                         [[0.6, 0.0, 0.2], [0.0, 0.9, 0.3], [0.2, 0.3, 1.4]]],
                  pi=[0.2, 0.3, 0.5]),
             holds=lambda s: rows_sum_to_one(s.out),
             why="Every entry is a probability and every row sums to 1, for any K and D."),
    ),
    passed=("e_step looks right: shapes, rows summing to 1, pi, |Sigma|, D = 1, symmetry, "
            "a far point, inputs untouched."),
)


# --------------------------------------------------------------------------- m_step
def _m_shapes(args) -> tuple:
    N, D = np.shape(args["X"])
    K = np.shape(args["gamma"])[1]
    return (K, D), (K, D, D), (K,)


def _sigma_not_symmetric(s) -> bool:
    S = np.asarray(s.out[1], dtype=float)
    scale = max(1.0, float(np.max(np.abs(S))))
    return S.ndim == 3 and not np.allclose(S, np.swapaxes(S, 1, 2), rtol=0, atol=1e-10 * scale)


def _sigma_not_positive(s) -> bool:
    S = np.asarray(s.out[1], dtype=float)
    scale = max(1.0, float(np.max(np.abs(S))))
    return bool(np.all(np.isfinite(S))) and bool(np.any(np.linalg.eigvalsh(S) < -1e-10 * scale))


def _pi_not_a_distribution(s) -> bool:
    pi = np.asarray(s.out[2], dtype=float)
    return bool(np.all(np.isfinite(pi))) and (bool(np.any(pi < -1e-9)) or not math.isclose(float(pi.sum()), 1.0,
                                                                                            abs_tol=1e-6))


# hard 0/1 responsibilities: three groups written out so that every answer is a small fraction
#   group 0: (1, 2), (2, 3), (0, 1), (3, 2), (-1, 2)   mean (1, 2)    covariance [[2, 2/5], [2/5, 2/5]]
#   group 1: (-2, 2), (-4, 3), (-3, 1)                 mean (-3, 2)   covariance [[2/3, -1/3], [-1/3, 2/3]]
#   group 2: (6, 0), (2, -2), (4, 0), (4, -2)          mean (4, -1)   covariance [[2, 1], [1, 1]]
#   all 12 points: mean (1, 1)
HARD_Z = [0, 1, 0, 2, 0, 1, 2, 0, 2, 1, 0, 2]
HARD_X = [[1.0, 2.0], [-2.0, 2.0], [2.0, 3.0], [6.0, 0.0], [0.0, 1.0], [-4.0, 3.0], [2.0, -2.0], [3.0, 2.0],
          [4.0, 0.0], [-3.0, 1.0], [-1.0, 2.0], [4.0, -2.0]]
HARD_GAMMA = [[1.0 if k == z else 0.0 for k in range(3)] for z in HARD_Z]
HARD_MU = [[1.0, 2.0], [-3.0, 2.0], [4.0, -1.0]]
HARD_SIGMA = [[[2.0, 0.4], [0.4, 0.4]], [[2 / 3, -1 / 3], [-1 / 3, 2 / 3]], [[2.0, 1.0], [1.0, 1.0]]]
HARD_PI = [5 / 12, 3 / 12, 4 / 12]


def _scaled(matrices, factors) -> list:
    """Each matrix of a list times its own factor (for the mistakes written out below)."""
    return [_times(f, m) for f, m in zip(factors, matrices)]


# equal responsibilities: (1, 1), (3, 2), (-1, 0), (1, 3) have mean (1, 3/2) and covariance
# [[2, 1], [1, 5/4]] (divided by N = 4)
EQUAL_X = [[1.0, 1.0], [3.0, 2.0], [-1.0, 0.0], [1.0, 3.0]]
EQUAL_MU = [1.0, 1.5]
EQUAL_SIGMA = [[2.0, 1.0], [1.0, 1.25]]

# soft responsibilities in 1-D: x = 0, 1, 3, 5 with gamma[:, 0] = 1, 3/4, 1/2, 3/4, so N_k = (3, 1)
SOFT1_X = [[0.0], [1.0], [3.0], [5.0]]
SOFT1_GAMMA = [[1.0, 0.0], [0.75, 0.25], [0.5, 0.5], [0.75, 0.25]]

# soft responsibilities, K = 3 in D = 3: N_k = (2, 1, 1)
SOFT3_X = [[1.0, 0.0, 2.0], [0.0, -1.0, 1.0], [2.0, 1.0, 0.0], [-1.0, 3.0, 1.0]]
SOFT3_GAMMA = [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5], [1.0, 0.0, 0.0]]


def _means_and_covariances_add_up(s) -> bool:
    """sum_k pi_k mu_k = the mean of X, and sum_k pi_k (Sigma_k + mu_k mu_k^T) = the mean of x x^T:
    true for any responsibilities whose rows sum to 1."""
    mu, Sigma, pi = s.out
    X = s.args["X"]
    second = np.einsum("k,kij->ij", pi, Sigma + mu[:, :, None] * mu[:, None, :])
    return close(pi @ mu, X.mean(axis=0)) and close(second, X.T @ X / len(X))


M_STEP = FunctionSpec(
    name="m_step",
    params=("X", "gamma"),
    returns=(Output("mu", lambda a: _m_shapes(a)[0], "one row per component, one column per feature"),
             Output("Sigma", lambda a: _m_shapes(a)[1], "one D x D covariance matrix per component"),
             Output("pi", lambda a: _m_shapes(a)[2], "one mixing weight per component")),
    nonfinite=Mistake("division_by_zero", (
        "A NaN or infinite parameter is a division by zero: divide each component's sums by its own N_k = "
        "sum_n gamma[n, k] (not by N_k - 1, which is 0 for a component with one point's worth of "
        "responsibility).")),
    mistakes=(
        Mistake("dropped_axis", DROPPED_AXIS, test=lambda s: _dropped_axis(s.out, _m_shapes(s.args))),
        Mistake("sigma_not_symmetric", (
            "a returned covariance Sigma[k] is not symmetric. A covariance is a weighted sum of outer products "
            "(x_n - mu_k)(x_n - mu_k)^T, which are symmetric: check the order of the factors (a D x N matrix "
            "times an N x D matrix)."), test=_sigma_not_symmetric),
        Mistake("sigma_not_positive", (
            "a returned covariance has a negative eigenvalue; a weighted sum of outer products (x - mu)(x - mu)^T "
            "with weights >= 0 cannot have one."), test=_sigma_not_positive),
        Mistake("pi_not_summing_to_one", (
            "the mixing weights pi must be non-negative and sum to 1: pi_k = N_k / N, with N_k = sum_n gamma[n, k] "
            "and N the number of points."), test=_pi_not_a_distribution),
    ),
    cases=(
        Case("hard 0/1 responsibilities: groups of 5, 3 and 4 points in 2-D",
             dict(X=HARD_X, gamma=HARD_GAMMA),
             expect=(HARD_MU, HARD_SIGMA, HARD_PI),
             why=("With 0/1 responsibilities each component is fitted to its own group alone: mu_k is the group's "
                  "mean, (1, 2), (-3, 2) and (4, -1); Sigma_k its maximum-likelihood covariance, the sum of "
                  "(x_n - mu_k)(x_n - mu_k)^T over the group divided by the group size N_k (np.cov(X[group].T, "
                  "bias=True)): [[2, 2/5], [2/5, 2/5]], [[2/3, -1/3], [-1/3, 2/3]] and [[2, 1], [1, 1]]; and pi_k "
                  "the fraction of the points in group k, (5, 3, 4) / 12."),
             mistakes=(
                 Mistake("mu_over_n", (
                     "mu looks divided by N (all the points) instead of N_k (the points of component k): mu_k = "
                     "sum_n gamma[n, k] x_n / N_k."),
                     gives=([[1.0 * 5 / 12, 2.0 * 5 / 12], [-3.0 * 3 / 12, 2.0 * 3 / 12],
                             [4.0 * 4 / 12, -1.0 * 4 / 12]], None, None)),
                 Mistake("mu_unweighted", (
                     "every mean is the mean (1, 1) of all the data: weight the points by gamma[:, k], mu_k = "
                     "sum_n gamma[n, k] x_n / N_k."), gives=([[1.0, 1.0]] * 3, None, None)),
                 Mistake("sigma_unbiased", (
                     "Sigma is divided by N_k - 1, the 'unbiased' estimate (np.cov's default, with or without "
                     "aweights); the maximum-likelihood M step divides by N_k: np.cov(..., bias=True), or "
                     "sum_n gamma[n, k] (x_n - mu_k)(x_n - mu_k)^T / N_k."),
                     gives=(HARD_MU, _scaled(HARD_SIGMA, [5 / 4, 3 / 2, 4 / 3]), None)),
                 Mistake("sigma_over_n", (
                     "Sigma looks divided by N (all the points) instead of N_k (the points of component k): "
                     "Sigma_k = sum_n gamma[n, k] (x_n - mu_k)(x_n - mu_k)^T / N_k."),
                     gives=(HARD_MU, _scaled(HARD_SIGMA, [5 / 12, 3 / 12, 4 / 12]), None)),
                 Mistake("sigma_centred_on_overall_mean", (
                     "Sigma is centred on the mean (1, 1) of all the data; centre each covariance on its own new "
                     "mean mu_k: sum_n gamma[n, k] (x_n - mu_k)(x_n - mu_k)^T / N_k."),
                     gives=(HARD_MU, [[[2.0, 0.4], [0.4, 0.4 + 1.0]],
                                      [[2 / 3 + 16.0, -1 / 3 - 4.0], [-1 / 3 - 4.0, 2 / 3 + 1.0]],
                                      [[2.0 + 9.0, 1.0 - 6.0], [1.0 - 6.0, 1.0 + 4.0]]], None)),
                 Mistake("sigma_centred_on_zero", (
                     "Sigma is centred on zero, not on mu_k (a raw second moment: was Sigma_k computed before "
                     "mu_k, around a mean still 0?). Compute mu_k first, then Sigma_k = sum_n gamma[n, k] (x_n - "
                     "mu_k)(x_n - mu_k)^T / N_k around it."),
                     gives=(HARD_MU, [[[2.0 + 1.0, 0.4 + 2.0], [0.4 + 2.0, 0.4 + 4.0]],
                                      [[2 / 3 + 9.0, -1 / 3 - 6.0], [-1 / 3 - 6.0, 2 / 3 + 4.0]],
                                      [[2.0 + 16.0, 1.0 - 4.0], [1.0 - 4.0, 1.0 + 1.0]]], None)),
                 Mistake("sigma_unweighted", (
                     "every Sigma_k is the covariance of all 12 points (np.cov of all the data): weight each outer "
                     "product by gamma[n, k], centre it on mu_k and divide by N_k."),
                     gives=(HARD_MU, [[[26 / 3, -31 / 12], [-31 / 12, 8 / 3]]] * 3, None)),
                 Mistake("sigma_diagonal", (
                     "Sigma only holds the variances (it is diagonal); the model has full covariances, with the "
                     "covariances between the features off the diagonal."),
                     gives=(HARD_MU, [[[2.0, 0.0], [0.0, 0.4]], [[2 / 3, 0.0], [0.0, 2 / 3]],
                                      [[2.0, 0.0], [0.0, 1.0]]], None)),
                 Mistake("pi_uniform", (
                     "pi is uniform, 1/K each; each weight is the component's share of the points, pi_k = N_k / N "
                     "= (5, 3, 4) / 12 here."), gives=(HARD_MU, HARD_SIGMA, [1 / 3, 1 / 3, 1 / 3])),
             )),
        Case("equal responsibilities gamma[n, k] = 1/2 for every point",
             dict(X=EQUAL_X, gamma=[[0.5, 0.5]] * 4),
             expect=([EQUAL_MU] * 2, [EQUAL_SIGMA] * 2, [0.5, 0.5]),
             why=("When every point is shared equally, each component gets the mean (1, 3/2) and the "
                  "maximum-likelihood covariance (divided by N = 4, bias=True) [[2, 1], [1, 5/4]] of all the "
                  "data, and pi = (0.5, 0.5)."),
             mistakes=(
                 Mistake("gamma_squared", (
                     "Sigma is half the covariance of the data: each outer product is weighted by gamma[n, k] "
                     "squared (did you multiply both factors by gamma, or by sqrt(gamma) and then by gamma "
                     "again?). Weight each outer product by gamma[n, k] once and divide by N_k."),
                     gives=([EQUAL_MU] * 2, [_times(0.5, EQUAL_SIGMA)] * 2, None)),
             )),
        Case("soft responsibilities, one feature (D = 1, X of shape (4, 1)), K = 2",
             dict(X=SOFT1_X, gamma=SOFT1_GAMMA),
             expect=([[2.0], [3.0]], [[[4.0]], [[2.0]]], [0.75, 0.25]),
             why=("N_k = (1 + 3/4 + 1/2 + 3/4, 0 + 1/4 + 1/2 + 1/4) = (3, 1), so pi = (3/4, 1/4); mu_0 = (0 + 3/4 "
                  "+ 3/2 + 15/4) / 3 = 2 and mu_1 = (1/4 + 3/2 + 5/4) / 1 = 3; Sigma_0 = (1 * 4 + 3/4 * 1 + 1/2 * "
                  "1 + 3/4 * 9) / 3 = 4 and Sigma_1 = (1/4 * 4 + 1/2 * 0 + 1/4 * 4) / 1 = 2. Sigma has shape "
                  "(2, 1, 1) and mu shape (2, 1) even when D = 1."),
             mistakes=(
                 Mistake("gamma_squared", (
                     "each outer product is weighted by gamma[n, k] squared: Sigma_0 comes out as (1 * 4 + 9/16 * 1 "
                     "+ 1/4 * 1 + 9/16 * 9) / 3 instead of (1 * 4 + 3/4 * 1 + 1/2 * 1 + 3/4 * 9) / 3. Weight each "
                     "outer product by gamma[n, k] once."),
                     gives=([[2.0], [3.0]], [[[(4.0 + 9 / 16 + 1 / 4 + 81 / 16) / 3]], [[1 / 16 * 4 + 1 / 16 * 4]]],
                            None)),
                 Mistake("sigma_unbiased", (
                     "the covariances carry np.cov's 'unbiased' correction for weights (divided by N_k - "
                     "sum_n gamma[n, k]^2 / N_k instead of N_k): pass bias=True to np.cov, or divide the weighted "
                     "sum of outer products by N_k."),
                     gives=([[2.0], [3.0]], [[[12.0 / (3.0 - (1 + 9 / 16 + 1 / 4 + 9 / 16) / 3)]],
                                             [[2.0 / (1.0 - (1 / 16 + 1 / 4 + 1 / 16))]]], None)),
             )),
        Case("soft responsibilities, K = 3 components in D = 3",
             dict(X=SOFT3_X, gamma=SOFT3_GAMMA),
             expect=(None, None, [0.5, 0.25, 0.25]),
             holds=_means_and_covariances_add_up,
             why=("pi_k = N_k / N with N_k = sum_n gamma[n, k] = (2, 1, 1), so pi = (1/2, 1/4, 1/4). Because each "
                  "row of gamma sums to 1, the weighted average of the component means, sum_k pi_k mu_k, equals "
                  "the mean of all the data, and the covariances add up: sum_k pi_k (Sigma_k + mu_k mu_k^T) equals "
                  "the average of x_n x_n^T (the law of total variance). Check mu_k = sum_n gamma[n, k] x_n / N_k "
                  "and that Sigma_k weights each outer product (x_n - mu_k)(x_n - mu_k)^T by gamma[n, k] (not its "
                  "square), centres on the new mu_k and divides by N_k.")),
    ),
    passed=("m_step looks right: shapes, 0/1 and equal responsibilities, N_k (not N or N_k - 1), "
            "symmetric covariances, pi summing to 1, D = 1, inputs untouched."),
)


# --------------------------------------------------------------------------- loglik
# three points in 3-D under one standard normal component: |x_n|^2 = 5.25, 0 and 3.5
THREE_3D = [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [1.5, 1.0, -0.5]]
LL_ONE = -LOG_2PI - 2.5                                  # x = (1, 2) under N(0, I), D = 2
LL_THREE = -3 * 1.5 * LOG_2PI - (5.25 + 0.0 + 3.5) / 2   # THREE_3D under N(0, I), D = 3
LL_1D = 2 * (-0.5 * LOG_2PI - math.log(2.0)) - (0.0 + 16.0) / (2 * 4.0)   # x = 1, 5 under N(1, 4)
LL_TWIN = -2 * LOG_2PI - (5.0 + 0.5) / 2                 # (1, 2), (-0.5, 0.5) under N(0, I), split 0.3 / 0.7
LL_NEAR = -math.log(2.0) - LOG_2PI                       # (0, 0) with N(0, I) and N((100, 0), I), pi = 1/2
LL_FAR = -LOG_2PI - 1250.0                               # (50, 0) under N(0, I)


def _wrong_sign(want: float) -> Mistake:
    return Mistake("wrong_sign", "it has the wrong sign: return the log-likelihood log p(X), not -log p(X) (a loss).",
                   gives=-want)


def _mean_not_sum(want: float, n: int) -> Mistake:
    return Mistake("mean_not_sum", (
        f"it is the mean over the {n} points (the sum divided by N); the log-likelihood is the SUM over the points "
        "of log sum_k pi_k N(x_n | mu_k, Sigma_k)."), gives=want / n)


def _missing_2pi(want: float, n_times_d: int) -> Mistake:
    return Mistake("missing_2pi", (
        "the constant -(D/2) log(2 pi) of each log-density is missing (the factor (2 pi)^(-D/2) in front of the "
        "Gaussian). It cancels in the E step's ratio, not in the log-likelihood."),
        gives=want + n_times_d / 2 * LOG_2PI)


LOGLIK = FunctionSpec(
    name="loglik",
    params=("X", "mu", "Sigma", "pi"),
    returns=Output("the log-likelihood", (), "the sum over all the points"),
    nonfinite=Mistake("log_of_underflowed_sum", (
        "A point far from every component has densities that underflow to 0, and log(0) = -inf: add log pi_k to "
        "the log-densities and combine them with scipy.special.logsumexp instead of taking the log of a sum of "
        "densities.")),
    mistakes=(
        Mistake("one_value_per_point", (
            "you return one value per point: the log-likelihood is one number, the SUM over the points of "
            "log sum_k pi_k N(x_n | mu_k, Sigma_k)."),
            test=lambda s: np.shape(s.out) == (len(s.args["X"]),) and len(s.args["X"]) > 1),
    ),
    cases=(
        Case("the point x = (1, 2) under one standard normal component (D = 2)",
             dict(X=[[1.0, 2.0]], mu=[[0.0, 0.0]], Sigma=[I2], pi=[1.0]),
             expect=LL_ONE,
             why="log N(x | 0, I) = -(D/2) log(2 pi) - |x|^2 / 2 = -log(2 pi) - 5/2 here.",
             mistakes=(
                 _wrong_sign(LL_ONE),
                 _missing_2pi(LL_ONE, 2),
                 Mistake("likelihood_not_log", "it looks like the likelihood itself; return its logarithm.",
                         gives=math.exp(LL_ONE)),
             )),
        Case("three points under one standard normal component (D = 3)",
             dict(X=THREE_3D, mu=[[0.0, 0.0, 0.0]], Sigma=[I3], pi=[1.0]),
             expect=LL_THREE,
             why=("Each point contributes -(3/2) log(2 pi) - |x_n|^2 / 2, with |x_n|^2 = 5.25, 0 and 3.5; add them "
                  "up: -(9/2) log(2 pi) - 4.375."),
             mistakes=(
                 _mean_not_sum(LL_THREE, 3),
                 _wrong_sign(LL_THREE),
                 _missing_2pi(LL_THREE, 9),
                 Mistake("logsumexp_over_points", (
                     "the log-sum-exp runs over the points (axis 0) instead of the components (axis 1): you get "
                     "log(sum_n N(x_n | 0, I)), one log of a sum of the three densities. Sum over the components "
                     "inside the log (logsumexp(..., axis=1)), then add up the logs over the points."),
                     gives=-1.5 * LOG_2PI + math.log(math.exp(-2.625) + 1.0 + math.exp(-1.75))),
             )),
        Case("two points under N(1, 4) (D = 1, X of shape (2, 1))",
             dict(X=[[1.0], [5.0]], mu=[[1.0]], Sigma=[[[4.0]]], pi=[1.0]),
             expect=LL_1D,
             why=("log N(x | m, s^2) = -log(2 pi)/2 - log(s) - (x - m)^2 / (2 s^2), with s^2 = 4 (Sigma holds the "
                  "variance, not the standard deviation): -log(2 pi) - 2 log 2 - 2 for x = 1 and 5."),
             mistakes=(
                 _mean_not_sum(LL_1D, 2),
                 _wrong_sign(LL_1D),
                 _missing_2pi(LL_1D, 2),
                 Mistake("no_determinant", (
                     "the term -1/2 log |Sigma_k| of each log-density (the factor |Sigma_k|^(-1/2) of the "
                     "Gaussian) is missing: here -1/2 log 4 = -log 2 per point."), gives=-LOG_2PI - 2.0),
                 Mistake("determinant_not_square_rooted", (
                     "the log-density has -1/2 log |Sigma_k| (the square root of the determinant), not "
                     "-log |Sigma_k|."), gives=-LOG_2PI - 4 * math.log(2.0) - 2.0),
                 Mistake("sigma_not_inverted", (
                     "the exponent uses Sigma_k where the Gaussian has its inverse: -(x - mu)^T Sigma^(-1) (x - mu) "
                     "/ 2 is -(5 - 1)^2 / (2 * 4) = -2 here, not -(5 - 1)^2 * 4 / 2."),
                     gives=-LOG_2PI - 2 * math.log(2.0) - 32.0),
                 Mistake("covariance_as_sd", (
                     "Sigma was used as a standard deviation (variance 16): Sigma holds the variance, s^2 = 4, "
                     "so the standard deviation is 2 (scipy.stats.norm's scale is the standard deviation)."),
                     gives=-LOG_2PI - 4 * math.log(2.0) - 0.5),
             )),
        Case("two identical components with weights (0.3, 0.7) (D = 2)",
             dict(X=[[1.0, 2.0], [-0.5, 0.5]], mu=[[0.0, 0.0]] * 2, Sigma=[I2, I2], pi=[0.3, 0.7]),
             expect=LL_TWIN,
             why=("sum_k pi_k N(x | mu, Sigma) = N(x | mu, Sigma) when the components are identical and pi sums to "
                  "1: -2 log(2 pi) - (5 + 0.5) / 2."),
             mistakes=(
                 Mistake("no_pi", (
                     "you get 2 log 2 more than the answer: the mixing weights pi_k are missing, so the two "
                     "identical components count twice. The likelihood of a point is sum_k pi_k N(x | mu_k, "
                     "Sigma_k): add log pi_k to each log-density."), gives=LL_TWIN + 2 * math.log(2.0)),
                 _mean_not_sum(LL_TWIN, 2),
                 _wrong_sign(LL_TWIN),
             )),
        Case("the point (0, 0) at the centre of N((0, 0), I), with N((100, 0), I) far away, pi = (0.5, 0.5)",
             dict(X=[[0.0, 0.0]], mu=[[0.0, 0.0], [100.0, 0.0]], Sigma=[I2, I2], pi=[0.5, 0.5]),
             expect=LL_NEAR,
             why=("The likelihood of the point is 0.5 / (2 pi) + (almost nothing), so the answer is -log 2 - "
                  "log(2 pi)."),
             mistakes=(
                 Mistake("no_pi", (
                     "you get -log(2 pi): the mixing weight pi_1 = 0.5 is missing. The likelihood of the point is "
                     "0.5 / (2 pi) + (almost nothing), so the answer is -log 2 - log(2 pi)."), gives=-LOG_2PI),
                 Mistake("log_inside_sum", (
                     "the log is inside the sum over the components (sum_k pi_k log N(x | mu_k, Sigma_k) = "
                     "-log(2 pi) - 2500 here). The log-likelihood is the log OF the sum: log sum_k pi_k "
                     "N(x | mu_k, Sigma_k)."), gives=-LOG_2PI - 2500.0),
                 _wrong_sign(LL_NEAR),
             )),
        Case("the point (50, 0), 50 standard deviations from a standard normal component (D = 2)",
             dict(X=[[50.0, 0.0]], mu=[[0.0, 0.0]], Sigma=[I2], pi=[1.0]),
             expect=LL_FAR,
             why="log N(x | 0, I) = -log(2 pi) - |x|^2 / 2 = -log(2 pi) - 1250, although N(x | 0, I) itself is 0.0 "
                 "in floating point.",
             mistakes=(_wrong_sign(LL_FAR),)),
    ),
    passed=("loglik looks right: one number, the sum over points, pi inside the log, D = 1, "
            "a far point, inputs untouched."),
)

SPECS = {spec.name: spec for spec in (E_STEP, M_STEP, LOGLIK)}
