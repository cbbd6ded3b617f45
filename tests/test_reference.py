"""The reference EM (autograder/emlab_grader/reference.py) against scikit-learn and scipy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from emlab.data import load_faithful, standardise
from emlab_judge import reference as ref

LAB_START = (np.array([[-1.0, 1.0], [1.0, -1.0]]), np.array([np.eye(2), np.eye(2)]), np.array([0.5, 0.5]))


def sklearn_fit(X, mu, Sigma, pi, n_iter):
    """scikit-learn's EM from the same start, exactly n_iter iterations, no regularisation."""
    gm = GaussianMixture(n_components=len(pi), covariance_type="full", reg_covar=0.0, tol=0.0,
                         max_iter=n_iter, n_init=1, weights_init=pi, means_init=mu,
                         precisions_init=np.linalg.inv(Sigma))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(X)
    assert gm.n_iter_ == n_iter
    return gm


def random_problem(seed, K, D, N):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4, size=(K, D))
    X = np.concatenate([rng.normal(size=(N // K, D)) @ rng.normal(size=(D, D)) + c for c in centres])
    mu = X[rng.choice(len(X), K, replace=False)]
    Sigma = np.array([np.cov(X.T).reshape(D, D) for _ in range(K)])
    return X, mu, Sigma, np.full(K, 1 / K)


@pytest.mark.parametrize("n_iter", [1, 5, 60])
def test_agrees_with_sklearn_on_old_faithful_from_the_lab_start(n_iter):
    X = standardise(load_faithful())
    (mu, Sigma, pi), history = ref.fit_em(X, *LAB_START, n_iter=n_iter)
    gm = sklearn_fit(X, *LAB_START, n_iter)
    np.testing.assert_allclose(pi, gm.weights_, rtol=1e-6)
    np.testing.assert_allclose(mu, gm.means_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(Sigma, gm.covariances_, rtol=1e-6, atol=1e-12)
    assert history[-1] == pytest.approx(gm.score(X) * len(X), rel=1e-6)


@pytest.mark.parametrize("seed,K,D", [(0, 3, 2), (1, 3, 4), (2, 4, 3)])
def test_agrees_with_sklearn_on_random_data(seed, K, D):
    X, mu0, Sigma0, pi0 = random_problem(seed, K, D, 300)
    (mu, Sigma, pi), history = ref.fit_em(X, mu0, Sigma0, pi0, n_iter=25)
    gm = sklearn_fit(X, mu0, Sigma0, pi0, 25)
    np.testing.assert_allclose(pi, gm.weights_, rtol=1e-6)
    np.testing.assert_allclose(mu, gm.means_, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(Sigma, gm.covariances_, rtol=1e-6, atol=1e-10)
    assert history[-1] == pytest.approx(gm.score(X) * len(X), rel=1e-6)


def test_loglik_never_decreases_and_reproduces_the_plateau():
    X = standardise(load_faithful())
    _, history = ref.fit_em(X, *LAB_START, n_iter=150)
    h = np.array(history)
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[1:])), "EM must never decrease the log-likelihood"
    # design notes: a plateau near -542 for about 30 iterations, then escape and convergence
    assert h[1] == pytest.approx(-543.885, abs=1e-3)
    assert np.all((h[1:30] > -544) & (h[1:30] < -540)), "the saddle plateau should last ~30 iterations"
    assert h[-1] == pytest.approx(-385.4607, abs=1e-4)


def test_log_gaussian_matches_scipy():
    X, mu, Sigma, _ = random_problem(3, 3, 3, 60)
    got = ref.log_gaussian(X, mu, Sigma)
    want = np.column_stack([multivariate_normal(mu[k], Sigma[k]).logpdf(X) for k in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_stable_for_a_point_far_from_every_component():
    X, mu, Sigma, pi = random_problem(4, 3, 2, 30)
    X[0] = [1e4, -1e4]
    gamma = ref.e_step(X, mu, Sigma, pi)
    assert np.all(np.isfinite(gamma))
    np.testing.assert_allclose(gamma.sum(axis=1), 1.0, atol=1e-12)
    assert np.isfinite(ref.loglik(X, mu, Sigma, pi))
    # the naive density underflows there, so this point really exercises the log domain
    assert all(multivariate_normal(mu[k], Sigma[k]).pdf(X[0]) == 0.0 for k in range(3))


def test_zero_weight_component():
    X, mu, Sigma, _ = random_problem(5, 3, 2, 30)
    gamma = ref.e_step(X, mu, Sigma, np.array([0.5, 0.5, 0.0]))
    assert np.all(gamma[:, 2] == 0) and np.allclose(gamma.sum(axis=1), 1)


def test_normalise_is_logsumexp_and_softmax():
    from scipy.special import logsumexp, softmax

    rng = np.random.default_rng(3)
    lj = rng.normal(scale=300.0, size=(50, 4))  # exp() of these overflows and underflows
    lj[:5, 1] = -np.inf  # a component of zero weight
    gamma, log_norm = ref.normalise(lj.copy())
    np.testing.assert_allclose(log_norm[:, 0], logsumexp(lj, axis=1), rtol=1e-14)
    np.testing.assert_allclose(gamma, softmax(lj, axis=1), rtol=1e-12, atol=1e-300)
    assert np.all(gamma[:5, 1] == 0)


def test_inputs_are_not_modified():
    X, mu, Sigma, pi = random_problem(6, 2, 3, 40)
    copies = [a.copy() for a in (X, mu, Sigma, pi)]
    gamma = ref.e_step(X, mu, Sigma, pi)
    g0 = gamma.copy()
    ref.m_step(X, gamma)
    ref.loglik(X, mu, Sigma, pi)
    for a, b in zip((X, mu, Sigma, pi, gamma), (*copies, g0)):
        np.testing.assert_array_equal(a, b)
