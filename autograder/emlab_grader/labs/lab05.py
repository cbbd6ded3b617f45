"""Lab 05 (EM in practice): hidden-check inputs and output properties of grad_neg_loglik,
m_step_isotropic, running_mean_var, reset_starved, merge_candidates, split_criterion and
information_criteria.

Isotropic mixtures with M = 2..5 components in D = 1..5 dimensions, standard deviations
never 1 (so a variance used as a standard deviation shows) and D never only 1 (so a
missing 1/D shows), unequal weights, a point far from every component, hard 0/1
responsibilities with a component exactly at the starving threshold. No expected value.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, case_rng, random_gmm_params, sample_gmm
from ..properties import as_array, as_scalar, shape_message

ASSIGNMENT = "05-em-in-practice"


def _iso_problem(rng, N, M, D, spread=3.0):
    mu = rng.normal(scale=spread, size=(M, D))
    sigma = rng.uniform(0.5, 2.0, size=M)
    z = rng.integers(0, M, size=N)
    X = mu[z] + sigma[z, None] * rng.normal(size=(N, D))
    return X, mu + 0.5 * rng.normal(size=(M, D)), sigma


def _cases_grad_neg_loglik():
    out = []
    for i, (label, N, M, D, far) in enumerate([
        ("40 points, M = 2 components in D = 1", 40, 2, 1, False),
        ("60 points, M = 3 components in D = 2", 60, 3, 2, False),
        ("30 points, M = 4 components in D = 3", 30, 4, 3, False),
        ("25 points, M = 3 components in D = 5", 25, 3, 5, False),
        ("a point far from every component (M = 3, D = 2)", 35, 3, 2, True),
    ]):
        rng = case_rng(ASSIGNMENT, "grad_neg_loglik", i)
        X, mu, sigma = _iso_problem(rng, N, M, D)
        if far:
            X[-1] = 40.0
        out.append(Case(label, {"X": X, "mu": mu, "sigma": sigma, "logits": rng.normal(size=M)}))
    return out


def _cases_m_step_isotropic():
    out = []
    for i, (label, N, M, D, alpha) in enumerate([
        ("50 points in D = 2, M = 3, soft responsibilities", 50, 3, 2, 1.0),
        ("40 points in D = 3, M = 2, soft responsibilities", 40, 2, 3, 0.5),
        ("30 points in D = 1, M = 4, soft responsibilities", 30, 4, 1, 2.0),
        ("60 points in D = 5, M = 3, nearly hard responsibilities", 60, 3, 5, 0.2),
    ]):
        rng = case_rng(ASSIGNMENT, "m_step_isotropic", i)
        X = rng.normal(size=(N, D)) * rng.uniform(0.5, 3.0) + rng.normal(size=D)
        out.append(Case(label, {"X": X, "gamma": rng.dirichlet(np.full(M, alpha), size=N)}))
    rng = case_rng(ASSIGNMENT, "m_step_isotropic", 99)
    X = rng.normal(size=(24, 2)) * 2.0
    gamma = np.eye(3)[rng.permutation(np.repeat([0, 1, 2], [4, 8, 12]))]
    out.append(Case("hard 0/1 responsibilities, groups of 4, 8 and 12 points in D = 2", {"X": X, "gamma": gamma}))
    return out


def _cases_running_mean_var():
    out = []
    for i, (label, n, loc, scale) in enumerate([
        ("20 numbers around 0", 20, 0.0, 1.0),
        ("50 numbers around 10 with spread 3", 50, 10.0, 3.0),
        ("200 numbers around -5 with spread 0.5", 200, -5.0, 0.5),
        ("3 numbers", 3, 2.0, 2.0),
        ("100 numbers around 10^8 with spread 1 (a large offset: the updates keep every digit, "
         "a sum of squares would not)", 100, 1e8, 1.0),
    ]):
        rng = case_rng(ASSIGNMENT, "running_mean_var", i)
        out.append(Case(label, {"x": loc + scale * rng.normal(size=n)}))
    out.append(Case("one number", {"x": np.array([4.25])}))
    return out


def _cases_reset_starved():
    out = []
    specs = [  # label, N, M, D, counts of a hard gamma (None: soft)
        ("M = 3, no starved component (nothing changes)", 30, 3, 2, [10, 12, 8]),
        ("M = 3, component 1 holds no point", 30, 3, 2, [18, 0, 12]),
        ("M = 4, components 0 and 3 hold 1 and 2 points (threshold N / (2M) = 5)", 40, 4, 2, [1, 20, 17, 2]),
        ("M = 3, a component holds exactly N / (2M) = 2 points (not starved) and one holds 1", 12, 3, 3, [9, 2, 1]),
        ("M = 2 in D = 1, soft responsibilities, one starved component", 20, 2, 1, None),
    ]
    for i, (label, N, M, D, counts) in enumerate(specs):
        rng = case_rng(ASSIGNMENT, "reset_starved", i)
        X = rng.normal(size=(N, D)) * 2.0 + 1.0
        if counts is None:
            gamma = np.column_stack([np.full(N, 0.99), np.full(N, 0.01)])
            gamma[:3] = [[0.2, 0.8]] * 3
        else:
            gamma = np.eye(M)[rng.permutation(np.repeat(np.arange(M), counts))]
        mu = rng.normal(size=(M, D)) * 3.0
        sigma2 = rng.uniform(0.3, 2.0, size=M)
        pi = rng.dirichlet(np.full(M, 2.0))
        candidates = rng.integers(0, N, size=M)
        out.append(Case(label, {"X": X, "gamma": gamma, "mu": mu, "sigma2": sigma2, "pi": pi,
                                "candidates": candidates}))
    return out


def _cases_merge_candidates():
    out = []
    for i, (label, N, M, alpha) in enumerate([
        ("40 points, M = 3", 40, 3, 1.0),
        ("60 points, M = 4", 60, 4, 0.5),
        ("30 points, M = 5", 30, 5, 2.0),
        ("80 points, M = 6, nearly hard responsibilities", 80, 6, 0.2),
    ]):
        rng = case_rng(ASSIGNMENT, "merge_candidates", i)
        out.append(Case(label, {"gamma": rng.dirichlet(np.full(M, alpha), size=N)}))
    return out


def _cases_split_criterion():
    out = []
    for i, (label, N, M, D, hard) in enumerate([
        ("50 points, M = 3 in D = 2", 50, 3, 2, False),
        ("40 points, M = 2 in D = 3", 40, 2, 3, False),
        ("30 points, M = 4 in D = 1", 30, 4, 1, False),
        ("hard 0/1 responsibilities (0 log 0 = 0), M = 3 in D = 2", 36, 3, 2, True),
        ("a point about 60 standard deviations from every component (ln p_k in the log domain), "
         "M = 3 in D = 2", 30, 3, 2, False),
    ]):
        rng = case_rng(ASSIGNMENT, "split_criterion", i)
        X, mu, sigma = _iso_problem(rng, N, M, D)
        if hard:
            gamma = np.eye(M)[rng.permutation(np.arange(N) % M)]
        else:
            gamma = rng.dirichlet(np.ones(M), size=N)
        if "60 standard deviations" in label:
            X[-1] = mu.mean(axis=0) + 60.0 * np.sqrt(np.max(sigma ** 2)) + 60.0 * np.abs(mu).max()
        out.append(Case(label, {"X": X, "gamma": gamma, "mu": mu, "sigma2": sigma ** 2}))
    return out


def _cases_information_criteria():
    out = []
    for i, (label, N, K, D) in enumerate([
        ("100 points, K = 1 in D = 2", 100, 1, 2),
        ("150 points, K = 3 in D = 2", 150, 3, 2),
        ("80 points, K = 2 in D = 1", 80, 2, 1),
        ("120 points, K = 4 in D = 3", 120, 4, 3),
        ("60 points, K = 3 in D = 2, one about 60 standard deviations from every component "
         "(l with log-sum-exp)", 60, 3, 2),
    ]):
        rng = case_rng(ASSIGNMENT, "information_criteria", i)
        mu, Sigma, pi = random_gmm_params(rng, K, D)
        X = sample_gmm(rng, mu, Sigma, pi, N)
        if "60 standard deviations" in label:
            X[-1] = mu.mean(axis=0) + 60.0 * np.sqrt(Sigma[:, 0, 0].max()) + 60.0 * np.abs(mu).max()
        out.append(Case(label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi}))
    return out


# --------------------------------------------------------------------------- properties
def _tuple(out, n, name, names):
    if not isinstance(out, (tuple, list)) or len(out) != n:
        length = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        return None, f"{name} should return a tuple ({', '.join(names)}); got {type(out).__name__}{length}."
    arrays = []
    for value, what in zip(out, names):
        arr, bad = as_array(value, f"{name}'s {what}")
        if bad:
            return None, bad
        arrays.append(arr)
    return arrays, None


def _shapes(name, arrays, names, shapes, meanings):
    for arr, what, shape, meaning in zip(arrays, names, shapes, meanings):
        if arr.shape != shape:
            return shape_message(f"{name}'s {what}", arr.shape, shape, meaning)
        if not np.all(np.isfinite(arr)):
            return (f"{name}'s {what} contains NaN or infinite values; compute the responsibilities and "
                    "densities in the log domain (as the notebook's locked E-step cell does).")
    return None


def _props_grad_neg_loglik(kw, out):
    names = ("d_mu", "d_sigma", "d_logits")
    arrays, bad = _tuple(out, 3, "grad_neg_loglik", names)
    if bad:
        return bad
    M, D = kw["mu"].shape
    return _shapes("grad_neg_loglik", arrays, names, [(M, D), (M,), (M,)],
                   ["(M, D), like mu", "(M,), one per component", "(M,), one per component"])


def _props_m_step_isotropic(kw, out):
    names = ("mu", "sigma2", "pi")
    arrays, bad = _tuple(out, 3, "m_step_isotropic", names)
    if bad:
        return bad
    N, D = kw["X"].shape
    M = kw["gamma"].shape[1]
    bad = _shapes("m_step_isotropic", arrays, names, [(M, D), (M,), (M,)],
                  ["(M, D): a mean per component", "(M,): one variance per component", "(M,): a weight per component"])
    if bad:
        return bad
    if np.any(arrays[1] <= 0):
        return "m_step_isotropic's sigma2 has values <= 0; a variance is a weighted mean of squared distances."
    if not np.isclose(arrays[2].sum(), 1.0, rtol=1e-9, atol=1e-9):
        return f"m_step_isotropic's pi sums to {arrays[2].sum():.6g}; the weights N_j / N sum to one."
    return None


def _props_running_mean_var(kw, out):
    arrays, bad = _tuple(out, 2, "running_mean_var", ("means", "variances"))
    if bad:
        return bad
    n = kw["x"].shape[0]
    bad = _shapes("running_mean_var", arrays, ("means", "variances"), [(n,), (n,)],
                  ["(n,): the estimate after each number", "(n,): the estimate after each number"])
    if bad:
        return bad
    if np.any(arrays[1] < -1e-9):
        return "running_mean_var's variances have negative values; a variance is a mean of squares."
    return None


def _props_reset_starved(kw, out):
    names = ("mu", "sigma2", "pi")
    arrays, bad = _tuple(out, 3, "reset_starved", names)
    if bad:
        return bad
    M, D = kw["mu"].shape
    bad = _shapes("reset_starved", arrays, names, [(M, D), (M,), (M,)], ["(M, D), like mu", "(M,), like sigma2", "(M,), like pi"])
    if bad:
        return bad
    if not np.isclose(arrays[2].sum(), 1.0, rtol=1e-9, atol=1e-9):
        return f"reset_starved's pi sums to {arrays[2].sum():.6g}; renormalise the weights so that they sum to one."
    return None


def _props_merge_candidates(kw, out):
    arrays, bad = _tuple(out, 2, "merge_candidates", ("pairs", "J"))
    if bad:
        return bad
    M = kw["gamma"].shape[1]
    P = M * (M - 1) // 2
    bad = _shapes("merge_candidates", arrays, ("pairs", "J"), [(P, 2), (P,)],
                  ["(M(M-1)/2, 2): every pair i < j once", "(M(M-1)/2,): the criterion of each pair"])
    if bad:
        return bad
    pairs = arrays[0]
    if not np.array_equal(pairs, np.round(pairs)):
        return "merge_candidates' pairs should hold component indices (integers)."
    given = np.asarray(out[0])  # as returned (as_array made a float copy)
    if given.dtype.kind not in "iu":
        return (f"merge_candidates' pairs should be an integer array (component indices), not {given.dtype}: "
                "build it from integer indices, e.g. np.triu_indices, or convert with .astype(int).")
    if np.any(pairs[:, 0] >= pairs[:, 1]):
        return "merge_candidates' pairs should each be (i, j) with i < j: each pair once, never a component with itself."
    if np.any(np.diff(arrays[1]) > 1e-12 * max(1.0, np.abs(arrays[1]).max())):
        return "merge_candidates' J should be in decreasing order: the best merge candidate first."
    return None


def _props_split_criterion(kw, out):
    arr, bad = as_array(out, "split_criterion's result")
    if bad:
        return bad
    M = kw["gamma"].shape[1]
    return _shapes("split_criterion", [arr], ["result"], [(M,)], ["(M,): one number per component"])


def _props_information_criteria(kw, out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return "information_criteria should return a tuple (bic, aic) of two numbers."
    for value, what in zip(out, ("bic", "aic")):
        v, bad = as_scalar(value, f"information_criteria's {what}")
        if bad:
            return bad
        if not np.isfinite(v):
            return f"information_criteria's {what} is {v}; compute the log-likelihood in the log domain."
    return None


CASES = {
    "grad_neg_loglik": _cases_grad_neg_loglik,
    "m_step_isotropic": _cases_m_step_isotropic,
    "running_mean_var": _cases_running_mean_var,
    "reset_starved": _cases_reset_starved,
    "merge_candidates": _cases_merge_candidates,
    "split_criterion": _cases_split_criterion,
    "information_criteria": _cases_information_criteria,
}

PROPERTIES = {
    "grad_neg_loglik": _props_grad_neg_loglik,
    "m_step_isotropic": _props_m_step_isotropic,
    "running_mean_var": _props_running_mean_var,
    "reset_starved": _props_reset_starved,
    "merge_candidates": _props_merge_candidates,
    "split_criterion": _props_split_criterion,
    "information_criteria": _props_information_criteria,
}
