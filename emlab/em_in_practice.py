"""Lab 05 (EM in practice): data, isotropic mixtures, loops that call your functions,
figures and visible checks.

The model of the lab is a mixture of M *isotropic* Gaussians in D dimensions,

    p(x) = sum_j pi_j N(x | mu_j, sigma_j^2 I),

with the mixing weights either given directly (``pi``) or through unconstrained
``logits`` with pi = softmax(logits). Shapes (N points)::

    X       (N, D)   data (unit: whatever the data's unit is; the demos use plain numbers)
    mu      (M, D)   component means
    sigma   (M,)     standard deviations (sigma2 = sigma**2 are the variances)
    pi      (M,)     mixing weights, positive, summing to one
    logits  (M,)     pi = softmax(logits)
    gamma   (N, M)   responsibilities P(component j | x_i); rows sum to one

Log-likelihoods are in nats; E = -log L is the error that gradient descent minimises.

Nothing here computes a density, a responsibility or a log-likelihood. The E step and the
log-likelihood are given in a locked cell of the lab's notebook (``responsibilities`` and
``mixture_loglik``: labs 01 to 03 were about them), and the loops (:func:`run_em`,
:func:`run_gradient_descent`, :func:`run_em_with_reset`) take them as arguments,
``e_step=`` and ``loglik=``, beside *your* graded functions, which they only call. The
``check_*`` functions call your function on cases whose answer you can work out by hand and
print a line starting with ``✓`` or raise ``AssertionError`` saying in words what is wrong.
Passing them is necessary, not sufficient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import softmax

__all__ = [
    "make_blobs", "isotropic_covariances",
    "EMHistory", "run_em", "run_gradient_descent", "run_em_with_reset", "plot_isotropic_state",
    "check_grad_neg_loglik", "check_m_step_isotropic", "check_running_mean_var", "check_reset_starved",
    "check_merge_candidates", "check_split_criterion", "check_information_criteria",
]

RTOL = 1e-6
ATOL = 1e-9


# --------------------------------------------------------------------------- data and model
def make_blobs(centres, scales, counts, seed: int = 0) -> np.ndarray:
    """Isotropic Gaussian clusters, shuffled.

    centres (M, D), scales (M,) standard deviations, counts (M,) points per cluster.
    Returns X of shape (sum(counts), D), drawn with ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, float)
    parts = [c + s * rng.standard_normal((n, centres.shape[1])) for c, s, n in zip(centres, scales, counts)]
    X = np.concatenate(parts)
    return X[rng.permutation(len(X))]


def isotropic_covariances(sigma2, D: int = 2) -> np.ndarray:
    """(M, D, D): sigma2_j I for each component (for the ellipse plots)."""
    return np.asarray(sigma2, float)[:, None, None] * np.eye(D)[None]


# --------------------------------------------------------------------------- loops
@dataclass
class EMHistory:
    """What a run did: E = -log L after each iteration (index 0 = the start) and the
    parameters at the end (and, with ``keep``, at every iteration)."""

    E: list = field(default_factory=list)
    mu: np.ndarray | None = None
    sigma2: np.ndarray | None = None
    pi: np.ndarray | None = None
    frames: list = field(default_factory=list)   # (mu, sigma2, pi) per iteration, with keep=True
    resets: list = field(default_factory=list)   # (iteration, component) for run_em_with_reset

    @property
    def n_iter(self) -> int:
        return len(self.E) - 1


def run_em(X, mu, sigma2, pi, m_step, n_iter: int = 50, keep: bool = False, *, e_step, loglik) -> EMHistory:
    """``n_iter`` EM iterations: gamma = e_step(X, mu, sigma2, pi), then your ``m_step(X, gamma)``.

    X (N, D); mu (M, D), sigma2 (M,) variances, pi (M,): the start. ``e_step(X, mu, sigma2, pi)``
    returns gamma (N, M) and ``loglik(X, mu, sigma2, pi)`` log L in nats (the notebook's given
    ``responsibilities`` and ``mixture_loglik``); ``m_step(X, gamma)`` returns (mu, sigma2, pi).
    The history records E = -loglik after each iteration (and, with ``keep``, the parameters)."""
    mu, sigma2, pi = (np.array(a, float) for a in (mu, sigma2, pi))
    h = EMHistory(E=[-float(loglik(X, mu, sigma2, pi))])
    if keep:
        h.frames.append((mu, sigma2, pi))
    for _ in range(n_iter):
        gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        mu, sigma2, pi = (np.asarray(a, float) for a in m_step(X, gamma))
        h.E.append(-float(loglik(X, mu, sigma2, pi)))
        if keep:
            h.frames.append((mu, sigma2, pi))
    h.mu, h.sigma2, h.pi = mu, sigma2, pi
    return h


def run_gradient_descent(X, mu, sigma, logits, grad, step: float, n_iter: int = 50, *, loglik) -> EMHistory:
    """Gradient descent on E / N with your ``grad(X, mu, sigma, logits)``.

    X (N, D); mu (M, D), sigma (M,) standard deviations, logits (M,): the start; E = -log L
    with ``loglik(X, mu, sigma2, pi)`` (the notebook's ``mixture_loglik``) and pi = softmax(logits).
    The means and logits move by ``-step * dE/N``; the standard deviations move in the
    log domain, log sigma <- log sigma - step * sigma * dE/dsigma / N (the chain rule), so that
    they stay positive. A step that makes E overflow stops the run (E then ends in inf)."""
    mu, logits = np.array(mu, float), np.array(logits, float)
    log_sigma = np.log(np.array(sigma, float))
    N = len(X)
    h = EMHistory(E=[-float(loglik(X, mu, np.exp(2 * log_sigma), softmax(logits)))])
    for _ in range(n_iter):
        sigma = np.exp(log_sigma)
        with np.errstate(all="ignore"):   # a step that is too large overflows: E shows it
            d_mu, d_sigma, d_logits = (np.asarray(a, float) for a in grad(X, mu, sigma, logits))
        mu = mu - step * d_mu / N
        log_sigma = log_sigma - step * sigma * d_sigma / N
        logits = logits - step * d_logits / N
        with np.errstate(all="ignore"):
            E = -float(loglik(X, mu, np.exp(2 * log_sigma), softmax(logits)))
        h.E.append(E if np.isfinite(E) else np.inf)
        if not np.isfinite(E):
            break
    h.mu, h.sigma2, h.pi = mu, np.exp(2 * log_sigma), softmax(logits)
    return h


def run_em_with_reset(X, mu, sigma2, pi, m_step, reset, n_iter: int = 50, seed: int = 0, *, e_step,
                      loglik) -> EMHistory:
    """EM with the reset heuristic: after each M step, your
    ``reset(X, gamma, mu, sigma2, pi, candidates)`` with ``candidates`` drawn uniformly from
    the data indices by ``np.random.default_rng(seed)``. Starved components are recorded in
    ``resets`` as (iteration, component). ``e_step`` and ``loglik`` as in :func:`run_em`."""
    rng = np.random.default_rng(seed)
    mu, sigma2, pi = (np.array(a, float) for a in (mu, sigma2, pi))
    N, M = len(X), len(pi)
    h = EMHistory(E=[-float(loglik(X, mu, sigma2, pi))])
    for t in range(1, n_iter + 1):
        gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        starved = np.flatnonzero(gamma.sum(0) < N / (2 * M))
        candidates = rng.integers(0, N, size=M)
        if starved.size:
            mu, sigma2, pi = (np.asarray(a, float) for a in reset(X, gamma, mu, sigma2, pi, candidates))
            h.resets += [(t, int(j)) for j in starved]
            gamma = np.asarray(e_step(X, mu, sigma2, pi), float)
        mu, sigma2, pi = (np.asarray(a, float) for a in m_step(X, gamma))
        h.E.append(-float(loglik(X, mu, sigma2, pi)))
    h.mu, h.sigma2, h.pi = mu, sigma2, pi
    return h


# --------------------------------------------------------------------------- figures
def plot_isotropic_state(ax, X, mu, sigma2, pi=None, title=None, *, e_step=None, xlim=(-4, 10), ylim=(-4, 9),
                         legend=True):
    """Points coloured by responsibility, each component's 2-sigma circle and mean.

    X (N, 2), mu (M, 2), sigma2 (M,) variances, pi (M,) weights (equal if None); the points
    are coloured by ``e_step(X, mu, sigma2, pi)`` (the notebook's ``responsibilities``), or
    grey without it; axes limits ``xlim``, ``ylim`` (equal aspect). Returns ax."""
    from .plotting import plot_gmm_state

    pi = pi if pi is not None else np.full(len(sigma2), 1 / len(sigma2))
    gamma = None if e_step is None else np.asarray(e_step(X, mu, sigma2, pi), float)
    plot_gmm_state(ax, X, mu, isotropic_covariances(sigma2, X.shape[1]), gamma, title=title,
                   xlabel="$x_1$ (no unit)", ylabel="$x_2$ (no unit)", lim=None, legend=legend)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


# --------------------------------------------------------------------------- visible checks
def _close(a, b, rtol=RTOL, atol=ATOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _tuple(out, n, name, names):
    assert isinstance(out, (tuple, list)) and len(out) == n, (
        f"{name} should return a tuple ({', '.join(names)}); got {type(out).__name__}"
        + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
    return [np.asarray(v, float) for v in out]


def _small_case(seed=1, N=12, M=3, D=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D)) * 2.0
    mu = rng.normal(size=(M, D))
    sigma = rng.uniform(0.7, 1.8, size=M)
    logits = rng.normal(size=M)
    return X, mu, sigma, logits


def check_grad_neg_loglik(grad, loglik):
    """Shapes, and every component of the gradient against a central finite difference of
    E = -loglik(X, mu, sigma**2, softmax(logits)) (``loglik``: the notebook's ``mixture_loglik``)."""
    X, mu, sigma, logits = _small_case()
    args = [a.copy() for a in (X, mu, sigma, logits)]
    out = _tuple(grad(*args), 3, "grad_neg_loglik", ["d_mu", "d_sigma", "d_logits"])
    assert all(np.array_equal(a, b) for a, b in zip(args, (X, mu, sigma, logits))), (
        "grad_neg_loglik changed its inputs; work on copies.")
    d_mu, d_sigma, d_logits = out
    M, D = mu.shape
    for got, shape, what in [(d_mu, (M, D), "d_mu"), (d_sigma, (M,), "d_sigma"), (d_logits, (M,), "d_logits")]:
        assert got.shape == shape, f"{what} has shape {got.shape}; expected {shape}."

    def E(m, s, lg):
        return -float(loglik(X, m, s ** 2, softmax(lg)))

    h = 1e-6
    for name, got, base in [("d_mu", d_mu, mu), ("d_sigma", d_sigma, sigma), ("d_logits", d_logits, logits)]:
        fd = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += h
            minus[idx] -= h
            parts = {"d_mu": (mu, sigma, logits), "d_sigma": (mu, sigma, logits), "d_logits": (mu, sigma, logits)}
            m, s, lg = parts[name]
            fp = E(plus, s, lg) if name == "d_mu" else E(m, plus, lg) if name == "d_sigma" else E(m, s, plus)
            fm = E(minus, s, lg) if name == "d_mu" else E(m, minus, lg) if name == "d_sigma" else E(m, s, minus)
            fd[idx] = (fp - fm) / (2 * h)
        if not _close(got, fd, rtol=1e-4, atol=1e-5):
            sign = " It has the opposite sign: E = -log L, so its gradient is minus that of log L." \
                if _close(-got, fd, rtol=1e-4, atol=1e-5) else ""
            raise AssertionError(f"{name} differs from a finite difference of E = -log L by up to "
                                 f"{np.max(np.abs(got - fd)):.3g}.{sign}")
    assert abs(d_logits.sum()) < 1e-8 * max(1.0, np.abs(d_logits).max()), (
        "d_logits should sum to zero: adding the same number to every logit does not change pi.")
    print("✓ grad_neg_loglik looks right: shapes, all three parts agree with finite differences of E, "
          "d_logits sums to zero, inputs untouched.")


def check_m_step_isotropic(m_step):
    """Hard 0/1 responsibilities: each component's mean, variance (over D) and share by hand."""
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0], [10.0, 10.0], [10.0, 14.0]])
    gamma = np.zeros((6, 2))
    gamma[:4, 0] = 1.0
    gamma[4:, 1] = 1.0
    Xc, gc = X.copy(), gamma.copy()
    mu, sigma2, pi = _tuple(m_step(Xc, gc), 3, "m_step_isotropic", ["mu", "sigma2", "pi"])
    assert np.array_equal(Xc, X) and np.array_equal(gc, gamma), "m_step_isotropic changed its inputs."
    assert mu.shape == (2, 2), f"mu has shape {mu.shape}; expected (M, D) = (2, 2)."
    assert sigma2.shape == (2,), f"sigma2 has shape {sigma2.shape}; expected (M,) = (2,): one variance per component."
    assert pi.shape == (2,), f"pi has shape {pi.shape}; expected (M,) = (2,)."
    assert _close(mu, [[1.0, 1.0], [10.0, 12.0]]), (
        f"with 0/1 responsibilities each mean is the average of its own points; got {mu.tolist()}.")
    assert _close(pi, [4 / 6, 2 / 6]), f"pi_j = N_j / N; expected (2/3, 1/3), got {pi.tolist()}."
    # squared distances: component 1: 2 each (sum 8 over 4 points), component 2: 4 each (8 over 2)
    if _close(sigma2, [2.0, 4.0]):
        raise AssertionError("sigma2 is the mean squared distance to the mean, but it should also divide by "
                             "D: sigma_j^2 = sum_i gamma_ij ||x_i - mu_j||^2 / (D N_j).")
    assert _close(sigma2, [1.0, 2.0]), (
        f"with 0/1 responsibilities sigma_j^2 = (mean squared distance to mu_j) / D; expected (1, 2), "
        f"got {sigma2.tolist()}.")
    print("✓ m_step_isotropic looks right on 0/1 responsibilities: means, variances with the 1/D, weights N_j/N; "
          "inputs untouched.")


def check_running_mean_var(running):
    x = np.array([4.0, 8.0, 6.0, 2.0, 10.0])
    xc = x.copy()
    means, variances = _tuple(running(xc), 2, "running_mean_var", ["means", "variances"])
    assert np.array_equal(xc, x), "running_mean_var changed its input."
    assert means.shape == (5,) and variances.shape == (5,), (
        f"means and variances should have shape (n,) = (5,): one estimate after each point; got "
        f"{means.shape} and {variances.shape}.")
    assert _close(means, [4, 6, 6, 5, 6]), f"the running means of 4, 8, 6, 2, 10 are 4, 6, 6, 5, 6; got {means.tolist()}."
    assert abs(variances[0]) < 1e-12, f"after one point the variance (dividing by n) is 0; got {variances[0]:g}."
    if _close(variances[1:], [8.0, 4.0, 20 / 3, 10.0]):
        raise AssertionError("the variances divide by n - 1; this lab's running variance divides by n "
                             "(the maximum-likelihood estimate), as the slides' update does.")
    assert _close(variances, [0.0, 4.0, 8 / 3, 5.0, 8.0]), (
        f"the variances (dividing by n) of the first 1..5 points are 0, 4, 8/3, 5, 8; got {variances.tolist()}.")
    print("✓ running_mean_var looks right: the means and variances (dividing by n) after each point; input untouched.")


def check_reset_starved(reset):
    """Eight points, four components holding N_k = 5, 1.5, 1 and 0.5 of them; the threshold is
    N / (2M) = 1, so only component 3 is starved (1.5 is below N / M = 2, and 1 is exactly at the
    threshold: neither is starved)."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5], [5.0, 5.0], [6.0, 5.0], [5.0, 6.0]])
    gamma = np.zeros((8, 4))
    gamma[:5, 0] = 1.0
    gamma[5, 1] = 1.0
    gamma[6, [1, 3]] = 0.5
    gamma[7, 2] = 1.0
    mu = np.array([[0.5, 0.5], [5.3, 5.0], [5.0, 6.0], [20.0, 20.0]])
    sigma2 = np.array([0.25, 0.125, 0.1, 0.01])
    pi = np.array([0.6, 0.2, 0.15, 0.05])
    candidates = np.array([0, 1, 2, 5])
    inputs = [a.copy() for a in (X, gamma, mu, sigma2, pi, candidates)]
    new_mu, new_s2, new_pi = _tuple(reset(*inputs), 3, "reset_starved", ["mu", "sigma2", "pi"])
    assert all(np.array_equal(a, b) for a, b in zip(inputs, (X, gamma, mu, sigma2, pi, candidates))), (
        "reset_starved changed its inputs; return new arrays.")
    assert _close(new_mu[:3], mu[:3]) and _close(new_s2[:3], sigma2[:3]), (
        "components 0, 1 and 2 hold 5, 1.5 and 1 of the 8 points (N_k = the sum of gamma's column): none is "
        "below N / (2M) = 1, so their means and variances must not change. (A component is starved when N_k is "
        "strictly below N / (2M); not N / M, and not N_k = N / (2M) exactly.)")
    assert _close(new_mu[3], X[5]), (
        f"component 3 holds 0.5 of a point, below N / (2M) = 1: its mean moves to X[candidates[3]] = X[5] = (5, 5); "
        f"got {new_mu[3].tolist()}.")
    data_var = ((X - X.mean(0)) ** 2).sum() / X.size
    assert _close(new_s2[3], data_var), (
        f"the reset component's variance is the data's isotropic variance, sum_i ||x_i - mean||^2 / (N D) = "
        f"{data_var:.4g} here; got {new_s2[3]:.4g}.")
    assert _close(new_pi.sum(), 1.0), f"the weights should sum to one after the reset; they sum to {new_pi.sum():.4g}."
    print("✓ reset_starved looks right: only the starved component moves, to its candidate point, with the data's "
          "variance; weights sum to one; inputs untouched.")


def check_merge_candidates(merge):
    gamma = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.6, 0.4], [0.0, 0.5, 0.5], [0.2, 0.0, 0.8]])
    gc = gamma.copy()
    out = merge(gc)
    assert np.array_equal(gc, gamma), "merge_candidates changed gamma."
    pairs, J = _tuple(out, 2, "merge_candidates", ["pairs", "J"])
    assert np.asarray(out[0]).dtype.kind in "iu", (
        f"pairs should be an integer array of component indices, not {np.asarray(out[0]).dtype}: build it from "
        "integer indices (np.triu_indices gives them) or convert with .astype(int).")
    assert pairs.shape == (3, 2), f"pairs should have shape (M(M-1)/2, 2) = (3, 2); got {pairs.shape}."
    assert J.shape == (3,), f"J should have shape (M(M-1)/2,) = (3,); got {J.shape}."
    assert np.all(pairs[:, 0] < pairs[:, 1]), "each pair (i, j) should have i < j (each pair once, no (j, j))."
    assert np.all(np.diff(J) <= 0), "the pairs should come in decreasing order of J_merge (best candidate first)."
    # gamma_1 . gamma_2 = 0.6 * 0.4 + 0.5 * 0.5 = 0.49 is the largest inner product
    assert pairs[0].tolist() == [1, 2] and _close(J[0], 0.49), (
        f"here the best pair is (1, 2) with gamma_1 . gamma_2 = 0.6 * 0.4 + 0.5 * 0.5 = 0.49; got "
        f"{pairs[0].tolist()} with {J[0]:.4g}.")
    print("✓ merge_candidates looks right: every pair once, i < j, best first, J by hand; gamma untouched.")


def check_split_criterion(split):
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
    gamma = np.column_stack([np.ones(4), np.zeros(4)])
    gamma[:, 1] = [0.0, 0.0, 0.0, 1.0]
    gamma[:, 0] = 1.0 - gamma[:, 1]
    mu = np.array([[2 / 3, 2 / 3], [2.0, 2.0]])
    sigma2 = np.array([1.0, 0.5])
    inputs = [a.copy() for a in (X, gamma, mu, sigma2)]
    J = np.asarray(split(*inputs), float)
    assert all(np.array_equal(a, b) for a, b in zip(inputs, (X, gamma, mu, sigma2))), "split_criterion changed its inputs."
    assert J.shape == (2,), f"split_criterion should return one number per component, shape (M,) = (2,); got {J.shape}."
    # component 1 holds one point, at its mean: J = log 1 - log N(mu | mu, 0.5 I) = log(2 pi 0.5)
    assert _close(J[1], math.log(math.pi)), (
        "component 1 owns a single point, at its own mean, with sigma^2 = 0.5 in D = 2: f = 1 there and "
        f"J = log 1 - log N(mu | mu, 0.5 I) = log(pi) = {math.log(math.pi):.4f}; got {J[1]:.4f}. "
        "f_k(x_n) = gamma_nk / N_k.")
    # component 0 holds three points fully (N_0 = 3, so f = 1/3 at each), mean (2/3, 2/3), sigma^2 = 1:
    # ||x - mu||^2 = 8/9, 20/9, 20/9, so J = log(1/3) + log(2 pi) + (48/9) / 2 / 3
    want0 = math.log(2 * math.pi / 3) + 8 / 9
    assert _close(J[0], want0), (
        f"component 0 holds three points fully, so N_0 = 3 and f_0 = 1/3 at each: J = sum_n (1/3) (log(1/3) - "
        f"log N(x_n | mu_0, I)) = log(2 pi / 3) + 8/9 = {want0:.4f}; got {J[0]:.4f}. f_k(x_n) = gamma_nk / N_k "
        "divides by the component's total responsibility N_k.")
    print("✓ split_criterion looks right: shape (M,), a one-point component by hand; inputs untouched.")


def check_information_criteria(ic):
    """One Gaussian (K = 1) in D = 1 on four points: everything by hand."""
    X = np.array([[-1.0], [1.0], [-1.0], [1.0]])
    mu, Sigma, pi = np.zeros((1, 1)), np.ones((1, 1, 1)), np.ones(1)
    out = _tuple(ic(X, mu, Sigma, pi), 2, "information_criteria", ["bic", "aic"])
    bic, aic = (float(v.reshape(())) if v.size == 1 else np.nan for v in out)
    ll = 4 * (-0.5 * math.log(2 * math.pi) - 0.5)       # each point is one sd from the mean
    p = 1 + 1 + 0                                       # K D means + K D (D + 1) / 2 variances + K - 1 weights
    assert math.isclose(aic, -2 * ll + 2 * p, rel_tol=1e-9), (
        f"for one Gaussian N(0, 1) on the points -1, 1, -1, 1: log L = 4 (-log(2 pi)/2 - 1/2), p = 2 parameters "
        f"(a mean and a variance), AIC = -2 log L + 2 p = {-2 * ll + 2 * p:.4f}; got {aic:.4f}.")
    assert math.isclose(bic, -2 * ll + p * math.log(4), rel_tol=1e-9), (
        f"BIC = -2 log L + p log N = {-2 * ll + p * math.log(4):.4f} here (N = 4 points); got {bic:.4f}.")
    # two components N(-1, 1) and N(1, 1) in D = 1, weights 1/2, on the points -1 and 1: each point's
    # density is (phi(0) + phi(2)) / 2, and p = 2 means + 2 variances + 1 free weight = 5
    X2, mu2, Sigma2, pi2 = np.array([[-1.0], [1.0]]), np.array([[-1.0], [1.0]]), np.ones((2, 1, 1)), np.full(2, 0.5)
    out2 = _tuple(ic(X2, mu2, Sigma2, pi2), 2, "information_criteria", ["bic", "aic"])
    bic2, aic2 = (float(v.reshape(())) if v.size == 1 else np.nan for v in out2)
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    ll2 = 2 * math.log((phi(0.0) + phi(2.0)) / 2)
    assert math.isclose(aic2, -2 * ll2 + 2 * 5, rel_tol=1e-9), (
        f"for two components in D = 1 (means -1 and 1, variances 1, weights 1/2) on the points -1 and 1, "
        f"p = K D + K D (D + 1) / 2 + (K - 1) = 2 + 2 + 1 = 5 (the K - 1 free weights count: they sum to one) "
        f"and AIC = {-2 * ll2 + 10:.4f}; got {aic2:.4f}.")
    assert math.isclose(bic2, -2 * ll2 + 5 * math.log(2), rel_tol=1e-9), (
        f"BIC = -2 log L + p log N = {-2 * ll2 + 5 * math.log(2):.4f} here (p = 5, N = 2); got {bic2:.4f}.")
    print("✓ information_criteria looks right on one Gaussian by hand: (BIC, AIC) with p = 2, N = 4.")
