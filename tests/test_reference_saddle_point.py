"""Lab 04's reference (autograder/emlab_judge/reference_saddle_point.py) against direct scipy
computations, finite differences and the numbers the lab quotes; the hidden checks it drives
(the reference passes them, typical mistakes fail with their named messages); and the
student-side helpers in emlab/saddle_point.py (visible checks, optimisers, the race)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.stats import norm

from emlab import saddle_point as sp
from emlab_grader import HiddenCheckFailed, check
from emlab_grader.cases import cases_for
from emlab_judge import reference_saddle_point as ref

LAB = "04-saddle-point"
POINTS = [(0.5, 0.8), (-0.5, 0.8), (0.3, 1.5), (-1.2, 0.6), (2.0, 1.1), (0.05, 1.02), (0.9, 0.3), (0.0, 1.7)]


# --------------------------------------------------------------------------- against scipy
@pytest.mark.parametrize("mu,sigma", [(0.7, 1.3), (-1.5, 0.6), (0.0, 2.0), (1.0, 0.2)])
def test_log_density_agrees_with_scipy_pdfs(mu, sigma):
    x = np.linspace(-3.0, 3.0, 25)
    direct = np.log(0.5 * norm.pdf(x, mu, sigma) + 0.5 * norm.pdf(x, -mu, sigma))
    np.testing.assert_allclose(ref.log_density(x, mu, sigma), direct, rtol=1e-12)


@pytest.mark.parametrize("mu,sigma", [(0.7, 1.3), (-1.5, 0.6), (0.2, 0.05)])
def test_density_integrates_to_one(mu, sigma):
    total = sum(integrate.quad(lambda t: math.exp(ref.log_density(np.array([t]), mu, sigma)[0]), a, b,
                               points=[-mu, mu] if a < mu < b else None, limit=200)[0]
                for a, b in [(-np.inf, -abs(mu) - 1e-9), (-abs(mu) - 1e-9, abs(mu) + 1e-9), (abs(mu) + 1e-9, np.inf)])
    assert total == pytest.approx(1.0, rel=1e-7)


@pytest.mark.parametrize("mu,sigma", POINTS + [(0.0, 1.0), (1.0, 0.01)])
def test_ll_agrees_with_scipy_and_the_closed_form(mu, sigma):
    direct = sum(math.log(0.5 * norm.pdf(x, mu, sigma) + 0.5 * norm.pdf(x, -mu, sigma)) for x in (1.0, -1.0))
    assert ref.ll(mu, sigma) == pytest.approx(direct, rel=1e-12)
    assert ref.ll(mu, sigma) == pytest.approx(ref.ll_closed_form(mu, sigma), rel=1e-12)
    assert isinstance(ref.ll(mu, sigma), float)


def test_stable_far_away_and_for_small_sigma():
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        v = ref.log_density(np.array([40.0, -35.0, 1.0]), 0.4, 0.5)
        w = ref.ll(0.5, 0.01)
    assert np.all(np.isfinite(v)) and np.isfinite(w)
    # the farther component is negligible: log p = log 1/2 + log N(x | nearer mean, sigma^2)
    assert v[0] == pytest.approx(math.log(0.5) + norm.logpdf(40.0, 0.4, 0.5), rel=1e-12)
    assert w == pytest.approx(2 * (math.log(0.5) + norm.logpdf(1.0, 0.5, 0.01)), rel=1e-12)


def test_sigma_at_most_zero_is_the_dirac_mixture():
    np.testing.assert_array_equal(ref.log_density(np.array([0.75, -0.75, 0.0, 1.0]), 0.75, 0.0),
                                  [np.inf, np.inf, -np.inf, -np.inf])
    np.testing.assert_array_equal(ref.log_density(np.array([1.0, -1.0, 0.3]), -1.0, -0.5), [np.inf, np.inf, -np.inf])
    assert ref.ll(1.0, 0.0) == np.inf and ref.ll(-1.0, -2.0) == np.inf
    assert ref.ll(0.4, 0.0) == -np.inf
    # the limit it stands for: ll(1, sigma) grows without bound as sigma -> 0
    assert ref.ll(1.0, 1e-3) > ref.ll(1.0, 1e-2) > ref.ll(1.0, 1e-1)


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("mu,sigma", POINTS)
def test_gradient_agrees_with_finite_differences(mu, sigma):
    h = 1e-6
    fd = np.array([(ref.ll(mu + h, sigma) - ref.ll(mu - h, sigma)) / (2 * h),
                   (ref.ll(mu, sigma + h) - ref.ll(mu, sigma - h)) / (2 * h)])
    np.testing.assert_allclose(ref.grad_ll(mu, sigma), fd, rtol=1e-6, atol=1e-6)
    approx = optimize.approx_fprime(np.array([mu, sigma]), lambda t: ref.ll(t[0], t[1]), 1e-8)
    np.testing.assert_allclose(ref.grad_ll(mu, sigma), approx, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mu,sigma", POINTS)
def test_hessian_agrees_with_finite_differences_and_is_symmetric(mu, sigma):
    h = 1e-6
    fd = np.column_stack([(ref.grad_ll(mu + h, sigma) - ref.grad_ll(mu - h, sigma)) / (2 * h),
                          (ref.grad_ll(mu, sigma + h) - ref.grad_ll(mu, sigma - h)) / (2 * h)])
    H = ref.hessian_ll(mu, sigma)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-5)
    assert H[0, 1] == H[1, 0]


def test_the_saddle():
    np.testing.assert_allclose(ref.grad_ll(0.0, 1.0), [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(ref.hessian_ll(0.0, 1.0), [[0.0, 0.0], [0.0, -4.0]], atol=1e-15)
    assert np.linalg.matrix_rank(ref.hessian_ll(0.0, 1.0)) == 1
    gain = ref.ll(0.1, 0.999) - ref.ll(0.0, 1.0)
    assert 1e-6 < gain < 2e-6                       # the lab's "how tiny": about 1.3e-6 nats
    # quartic along mu at sigma = 1: ll(mu, 1) - ll(0, 1) ~ -mu^4 / 6
    assert ref.ll(0.05, 1.0) - ref.ll(0.0, 1.0) == pytest.approx(-(0.05 ** 4) / 6, rel=1e-2)


def test_critical_temperature():
    mu = np.linspace(-0.5, 0.5, 101)
    for sigma, centre_is_max in [(1.2, True), (1.0, True), (0.9, False)]:
        curve = np.array([ref.ll(m, sigma) for m in mu])
        assert (np.argmax(curve) == 50) == centre_is_max


# --------------------------------------------------------------------------- EM and annealing
def test_em_step_is_em():
    for mu, sigma in [(0.3, 1.4), (-0.6, 0.7), (0.01, 1.0)]:
        x = ref.DATA
        logp = np.column_stack([norm.logpdf(x, mu, sigma), norm.logpdf(x, -mu, sigma)])
        r = np.exp(logp[:, 0] - np.logaddexp(logp[:, 0], logp[:, 1]))
        mu_new = np.sum((2 * r - 1) * x) / len(x)       # maximiser of Q in mu (weights r and 1 - r on +-mu)
        var_new = np.sum(r * (x - mu_new) ** 2 + (1 - r) * (x + mu_new) ** 2) / len(x)
        assert ref.em_step(mu, sigma) == pytest.approx((mu_new, math.sqrt(var_new)), rel=1e-12)
        # the lab's em_path takes the same step through the student's gradient (emlab computes none)
        step = sp.em_path(ref.grad_ll, (mu, sigma), tol=0.0, max_iter=1, mu_target=None).points[1]
        assert tuple(step) == pytest.approx((mu_new, math.sqrt(var_new)), rel=1e-12, abs=1e-15)
        assert ref.ll(*ref.em_step(mu, sigma)) >= ref.ll(mu, sigma) - 1e-12


def test_anneal_contract():
    sigmas = np.geomspace(2.0, 0.3, 12)
    path = ref.anneal(0.01, sigmas, 5)
    assert path.shape == (12, 2)
    np.testing.assert_array_equal(path[:, 1], sigmas)
    mu = 0.01
    for t, s in enumerate(sigmas):
        for _ in range(5):
            mu = mu + s ** 2 / 2 * ref.grad_ll(mu, s)[0]     # the inner step as a gradient step
        assert path[t, 0] == pytest.approx(mu, rel=1e-9, abs=1e-15)
    np.testing.assert_array_equal(ref.anneal(0.0, sigmas, 5)[:, 0], 0.0)
    np.testing.assert_allclose(ref.anneal(-0.01, sigmas, 5)[:, 0], -path[:, 0])
    # enough inner updates at one sigma < 1 reach the branch mu* = tanh(mu* / sigma^2)
    star = optimize.brentq(lambda m: m - math.tanh(m / 0.49), 0.1, 1.0)
    assert ref.anneal(0.2, [0.7], 200)[0, 0] == pytest.approx(star, rel=1e-10)
    assert ref.anneal(0.3, [1.5], 0)[0, 0] == 0.3


# --------------------------------------------------------------------------- hidden checks
@pytest.mark.parametrize("name", ["log_density", "ll", "grad_ll", "hessian_ll", "anneal"])
def test_reference_passes_the_hidden_checks(name, capsys):
    check(LAB, name, getattr(ref, name))
    assert "hidden checks passed" in capsys.readouterr().out


def test_hidden_cases_cover_the_brief():
    dens = cases_for(LAB, "log_density")
    assert any(c.kwargs["sigma"] <= 0 for c in dens) and any(0 < c.kwargs["sigma"] < 0.01 for c in dens)
    assert any(c.kwargs["mu"] < 0 for c in dens) and any(c.kwargs["mu"] > 0 for c in dens)
    assert any(np.max(np.abs(c.kwargs["x"])) > 30 for c in dens)
    grads = cases_for(LAB, "grad_ll")
    assert len(grads) >= 6 and {np.sign(c.kwargs["mu"]) for c in grads} >= {-1.0, 1.0}
    assert any(c.kwargs["mu"] == 0 and c.kwargs["sigma"] == 1 for c in cases_for(LAB, "hessian_ll"))


def naive_log_density(x, mu, sigma):
    return np.log(0.5 * norm.pdf(x, mu, sigma) + 0.5 * norm.pdf(x, -mu, sigma))


def log_density_variance(x, mu, sigma):
    return ref.log_density(x, mu, math.sqrt(sigma)) if sigma > 0 else ref.log_density(x, mu, sigma)


def ll_mean(mu, sigma):
    return ref.ll(mu, sigma) / 2


def grad_sign(mu, sigma):
    g = ref.grad_ll(mu, sigma)
    return np.array([-g[0], g[1]])


def hessian_half(mu, sigma):
    return ref.hessian_ll(mu, sigma) / 2


def anneal_frozen(mu0, sigmas, n_inner):
    p = ref.anneal(mu0, np.full(len(sigmas), sigmas[0]), n_inner)
    p[:, 1] = sigmas
    return p


def anneal_mu_only(mu0, sigmas, n_inner):
    return ref.anneal(mu0, sigmas, n_inner)[:, 0]


@pytest.mark.parametrize("name,func,words", [
    ("log_density", naive_log_density, "underflow"),
    ("log_density", log_density_variance, "variance"),
    ("ll", ll_mean, "mean over the two points"),
    ("grad_ll", grad_sign, "d ll / d mu is wrong"),
    ("hessian_ll", hessian_half, "half the Hessian"),
    ("anneal", anneal_frozen, "never lowers sigma"),
    ("anneal", anneal_mu_only, "shape"),
])
def test_mistakes_fail_with_their_message(name, func, words):
    with pytest.raises(HiddenCheckFailed, match=words):
        check(LAB, name, func)


# --------------------------------------------------------------------------- student-side helpers
def test_visible_checks_pass_the_reference(capsys):
    sp.check_log_density(ref.log_density)
    sp.check_ll(ref.ll)
    sp.check_grad_ll(ref.grad_ll)
    sp.check_hessian_ll(ref.hessian_ll)
    sp.check_anneal(ref.anneal)
    assert capsys.readouterr().out.count("✓") == 5


@pytest.mark.parametrize("checker,func", [
    (sp.check_log_density, naive_log_density),
    (sp.check_log_density, log_density_variance),
    (sp.check_ll, ll_mean),
    (sp.check_grad_ll, grad_sign),
    (sp.check_hessian_ll, lambda mu, sigma: 2 * ref.hessian_ll(mu, sigma)),
    (sp.check_anneal, anneal_frozen),
])
def test_visible_checks_catch_mistakes(checker, func):
    with pytest.raises(AssertionError):
        checker(func)


def test_optimisers_and_the_race():
    ga = sp.gradient_ascent(ref.grad_ll, (0.01, 1.5), tol=1e-4)
    assert ga.reason == "tolerance" and sp.iterations_near(ga) > 0     # a loose stop halts near the saddle
    em = sp.em_path(ref.grad_ll, (0.3, 0.7))
    assert em.reason == "target" and abs(em.points[-1, 0]) >= sp.MU_TARGET
    alt = sp.alternating_path(ref.ll, (0.3, 1.5), n_sweeps=2)
    assert abs(alt.points[-1, 0]) < 1e-2 and alt.points[-1, 1] == pytest.approx(1.0, abs=1e-3)
    rows = sp.optimiser_race([(0.01, 1.5), (0.3, 0.7)], 1e-8, grad_ll=ref.grad_ll, anneal=ref.anneal,
                             max_iter=5000)
    assert [r["method"] for r in rows] == ["gradient ascent", "EM", "annealing"] * 2
    assert set(rows[0]) == {"start", "method", "iterations", "reached", "stopped", "near_saddle", "seconds"}
    annealing = [r for r in rows if r["method"] == "annealing"]
    assert all(r["reached"] for r in annealing)
    slow = rows[0]
    assert not slow["reached"] and slow["iterations"] is None and slow["near_saddle"] > 1000
    assert rows[2]["iterations"] < 100
    with pytest.raises(TypeError, match="grad_ll"):
        sp.optimiser_race([(0.1, 1.0)], 1e-8)
