"""The hidden-check API: reference functions pass, typical mistakes fail with a message a
student understands, and nothing the student's code prints reaches stderr."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from emlab_grader import HiddenCheckFailed, check
from emlab_judge import reference as ref
from emlab_grader.cases import cases_for, functions

LAB = "03-old-faithful"


@pytest.mark.parametrize("name", ["e_step", "m_step", "loglik"])
def test_reference_passes(name, capsys):
    check(LAB, name, getattr(ref, name))
    assert "hidden checks passed" in capsys.readouterr().out


def test_cases_are_deterministic_and_general():
    for assignment, function in functions():
        a, b = cases_for(assignment, function), cases_for(assignment, function)
        assert [c.label for c in a] == [c.label for c in b]
        for ca, cb in zip(a, b):
            for key in ca.kwargs:
                np.testing.assert_array_equal(ca.kwargs[key], cb.kwargs[key])
    shapes = {(c.kwargs["mu"].shape) for c in cases_for(LAB, "e_step")}
    assert {K for K, _ in shapes} >= {2, 3, 4} and {D for _, D in shapes} >= {1, 2, 3, 5}


def naive_e_step(X, mu, Sigma, pi):
    p = np.column_stack([pi[k] * multivariate_normal(mu[k], Sigma[k]).pdf(X) for k in range(len(pi))])
    return p / p.sum(axis=1, keepdims=True)


def e_step_without_pi(X, mu, Sigma, pi):
    lg = ref.log_gaussian(X, mu, Sigma)
    return np.exp(lg - logsumexp(lg, axis=1, keepdims=True))


def e_step_transposed(X, mu, Sigma, pi):
    return ref.e_step(X, mu, Sigma, pi).T


def e_step_in_place(X, mu, Sigma, pi):
    X -= 0  # harmless
    mu[0] = mu[0] + 1e-3  # modifies the caller's array
    return ref.e_step(X, mu, Sigma, pi)


def m_step_over_n(X, gamma):
    mu, Sigma, pi = ref.m_step(X, gamma)
    return mu, Sigma * (gamma.sum(0) / len(X))[:, None, None], pi


def m_step_unnormalised_pi(X, gamma):
    mu, Sigma, _ = ref.m_step(X, gamma)
    return mu, Sigma, gamma.sum(axis=0)


def loglik_mean(X, mu, Sigma, pi):
    return ref.loglik(X, mu, Sigma, pi) / len(X)


def loglik_raises(X, mu, Sigma, pi):
    raise ValueError("shapes do not align")


def noisy_e_step(X, mu, Sigma, pi):
    import sys
    import warnings
    warnings.warn("student warning")
    print("debug", file=sys.stderr)
    with np.errstate(all="warn"):
        np.log(np.zeros(1))
    return ref.e_step(X, mu, Sigma, pi)


@pytest.mark.parametrize("name,func,message", [
    ("e_step", naive_e_step, "log-sum-exp"),
    ("e_step", e_step_without_pi, "ignore the mixing weights"),
    ("e_step", e_step_transposed, "looks transposed"),
    ("e_step", e_step_in_place, "modified its argument 'mu'"),
    ("m_step", m_step_over_n, "Sigma is divided by N;"),
    ("m_step", m_step_unnormalised_pi, "divide N_k by N"),
    ("loglik", loglik_mean, "mean over points"),
    ("loglik", loglik_raises, "raised ValueError: shapes do not align"),
])
def test_mistakes_are_caught_and_explained(name, func, message):
    with pytest.raises(HiddenCheckFailed, match=message.replace("(", r"\(")):
        check(LAB, name, func)


def test_student_noise_never_reaches_stderr():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        check(LAB, "e_step", noisy_e_step)
    assert err.getvalue() == ""


def test_not_a_function():
    with pytest.raises(HiddenCheckFailed, match="not a function"):
        check(LAB, "e_step", None)


def loglik_fails_inside_numpy(X, mu, Sigma, pi):
    weights = np.log(pi)
    return float(np.dot(X, weights))  # not a number: NumPy raises, from the student's line


def test_an_exception_names_the_case_and_the_students_own_line():
    with pytest.raises(HiddenCheckFailed) as caught:
        check(LAB, "loglik", loglik_fails_inside_numpy)
    message = str(caught.value)
    assert "raised " in message and "Error: " in message and "on hidden case '" in message
    assert "your line" in message and "np.dot(X, weights)" in message
