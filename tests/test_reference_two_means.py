"""Lab 01's reference (autograder/emlab_judge/reference_two_means.py) against a direct
formula, EM built from it, and the hidden checks it drives: the reference passes them and
typical mistakes fail with their named messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emlab_grader import HiddenCheckFailed, check
from emlab_judge import reference_two_means as ref

LAB = "01-two-means"


def density(x, mu, sigma):
    """N(x | mu, sigma^2) written out, for one height (floats, math module only)."""
    return math.exp(-((x - mu) ** 2) / (2 * sigma ** 2)) / (sigma * math.sqrt(2 * math.pi))


def heights(seed, n=60, mu1=176.0, mu2=163.0, sigma=6.5):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, mu1, mu2) + sigma * rng.normal(size=n)


@pytest.mark.parametrize("seed,mu1,mu2,sigma", [(0, 176.0, 163.0, 6.5), (1, 160.0, 181.0, 4.0),
                                                (2, 170.0, 171.5, 10.0)])
def test_agrees_with_the_direct_formula(seed, mu1, mu2, sigma):
    x = heights(seed)
    p1 = np.array([0.5 * density(xi, mu1, sigma) for xi in x])
    p2 = np.array([0.5 * density(xi, mu2, sigma) for xi in x])
    z = ref.e_step(x, mu1, mu2, sigma)
    assert z.shape == x.shape
    np.testing.assert_allclose(z, p1 / (p1 + p2), rtol=1e-12)
    assert ref.incomplete_loglik(x, mu1, mu2, sigma) == pytest.approx(float(np.sum(np.log(p1 + p2))), rel=1e-12)
    w = np.random.default_rng(seed).random(len(x))
    m1, m2 = ref.m_step(x, w)
    assert isinstance(m1, float) and isinstance(m2, float)
    assert m1 == pytest.approx(sum(wi * xi for wi, xi in zip(w, x)) / sum(w), rel=1e-12)
    assert m2 == pytest.approx(sum((1 - wi) * xi for wi, xi in zip(w, x)) / sum(1 - w), rel=1e-12)


def test_em_never_decreases_the_loglik_and_finds_the_groups():
    x = heights(3, n=400, mu1=178.0, mu2=164.0, sigma=7.0)
    (mu1, mu2), history = ref.fit_em(x, 150.0, 190.0, 7.0, n_iter=100)
    h = np.array(history)
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[1:])), "EM must never decrease the log-likelihood"
    assert h[-1] > h[0]
    assert sorted([mu1, mu2]) == pytest.approx([164.0, 178.0], abs=2.0)


def test_stable_for_a_height_far_from_both_means():
    x = np.array([170.0, 165.0, 175.0 + 60 * 5.0, 175.0 - 80 * 5.0])
    with np.errstate(divide="raise", over="raise", invalid="raise"):  # underflow to 0 is harmless
        z = ref.e_step(x, 175.0, 162.0, 5.0)
        ll = ref.incomplete_loglik(x, 175.0, 162.0, 5.0)
    assert np.all(np.isfinite(z)) and np.all((z >= 0) & (z <= 1))
    assert z[2] == pytest.approx(1.0) and z[3] == pytest.approx(0.0, abs=1e-12)  # nearer mean wins
    assert np.isfinite(ll)


def test_inputs_are_not_modified():
    x, w = heights(4), np.linspace(0.1, 0.9, 60)
    x0, w0 = x.copy(), w.copy()
    ref.e_step(x, 170.0, 160.0, 5.0), ref.m_step(x, w), ref.incomplete_loglik(x, 170.0, 160.0, 5.0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("name", ["e_step", "m_step", "incomplete_loglik"])
def test_reference_passes_the_hidden_checks(name, capsys):
    check(LAB, name, getattr(ref, name))
    assert "hidden checks passed" in capsys.readouterr().out


def e_step_swapped(x, mu1, mu2, sigma):
    return 1.0 - ref.e_step(x, mu1, mu2, sigma)


def e_step_variance_as_sd(x, mu1, mu2, sigma):
    return ref.e_step(x, mu1, mu2, sigma ** 2)


def e_step_naive(x, mu1, mu2, sigma):
    p1 = np.exp(-((x - mu1) ** 2) / (2 * sigma ** 2))
    p2 = np.exp(-((x - mu2) ** 2) / (2 * sigma ** 2))
    return p1 / (p1 + p2)


def e_step_epsilon(x, mu1, mu2, sigma):
    p1 = np.exp(-((x - mu1) ** 2) / (2 * sigma ** 2)) + 1e-300
    p2 = np.exp(-((x - mu2) ** 2) / (2 * sigma ** 2)) + 1e-300
    return p1 / (p1 + p2)


def e_step_two_columns(x, mu1, mu2, sigma):
    z = ref.e_step(x, mu1, mu2, sigma)
    return np.column_stack([z, 1 - z])


def m_step_over_n(x, z_hat):
    return float(z_hat @ x / len(x)), float((1 - z_hat) @ x / len(x))


def m_step_swapped(x, z_hat):
    return ref.m_step(x, z_hat)[::-1]


def m_step_array(x, z_hat):
    return {"mu1": 0.0, "mu2": 0.0}


def m_step_in_place(x, z_hat):
    z_hat[z_hat < 1e-12] = 1e-12
    return ref.m_step(x, z_hat)


def loglik_no_half(x, mu1, mu2, sigma):
    return ref.incomplete_loglik(x, mu1, mu2, sigma) - len(x) * np.log(0.5)


def loglik_mean(x, mu1, mu2, sigma):
    return ref.incomplete_loglik(x, mu1, mu2, sigma) / len(x)


def loglik_log_inside(x, mu1, mu2, sigma):
    return float(np.sum(ref.log_joint(x, mu1, mu2, sigma)))


def loglik_negative(x, mu1, mu2, sigma):
    return -ref.incomplete_loglik(x, mu1, mu2, sigma)


@pytest.mark.parametrize("name,func,message", [
    ("e_step", e_step_swapped, "returns P(z = 2 | x)"),
    ("e_step", e_step_variance_as_sd, "uses sigma**2 as the standard deviation"),
    ("e_step", e_step_naive, "0/0 = NaN"),
    ("e_step", e_step_epsilon, "wrong only at the height far from both means"),
    ("e_step", e_step_two_columns, "Return only P(z = 1 | x)"),
    ("m_step", m_step_over_n, "divides by n"),
    ("m_step", m_step_swapped, "returns (mu2, mu1)"),
    ("m_step", m_step_array, "should return a tuple (mu1, mu2)"),
    ("m_step", m_step_in_place, "modified its argument 'z_hat'"),
    ("incomplete_loglik", loglik_no_half, "leaves out the weights 1/2"),
    ("incomplete_loglik", loglik_mean, "mean over points"),
    ("incomplete_loglik", loglik_log_inside, "log inside the sum"),
    ("incomplete_loglik", loglik_negative, "negative log-likelihood"),
])
def test_mistakes_are_caught_and_named(name, func, message):
    with pytest.raises(HiddenCheckFailed, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        check(LAB, name, func)


@pytest.mark.parametrize("name,func,ok", [
    ("e_step", ref.e_step, True), ("e_step", e_step_naive, False),
    ("m_step", ref.m_step, True), ("m_step", m_step_swapped, False),
    ("incomplete_loglik", ref.incomplete_loglik, True), ("incomplete_loglik", loglik_no_half, False),
])
def test_the_judge_outside_the_kernel_reaches_the_same_verdict_from_the_record(name, func, ok):
    """What the kernel records (floats, tuples, arrays) decodes to outputs the judge reads."""
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
