"""Lab 02's reference (autograder/emlab_judge/reference_lower_bound.py) against scipy.stats.norm
and scikit-learn, the bound's identities (Q <= loglik, equality at the posterior, the gap a
KL divergence), EM's monotone climb, R mixtools' published fit on Old Faithful, and the hidden
checks it drives: the reference passes them and typical mistakes fail with their named messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import entropy, norm

from emlab.data import load_faithful
from emlab_grader import HiddenCheckFailed, check
from emlab_judge import reference_lower_bound as ref

LAB = "02-lower-bound"
FUNCTIONS = ["compute_loglik", "calc_probs", "compute_q", "update_mu", "update_sigma", "update_lambda"]


def mixture(seed, k=3, n=80):
    rng = np.random.default_rng(seed)
    lam = rng.dirichlet(np.full(k, 2.0))
    mu = np.sort(rng.normal(scale=4.0, size=k))
    sigma = rng.uniform(0.5, 2.0, size=k)
    z = rng.choice(k, size=n, p=lam)
    return mu[z] + sigma[z] * rng.normal(size=n), lam, mu, sigma


@pytest.mark.parametrize("seed,k", [(0, 1), (1, 2), (2, 3), (3, 4)])
def test_agrees_with_scipy_norm_pdf(seed, k):
    x, lam, mu, sigma = mixture(seed, k)
    dens = np.column_stack([lam[j] * norm.pdf(x, mu[j], sigma[j]) for j in range(k)])  # sigma: standard deviation
    assert ref.compute_loglik(x, lam, mu, sigma) == pytest.approx(float(np.sum(np.log(dens.sum(axis=1)))), rel=1e-12)
    gamma = ref.calc_probs(x, lam, mu, sigma)
    np.testing.assert_allclose(gamma, dens / dens.sum(axis=1, keepdims=True), rtol=1e-10, atol=1e-14)
    w = np.random.default_rng(seed).dirichlet(np.ones(k), size=len(x))
    np.testing.assert_allclose(ref.update_mu(x, w), [np.average(x, weights=w[:, j]) for j in range(k)], rtol=1e-12)
    mu_given = mu + 0.5
    np.testing.assert_allclose(ref.update_sigma(x, w, mu_given),
                               [np.sqrt(np.average((x - mu_given[j]) ** 2, weights=w[:, j])) for j in range(k)],
                               rtol=1e-12)
    np.testing.assert_allclose(ref.update_lambda(w), w.sum(axis=0) / len(x), rtol=1e-12)
    assert ref.update_lambda(w).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("seed,k", [(4, 2), (5, 3)])
def test_q_is_a_lower_bound_touching_at_the_posterior_with_a_kl_gap(seed, k):
    x, lam, mu, sigma = mixture(seed, k)
    ell = ref.compute_loglik(x, lam, mu, sigma)
    post = ref.calc_probs(x, lam, mu, sigma)
    assert ref.compute_q(x, lam, mu, sigma, post) == pytest.approx(ell, rel=1e-12)
    rng = np.random.default_rng(seed)
    for gamma in [rng.dirichlet(np.ones(k), size=len(x)), np.eye(k)[rng.integers(0, k, size=len(x))],
                  np.full((len(x), k), 1.0 / k)]:
        q = ref.compute_q(x, lam, mu, sigma, gamma)
        assert q < ell
        kl = float(entropy(gamma, post, axis=1).sum())  # scipy: sum_j g log(g / p), 0 log 0 = 0
        assert ell - q == pytest.approx(kl, rel=1e-9)
        assert ref.kl_gap(x, lam, mu, sigma, gamma) == pytest.approx(kl, rel=1e-9)
    # the entropy term matters: without it the bound is below ell even at the posterior
    ent = -float(np.sum(post[post > 0] * np.log(post[post > 0])))
    assert ent > 0.0
    assert ref.compute_q(x, lam, mu, sigma, post) - ent < ell


def test_m_step_maximises_q():
    """The updates maximise Q(. | gamma): every small perturbation of one parameter lowers Q."""
    x, lam, mu, sigma = mixture(6, 3)
    gamma = ref.calc_probs(x, lam, mu, sigma)
    new = (ref.update_lambda(gamma), ref.update_mu(x, gamma))
    new = (*new, ref.update_sigma(x, gamma, new[1]))
    best = ref.compute_q(x, *new, gamma)
    for which in range(3):
        for j in range(3):
            for step in (-1e-3, 1e-3):
                params = [p.copy() for p in new]
                params[which][j] += step
                if which == 0:
                    params[0] /= params[0].sum()  # stay on the simplex
                assert ref.compute_q(x, *params, gamma) < best


def test_agrees_with_sklearn_gaussian_mixture():
    """One and fifty EM iterations from the same start as scikit-learn's GaussianMixture (no
    covariance regularisation)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    x, _, _, _ = mixture(7, 3, n=300)
    lam0, mu0, sigma0 = np.array([0.3, 0.3, 0.4]), np.array([-3.0, 0.0, 3.0]), np.array([1.0, 1.5, 2.0])
    for n_iter in (1, 50):
        gm = GaussianMixture(3, covariance_type="full", weights_init=lam0, means_init=mu0[:, None],
                             precisions_init=(1.0 / sigma0 ** 2)[:, None, None], reg_covar=0.0, tol=0.0,
                             max_iter=n_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(x[:, None])
        fit = ref.fit_em(x, lam0, mu0, sigma0, epsilon=-np.inf, max_iter=n_iter)
        assert fit["n_iter"] == n_iter
        np.testing.assert_allclose(fit["lam"], gm.weights_, rtol=1e-6)
        np.testing.assert_allclose(fit["mu"], gm.means_[:, 0], rtol=1e-6)
        np.testing.assert_allclose(fit["sigma"], np.sqrt(gm.covariances_[:, 0, 0]), rtol=1e-6)
        assert fit["loglik"] == pytest.approx(gm.score(x[:, None]) * len(x), rel=1e-9)
        np.testing.assert_allclose(ref.calc_probs(x, fit["lam"], fit["mu"], fit["sigma"]),
                                   gm.predict_proba(x[:, None]), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("equal_sigma", [False, True])
def test_em_never_decreases_the_loglik(equal_sigma):
    x, _, _, _ = mixture(8, 3, n=400)
    fit = ref.fit_em(x, np.full(3, 1 / 3), [-1.0, 0.0, 1.0], [2.0, 2.0, 2.0], equal_sigma=equal_sigma,
                     epsilon=1e-10, max_iter=300)
    h = np.array(fit["history"])
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[1:])), "EM must never decrease the log-likelihood"
    assert h[-1] > h[0] + 10
    if equal_sigma:
        assert np.ptp(fit["sigma"]) == 0.0


def test_mixtools_normalmixEM_on_old_faithful_waiting():
    """R: normalmixEM(faithful$waiting, lambda = c(.5, .5), mu = c(55, 80), sigma = 5, epsilon = 1e-8)
    (one sigma: equal standard deviations) reports lambda = (0.3608, 0.6392), mu = (54.614, 80.090),
    sigma = 5.869, loglik = -1034.002 after 9 iterations."""
    waiting = load_faithful()[:, 1]
    assert waiting.shape == (272,)
    fit = ref.fit_em(waiting, [0.5, 0.5], [55.0, 80.0], 5.0, equal_sigma=True, epsilon=1e-8)
    assert fit["n_iter"] == 9
    assert [f"{v:.4f}" for v in fit["lam"]] == ["0.3608", "0.6392"]
    assert [f"{v:.3f}" for v in fit["mu"]] == ["54.614", "80.090"]
    assert [f"{v:.3f}" for v in fit["sigma"]] == ["5.869", "5.869"]
    assert f"{fit['loglik']:.3f}" == "-1034.002"


def test_notebook_run_em_reproduces_mixtools_with_the_reference_functions():
    """emlab.lower_bound.run_em (the notebook's loop) with the reference functions gives the same fit."""
    from emlab.lower_bound import run_em

    waiting = load_faithful()[:, 1]
    hist = run_em(waiting, [0.5, 0.5], [55.0, 80.0], 5.0, ref.calc_probs, ref.update_lambda, ref.update_mu,
                  ref.update_sigma, ref.compute_loglik, equal_sigma=True, epsilon=1e-8)
    fit = ref.fit_em(waiting, [0.5, 0.5], [55.0, 80.0], 5.0, equal_sigma=True, epsilon=1e-8)
    assert hist.n_iter == fit["n_iter"] == 9
    np.testing.assert_allclose(hist.loglik, fit["history"], rtol=1e-12)
    np.testing.assert_allclose(hist.mu[-1], fit["mu"], rtol=1e-12)


def test_stable_for_a_point_far_from_every_component():
    x = np.array([0.1, -0.5, 2.0, 1000.0, -900.0])
    lam, mu, sigma = np.array([0.6, 0.4]), np.array([0.0, 3.0]), np.array([1.0, 1.0])
    with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
        ll = ref.compute_loglik(x, lam, mu, sigma)
        gamma = ref.calc_probs(x, lam, mu, sigma)
        q = ref.compute_q(x, lam, mu, sigma, gamma)
    assert np.isfinite(ll) and np.isfinite(q) and q == pytest.approx(ll, rel=1e-12)
    np.testing.assert_allclose(gamma[3:], [[0.0, 1.0], [1.0, 0.0]], atol=1e-12)  # the nearer component wins


def test_inputs_are_not_modified():
    x, lam, mu, sigma = mixture(9, 3)
    gamma = np.random.default_rng(9).dirichlet(np.ones(3), size=len(x))
    saved = [a.copy() for a in (x, lam, mu, sigma, gamma)]
    ref.compute_loglik(x, lam, mu, sigma), ref.calc_probs(x, lam, mu, sigma)
    ref.compute_q(x, lam, mu, sigma, gamma), ref.update_mu(x, gamma), ref.update_sigma(x, gamma, mu)
    ref.update_lambda(gamma)
    for a, b in zip((x, lam, mu, sigma, gamma), saved):
        np.testing.assert_array_equal(a, b)


def test_hidden_cases_are_general():
    from emlab_grader.cases import cases_for

    ks = {c.kwargs["lam"].shape[0] for c in cases_for(LAB, "compute_loglik")}
    assert ks >= {1, 2, 3, 4}
    assert any(not np.allclose(c.kwargs["lam"], c.kwargs["lam"][0]) for c in cases_for(LAB, "calc_probs"))
    q_cases = cases_for(LAB, "compute_q")
    at_posterior = [c for c in q_cases
                    if np.allclose(c.kwargs["gamma"], ref.calc_probs(*list(c.kwargs.values())[:4]))]
    assert 1 <= len(at_posterior) < len(q_cases), "compute_q needs gamma both at and away from the posterior"
    assert any(np.any(c.kwargs["gamma"] == 0) for c in q_cases), "a gamma with exact zeros (0 log 0)"
    for c in cases_for(LAB, "update_sigma"):  # the given mu is not the weighted mean of gamma
        assert not np.allclose(c.kwargs["mu"], ref.update_mu(c.kwargs["x"], c.kwargs["gamma"]))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_reference_passes_the_hidden_checks(name, capsys):
    check(LAB, name, getattr(ref, name))
    assert "hidden checks passed" in capsys.readouterr().out


def loglik_no_lam(x, lam, mu, sigma):
    return ref.compute_loglik(x, np.ones(len(lam)), mu, sigma)


def loglik_naive(x, lam, mu, sigma):
    return float(np.sum(np.log(np.sum(lam * norm.pdf(x[:, None], mu, sigma), axis=1))))


def probs_variance_as_sd(x, lam, mu, sigma):
    return ref.calc_probs(x, lam, mu, sigma ** 2)


def probs_unnormalised(x, lam, mu, sigma):
    return np.exp(ref.log_joint(x, lam, mu, sigma))


def q_no_entropy(x, lam, mu, sigma, gamma):
    return float(np.sum(np.where(gamma > 0, gamma * ref.log_joint(x, lam, mu, sigma), 0.0)))


def q_naive_entropy(x, lam, mu, sigma, gamma):
    return float(np.sum(gamma * ref.log_joint(x, lam, mu, sigma)) - np.sum(gamma * np.log(gamma)))


def q_is_loglik(x, lam, mu, sigma, gamma):
    return ref.compute_loglik(x, lam, mu, sigma)


def mu_over_n(x, gamma):
    return gamma.T @ x / len(x)


def mu_unweighted(x, gamma):
    return np.full(gamma.shape[1], x.mean())


def sigma_variance(x, gamma, mu):
    return ref.update_sigma(x, gamma, mu) ** 2


def sigma_own_means(x, gamma, mu):
    return ref.update_sigma(x, gamma, ref.update_mu(x, gamma))


def lambda_counts(gamma):
    return gamma.sum(axis=0)


def lambda_in_place(gamma):
    gamma /= len(gamma)
    return gamma.sum(axis=0)


@pytest.mark.parametrize("name,func,message", [
    ("compute_loglik", loglik_no_lam, "leaves out the weights lam"),
    ("compute_loglik", loglik_naive, "returned -inf"),
    ("calc_probs", probs_variance_as_sd, "uses sigma**2 as the standard deviation"),
    ("calc_probs", probs_unnormalised, "should sum to 1"),
    ("compute_q", q_no_entropy, "leaves out the entropy term"),
    ("compute_q", q_naive_entropy, "0 log 0 = 0"),
    ("compute_q", q_is_loglik, "returns the log-likelihood"),
    ("update_mu", mu_over_n, "divides by n"),
    ("update_mu", mu_unweighted, "ignores gamma"),
    ("update_sigma", sigma_variance, "returns variances"),
    ("update_sigma", sigma_own_means, "not about the mu it is given"),
    ("update_lambda", lambda_counts, "sum to"),
    ("update_lambda", lambda_in_place, "modified its argument 'gamma'"),
])
def test_mistakes_are_caught_and_named(name, func, message):
    with pytest.raises(HiddenCheckFailed, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        check(LAB, name, func)


@pytest.mark.parametrize("name,func,ok", [
    ("compute_loglik", ref.compute_loglik, True), ("compute_loglik", loglik_no_lam, False),
    ("compute_q", ref.compute_q, True), ("compute_q", q_no_entropy, False),
    ("update_sigma", ref.update_sigma, True), ("update_sigma", sigma_variance, False),
])
def test_the_judge_outside_the_kernel_reaches_the_same_verdict_from_the_record(name, func, ok):
    """What the kernel records (floats, arrays) decodes to outputs the judge reads."""
    import copy
    import json

    from emlab_grader.cases import cases_for
    from emlab_grader.record import decode, encode
    from emlab_judge.judge import judge

    verdicts = []
    for case in cases_for(LAB, name):
        with np.errstate(all="ignore"):
            out = func(*copy.deepcopy(case.kwargs).values())
        verdicts.append(judge(LAB, name, case.kwargs, decode(json.loads(json.dumps(encode(out))))).ok)
    assert all(verdicts) is ok
