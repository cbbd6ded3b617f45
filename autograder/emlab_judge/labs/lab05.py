"""Lab 05 (EM in practice): the judge's comparison of the graded functions with the
reference, naming known mistakes without revealing expected values."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from .. import reference_em_in_practice as ref
from ..compare import ATOL, RTOL, close, first_match, max_diff

ASSIGNMENT = "05-em-in-practice"


def _arrays(out):
    return [np.asarray(v, dtype=float) for v in out]


def _compare_grad_neg_loglik(kw, out):
    X, mu, sigma, logits = kw["X"], kw["mu"], kw["sigma"], kw["logits"]
    d_mu, d_sigma, d_logits = _arrays(out)
    e_mu, e_sigma, e_logits = ref.grad_neg_loglik(X, mu, sigma, logits)
    D = X.shape[1]
    problems = []
    if not close(d_mu, e_mu):
        problems.append(first_match(d_mu, [
            ("d_mu has the wrong sign: E = -log L, so dE/dmu_j = -sum_i gamma_ij (x_i - mu_j) / sigma_j^2.",
             lambda: -e_mu),
            ("d_mu does not divide by sigma_j^2: dE/dmu_j = sum_i gamma_ij (mu_j - x_i) / sigma_j^2.",
             lambda: e_mu * sigma[:, None] ** 2),
            ("d_mu divides by sigma_j instead of sigma_j^2 (sigma is the standard deviation).",
             lambda: e_mu * sigma[:, None]),
        ]) or f"d_mu differs from dE/dmu by up to {max_diff(d_mu, e_mu):.3g}: "
              "dE/dmu_j = sum_i gamma_ij (mu_j - x_i) / sigma_j^2.")
    if not close(d_sigma, e_sigma):
        problems.append(first_match(d_sigma, [
            ("d_sigma has the wrong sign: E = -log L.", lambda: -e_sigma),
            ("d_sigma is the derivative with respect to the variance sigma_j^2; the function returns "
             "dE/dsigma_j, with respect to the standard deviation.", lambda: e_sigma / (2 * sigma)),
            ("d_sigma leaves out the dimension D: dE/dsigma_j = sum_i gamma_ij (D / sigma_j - ||x_i - mu_j||^2 / "
             "sigma_j^3).", lambda: e_sigma - (D - 1) * ref.responsibilities(
                 X, mu, sigma ** 2, softmax(logits)).sum(0) / sigma),
        ]) or f"d_sigma differs from dE/dsigma by up to {max_diff(d_sigma, e_sigma):.3g}: "
              "dE/dsigma_j = sum_i gamma_ij (D / sigma_j - ||x_i - mu_j||^2 / sigma_j^3).")
    if not close(d_logits, e_logits):
        g = ref.responsibilities(X, mu, sigma ** 2, softmax(logits))
        pi = softmax(logits)
        problems.append(first_match(d_logits, [
            ("d_logits has the wrong sign: dE/da_j = -sum_i (gamma_ij - pi_j) = N pi_j - N_j.", lambda: -e_logits),
            ("d_logits is the derivative with respect to pi_j, -sum_i gamma_ij / pi_j; the weights are "
             "pi = softmax(logits), so through the softmax dE/da_j = -sum_i (gamma_ij - pi_j).",
             lambda: -g.sum(0) / pi),
            ("d_logits leaves out the softmax's normalisation: dE/da_j = -sum_i (gamma_ij - pi_j), not "
             "-sum_i gamma_ij.", lambda: -g.sum(0)),
        ]) or f"d_logits differs from dE/d logits by up to {max_diff(d_logits, e_logits):.3g}: "
              "dE/da_j = -sum_i (gamma_ij - pi_j).")
    return " ".join(problems) or None


def _compare_m_step_isotropic(kw, out):
    X, gamma = kw["X"], kw["gamma"]
    mu, sigma2, pi = _arrays(out)
    e_mu, e_s2, e_pi = ref.m_step_isotropic(X, gamma)
    N, D = X.shape
    Nk = gamma.sum(0)
    problems = []
    if not close(mu, e_mu):
        problems.append(first_match(mu, [
            ("mu divides by N; each mean divides by its own N_j = sum_i gamma_ij.", lambda: gamma.T @ X / N),
        ]) or f"mu differs from the weighted means by up to {max_diff(mu, e_mu):.3g}: mu_j = sum_i gamma_ij x_i / N_j.")
    if not close(sigma2, e_s2):
        problems.append(first_match(sigma2, [
            ("sigma2 lacks the 1/D: sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j), a variance per "
             "coordinate, not the mean squared distance.", lambda: e_s2 * D),
            ("sigma2 divides by N instead of N_j (and D).", lambda: e_s2 * Nk / N),
            ("sigma2 is a standard deviation; return the variance sigma_j^2.", lambda: np.sqrt(e_s2)),
            ("sigma2 uses the old means or the data mean instead of the new mu_j.",
             lambda: (gamma * ((X[:, None, :] - X.mean(0)) ** 2).sum(-1)).sum(0) / (D * Nk)),
        ]) or f"sigma2 differs by up to {max_diff(sigma2, e_s2):.3g}: "
              "sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j) with the new mu_j.")
    if not close(pi, e_pi):
        problems.append(first_match(pi, [
            ("pi is N_j; divide by N so that the weights sum to one.", lambda: Nk),
        ]) or "pi should be N_j / N.")
    return " ".join(problems) or None


def _compare_running_mean_var(kw, out):
    x = kw["x"]
    means, variances = _arrays(out)
    e_m, e_v = ref.running_mean_var(x)
    n = np.arange(1, x.size + 1)
    problems = []
    if not close(means, e_m):
        problems.append(first_match(means, [
            ("means are shifted by one: means[k] is the mean of the first k + 1 numbers, x[0] to x[k].",
             lambda: np.r_[0.0, e_m[:-1]]),
        ]) or f"means differ from the running means by up to {max_diff(means, e_m):.3g}: "
              "m_n = m_(n-1) + (x_n - m_(n-1)) / n.")
    if not close(variances, e_v):
        with np.errstate(divide="ignore", invalid="ignore"):
            unbiased = np.where(n > 1, e_v * n / np.maximum(n - 1, 1), 0.0)
            unbiased_nan = e_v * n / (n - 1)
        approx = np.zeros_like(e_v)
        for k in range(1, x.size):   # the update with the new mean only: var += ((x - m_n)^2 - var) / n
            approx[k] = approx[k - 1] + ((x[k] - e_m[k]) ** 2 - approx[k - 1]) / (k + 1)
        approx_old = np.zeros_like(e_v)
        for k in range(1, x.size):   # with the old mean only
            approx_old[k] = approx_old[k - 1] + ((x[k] - e_m[k - 1]) ** 2 - approx_old[k - 1]) / (k + 1)
        problems.append(first_match(variances, [
            ("variances divide by n - 1; this lab's running variance divides by n (the maximum-likelihood "
             "estimate of the slides).", lambda: unbiased),
            ("variances divide by n - 1; this lab's running variance divides by n.", lambda: unbiased_nan),
            ("variances use only the new mean, (x_n - m_n)^2: that update is biased; use "
             "(x_n - m_(n-1)) (x_n - m_n).", lambda: approx),
            ("variances use only the old mean, (x_n - m_(n-1))^2: that update is biased; use "
             "(x_n - m_(n-1)) (x_n - m_n).", lambda: approx_old),
            ("variances are standard deviations; return the variances.", lambda: np.sqrt(e_v)),
        ]) or f"variances differ from the running variances (dividing by n) by up to "
              f"{max_diff(variances, e_v):.3g}.")
    return " ".join(problems) or None


def _compare_reset_starved(kw, out):
    X, gamma, mu, sigma2, pi, cand = (kw[k] for k in ("X", "gamma", "mu", "sigma2", "pi", "candidates"))
    got = _arrays(out)
    expected = ref.reset_starved(X, gamma, mu, sigma2, pi, cand)
    if all(close(a, b) for a, b in zip(got, expected)):
        return None
    N, D = X.shape
    M = len(pi)
    Nk = gamma.sum(0)
    starved = Nk < N / (2 * M)
    le = Nk <= N / (2 * M)
    if not np.array_equal(le, starved):
        # the reset with <= in place of <
        mu2, s2, p2 = np.array(mu, float), np.array(sigma2, float), np.array(pi, float)
        dv = ((X - X.mean(0)) ** 2).sum() / (N * D)
        mu2[le], s2[le], p2[le] = X[np.asarray(cand)[le]], dv, 1.0 / M
        if all(close(a, b) for a, b in zip(got, (mu2, s2, p2 / p2.sum()))):
            return ("a component with exactly N / (2M) points was reset; only components with fewer than "
                    "N / (2M) points (sum_i gamma_ij < N / (2M)) are starved.")
    if not starved.any():
        return "no component is starved here (each holds at least N / (2M) of the points): nothing should change."
    if not close(got[0], expected[0]):
        return ("mu is wrong: a starved component j moves to the data point X[candidates[j]]; the other means "
                "stay as they are.")
    if not close(got[1], expected[1]):
        dv = ((X - X.mean(0)) ** 2).sum() / (N * D)
        per = X.var(0)
        if np.allclose(got[1][starved], dv * D):
            return ("the reset variance lacks the 1/D: it is sum_i ||x_i - mean||^2 / (N D), the data's variance "
                    "per coordinate.")
        if D > 1 and np.allclose(got[1][starved], per[0]):
            return "the reset variance uses only the first coordinate; average the squared distances over all D."
        return ("sigma2 is wrong: a starved component's variance becomes the data's isotropic variance "
                "sum_i ||x_i - mean||^2 / (N D); the others keep theirs.")
    p = np.array(pi, float)
    p[starved] = 1.0 / M
    if close(got[2], p):
        return "pi is not renormalised after the reset: divide the weights by their sum."
    return "pi is wrong: a starved component's weight becomes 1/M, then all the weights are divided by their sum."


def _compare_merge_candidates(kw, out):
    gamma = kw["gamma"]
    pairs, J = _arrays(out)
    e_pairs, e_J = ref.merge_candidates(gamma)
    if close(pairs, e_pairs) and close(J, e_J):
        return None
    G = gamma.T @ gamma
    M = G.shape[0]
    i, j = np.triu_indices(M, 1)
    norms = np.sqrt(np.diag(G))
    cosine = G[i, j] / (norms[i] * norms[j])
    if close(np.sort(J)[::-1], np.sort(cosine)[::-1]):
        return ("J is the cosine of the angle between the responsibility vectors; Ueda et al.'s J_merge(i, j) is "
                "the plain inner product gamma_i . gamma_j, unnormalised.")
    hard = np.eye(M)[gamma.argmax(1)]
    Gh = hard.T @ hard
    if close(np.sort(J)[::-1], np.sort(Gh[i, j])[::-1]):
        return "J uses hard 0/1 assignments; use the soft responsibilities gamma."
    if close(np.sort(J)[::-1], np.sort(e_J)[::-1]):
        return "J has the right values but pairs and J do not come in decreasing order of J together."
    return f"J differs from the inner products gamma_i . gamma_j by up to {max_diff(np.sort(J), np.sort(e_J)):.3g}."


def _compare_split_criterion(kw, out):
    X, gamma, mu, sigma2 = kw["X"], kw["gamma"], kw["mu"], kw["sigma2"]
    J = np.asarray(out, dtype=float)
    expected = ref.split_criterion(X, gamma, mu, sigma2)
    if close(J, expected):
        return None
    N, D = X.shape
    Nk = gamma.sum(0)
    lp = ref.log_joint(X, mu, sigma2, np.ones(len(sigma2)))
    w = gamma / Nk
    with np.errstate(divide="ignore", invalid="ignore"):
        wlogw = np.where(w > 0, w * np.log(np.where(w > 0, w, 1.0)), 0.0).sum(0)
    return first_match(J, [
        ("J has the wrong sign: J_split(k) = sum_n f_k(x_n) log(f_k(x_n) / p_k(x_n)), large when component k "
         "fits its points badly.", lambda: -expected),
        ("f_k is not normalised: f_k(x_n) = gamma_nk / N_k sums to one over the points.",
         lambda: (np.where(gamma > 0, gamma * np.log(np.where(gamma > 0, gamma, 1.0)), 0.0) - gamma * lp).sum(0)),
        ("J leaves out the term sum_n f_k log f_k: it is a Kullback-Leibler divergence, "
         "sum_n f_k(x_n) (log f_k(x_n) - log p_k(x_n)).", lambda: -(w * lp).sum(0)),
        ("log p_k treats sigma2 as a standard deviation: p_k(x) = N(x | mu_k, sigma2_k I) with sigma2 the variance.",
         lambda: wlogw - (w * ref.log_joint(X, mu, sigma2 ** 2, np.ones(len(sigma2)))).sum(0)),
        ("log p_k leaves out the normalising constant -D/2 log(2 pi sigma_k^2).",
         lambda: expected - 0.5 * D * np.log(2 * np.pi * sigma2)),
        ("J is divided by N_k twice or averaged: J_split(k) = sum_n f_k(x_n) log(f_k(x_n) / p_k(x_n)).",
         lambda: expected / Nk),
    ]) or (f"J differs from sum_n f_k(x_n) log(f_k(x_n) / p_k(x_n)) by up to {max_diff(J, expected):.3g} "
           "(f_k(x_n) = gamma_nk / N_k, 0 log 0 = 0).")


def _compare_information_criteria(kw, out):
    X, mu, Sigma, pi = kw["X"], kw["mu"], kw["Sigma"], kw["pi"]
    bic, aic = (float(np.asarray(v, float).reshape(())) for v in out)
    e_bic, e_aic = ref.information_criteria(X, mu, Sigma, pi)
    ok_b = np.isclose(bic, e_bic, rtol=RTOL, atol=ATOL)
    ok_a = np.isclose(aic, e_aic, rtol=RTOL, atol=ATOL)
    if ok_b and ok_a:
        return None
    N, D = X.shape
    K = len(pi)
    ll = ref.full_loglik(X, mu, Sigma, pi)
    p = ref.n_parameters_full(K, D)
    if np.isclose(bic, e_aic, rtol=RTOL) and np.isclose(aic, e_bic, rtol=RTOL):
        return "bic and aic are swapped: return (bic, aic)."
    for q, why in [(p - (K - 1), "the K - 1 free mixing weights"),
                   (p - K * D * (D - 1) // 2, "the off-diagonal covariances (each covariance has D(D+1)/2 free entries)"),
                   (p + 1, "one parameter too many: K weights summing to one are K - 1 free parameters"),
                   (K * D + K * D * D + K - 1, "symmetry: a D x D covariance has D(D+1)/2 free entries, not D^2")]:
        if q != p and (np.isclose(bic, -2 * ll + q * np.log(N), rtol=RTOL) or np.isclose(aic, -2 * ll + 2 * q, rtol=RTOL)):
            return f"the parameter count is wrong ({why}): p = K D + K D (D + 1) / 2 + K - 1."
    if np.isclose(bic, 2 * ll + p * np.log(N), rtol=RTOL) or np.isclose(aic, 2 * ll + 2 * p, rtol=RTOL):
        return "the log-likelihood term has the wrong sign: BIC = -2 log L + p log N."
    if np.isclose(bic, -ll + p * np.log(N), rtol=RTOL) or np.isclose(bic, -ll + 0.5 * p * np.log(N), rtol=RTOL):
        return "the scale is off: BIC = -2 log L + p log N and AIC = -2 log L + 2 p (scikit-learn's convention)."
    if np.isclose(bic, -2 * ll + p * np.log10(N), rtol=RTOL):
        return "BIC uses log10(N); use the natural logarithm: BIC = -2 log L + p ln N."
    which = " and ".join(w for w, ok in (("bic", ok_b), ("aic", ok_a)) if not ok)
    return (f"{which} differ from -2 log L + p log N and -2 log L + 2 p, with log L the mixture's log-likelihood "
            "and p = K D + K D (D + 1) / 2 + K - 1.")


COMPARE = {
    "grad_neg_loglik": _compare_grad_neg_loglik,
    "m_step_isotropic": _compare_m_step_isotropic,
    "running_mean_var": _compare_running_mean_var,
    "reset_starved": _compare_reset_starved,
    "merge_candidates": _compare_merge_candidates,
    "split_criterion": _compare_split_criterion,
    "information_criteria": _compare_information_criteria,
}
