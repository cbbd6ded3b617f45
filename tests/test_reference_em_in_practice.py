"""Lab 05's reference (autograder/emlab_judge/reference_em_in_practice.py) against
independent computations: finite differences of E, scikit-learn's GaussianMixture (M step
of a spherical mixture, bic and aic), numpy's batch mean and variance; and the lab's demos:
split-and-merge EM improves the likelihood where plain EM is stuck, the reset rescues a
starved component, the hidden-check inputs are deterministic and the reference passes them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from emlab.em_in_practice import make_blobs, run_em, run_em_with_reset
from emlab.split_merge import smem
from emlab_grader import check
from emlab_grader.cases import cases_for
from emlab_grader.labs import lab05 as grader05
from emlab_judge import reference_em_in_practice as ref

LAB = "05-em-in-practice"


def _loglik(X, mu, sigma2, pi):
    """log L of the isotropic mixture, from the reference's log joint (the notebook gives its own)."""
    return float(logsumexp(ref.log_joint(X, mu, sigma2, pi), axis=1).sum())


# The E step and log-likelihood the lab's loops take (emlab computes neither; the notebook gives them)
GIVEN = {"e_step": ref.responsibilities, "loglik": _loglik}


def _problem(seed, N=40, M=3, D=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D)) * 2.0
    return X, rng.normal(size=(M, D)), rng.uniform(0.6, 2.0, size=M), rng.normal(size=M)


def _E(X, mu, sigma, logits):
    pi = softmax(logits)
    dens = np.column_stack([pi[j] * multivariate_normal(mu[j], sigma[j] ** 2 * np.eye(X.shape[1])).pdf(X)
                            for j in range(len(pi))])
    return -np.log(dens.sum(1)).sum()


@pytest.mark.parametrize("seed,D", [(0, 1), (1, 2), (2, 3)])
def test_gradient_matches_finite_differences(seed, D):
    X, mu, sigma, logits = _problem(seed, D=D)
    d_mu, d_sigma, d_logits = ref.grad_neg_loglik(X, mu, sigma, logits)
    h = 1e-6
    for got, base, which in [(d_mu, mu, 0), (d_sigma, sigma, 1), (d_logits, logits, 2)]:
        fd = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            args_p = [mu.copy(), sigma.copy(), logits.copy()]
            args_m = [mu.copy(), sigma.copy(), logits.copy()]
            args_p[which][idx] += h
            args_m[which][idx] -= h
            fd[idx] = (_E(X, *args_p) - _E(X, *args_m)) / (2 * h)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6)
    assert abs(d_logits.sum()) < 1e-9


def test_m_step_matches_sklearn_spherical():
    X = make_blobs([[0, 0, 0], [4, 1, 0], [0, 4, 2]], [1.0, 0.7, 1.3], [60, 50, 70], seed=3)
    gamma = np.random.default_rng(0).dirichlet(np.ones(3), size=len(X))
    from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters
    nk, means, cov = _estimate_gaussian_parameters(X, gamma, reg_covar=0.0, covariance_type="spherical")
    mu, sigma2, pi = ref.m_step_isotropic(X, gamma)
    np.testing.assert_allclose(mu, means, rtol=1e-10)
    np.testing.assert_allclose(sigma2, cov, rtol=1e-10)
    np.testing.assert_allclose(pi, nk / len(X), rtol=1e-12)


def test_running_mean_var_matches_batch():
    x = np.random.default_rng(4).normal(3.0, 2.0, size=60)
    means, variances = ref.running_mean_var(x)
    for k in range(1, 61):
        assert np.isclose(means[k - 1], x[:k].mean()) and np.isclose(variances[k - 1], x[:k].var())


@pytest.mark.parametrize("K,D", [(1, 2), (2, 1), (3, 2), (4, 3)])
def test_information_criteria_agree_with_sklearn(K, D):
    rng = np.random.default_rng(10 * K + D)
    X = rng.normal(size=(150, D)) + rng.integers(0, 4, size=(150, 1))
    gm = GaussianMixture(K, covariance_type="full", random_state=0).fit(X)
    bic, aic = ref.information_criteria(X, gm.means_, gm.covariances_, gm.weights_)
    assert np.isclose(bic, gm.bic(X), rtol=1e-10) and np.isclose(aic, gm.aic(X), rtol=1e-10)
    assert ref.n_parameters_full(K, D) == gm._n_parameters()


def test_merge_and_split_criteria():
    gamma = np.random.default_rng(2).dirichlet(np.ones(4), size=30)
    pairs, J = ref.merge_candidates(gamma)
    assert pairs.shape == (6, 2) and np.all(np.diff(J) <= 0)
    for (i, j), v in zip(pairs, J):
        assert np.isclose(v, gamma[:, i] @ gamma[:, j])
    X, mu, sigma, _ = _problem(5, N=30, M=4)
    Js = ref.split_criterion(X, gamma, mu, sigma ** 2)
    for k in range(4):
        f = gamma[:, k] / gamma[:, k].sum()
        logp = multivariate_normal(mu[k], sigma[k] ** 2 * np.eye(2)).logpdf(X)
        assert np.isclose(Js[k], np.sum(f * (np.log(f) - logp)))


DEMO = make_blobs(centres=[[0, 0], [6, 0], [3, 5]], scales=[1, 1, 1], counts=[100, 100, 100], seed=0)


def test_split_and_merge_escapes_the_local_optimum():
    mu0 = np.array([[-0.5, 0.0], [0.5, 0.0], [4.5, 2.5]])
    plain = run_em(DEMO, mu0, np.ones(3), np.full(3, 1 / 3), ref.m_step_isotropic, n_iter=200, **GIVEN)
    result = smem(DEMO, mu0, np.ones(3), np.full(3, 1 / 3), ref.m_step_isotropic, ref.merge_candidates,
                  ref.split_criterion, n_em=60, seed=0, **GIVEN)
    assert result.loglik > -plain.E[-1] + 100       # plain EM stays stuck, SMEM climbs out
    assert result.moves[0].accepted and result.moves[0].merge == (0, 1) and result.moves[0].split == 2
    assert np.isclose(result.loglik, _loglik(DEMO, result.mu, result.sigma2, result.pi))
    assert np.all(np.diff(plain.E) <= 1e-9)          # EM never increases E
    for centre in ([0, 0], [6, 0], [3, 5]):                # one fitted mean on each true cluster
        assert np.min(np.linalg.norm(result.mu - centre, axis=1)) < 0.3


def test_reset_rescues_the_starved_component():
    mu = np.array([[0.0, 0.0], [0.0, 0.0], [4.5, 2.5]])
    args = (DEMO, mu, np.array([1.0, 1.0, 5.0]), np.array([0.3, 0.03, 0.67]), ref.m_step_isotropic)
    plain = run_em(*args, n_iter=40, **GIVEN)
    rescued = run_em_with_reset(*args, ref.reset_starved, n_iter=40, seed=0, **GIVEN)
    assert plain.pi.min() < 1 / 6 and rescued.pi.min() > 0.3
    assert rescued.E[-1] < plain.E[-1] - 100


def test_hidden_cases_are_deterministic_and_the_reference_passes(capsys):
    for function in grader05.CASES:
        a, b = cases_for(LAB, function), cases_for(LAB, function)
        for ca, cb in zip(a, b):
            for key in ca.kwargs:
                np.testing.assert_array_equal(ca.kwargs[key], cb.kwargs[key])
        check(LAB, function, getattr(ref, function))
        assert "hidden checks passed" in capsys.readouterr().out
