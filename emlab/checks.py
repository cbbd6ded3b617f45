"""Visible checks for lab 03: run them under each function you write.

Each check calls your function on a few small cases whose answer you could work out by
hand (one component, two identical components, a point at a component's centre, ...),
with fresh copies of the inputs, and either prints a line starting with ``✓`` or raises
``AssertionError`` with a message that says, in words, what is wrong and where to look.

Passing these checks is necessary, not sufficient: the grader also runs your functions
on other inputs (other K and D, unequal weights, random covariances, a point far from
every component). There is no reference implementation in this module.

Shapes (N points, D features, K components)::

    X (N, D)   mu (K, D)   Sigma (K, D, D)   pi (K,)   gamma (N, K)
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .checking import close, fail, loglik_never_decreases

__all__ = ["check_e_step", "check_m_step", "check_loglik", "check_monotone", "gamma_problem"]

RTOL = 1e-6  # relative tolerance of value comparisons
ATOL = 1e-8  # absolute tolerance of value comparisons
LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- helpers
def _fmt(a) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=4, suppress_small=True, separator=", ")


def _close(a, b, rtol=RTOL, atol=ATOL) -> bool:
    return close(a, b, rtol, atol)


_fail = fail


def _check_signature(func, fname: str, expected: tuple[str, ...]) -> None:
    if not callable(func):
        raise AssertionError(f"{fname} should be a function; got {type(func).__name__}.")
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # a builtin or C function: nothing to inspect
        return
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return
    names = tuple(p.name for p in params)
    if names[: len(expected)] != expected or any(p.default is p.empty for p in params[len(expected):]):
        raise AssertionError(
            f"{fname} should take the arguments ({', '.join(expected)}), in that order and with these "
            f"names; yours takes ({', '.join(names)}). The grader calls it as "
            f"{fname}({', '.join(f'{n}=...' for n in expected)}).")


def _call(func, fname: str, label: str, args: dict):
    """Call ``func`` with copies of ``args``; fail if it modified one of them."""
    pristine = {name: np.array(value, dtype=float) for name, value in args.items()}
    given = {name: value.copy() for name, value in pristine.items()}
    try:
        out = func(**given)
    except Exception as exc:
        exc.add_note(f"(raised by {fname} while the check ran the case '{label}')")
        raise
    for name, value in given.items():
        if not (value.shape == pristine[name].shape and np.array_equal(value, pristine[name], equal_nan=True)):
            _fail(fname, label, (
                f"{fname} modified its argument {name!r}. A function must not change the arrays it is "
                f"given (the caller still needs them): work on a copy ({name} = {name}.copy()) or avoid "
                f"in-place operations such as {name} -= ... or {name}[...] = ...."))
    return out


def _as_array(value, fname: str, label: str, what: str) -> np.ndarray:
    if value is None:
        _fail(fname, label, f"{what} is None: did you forget the `return` statement?")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(fname, label, f"{what} should be a numeric array; got {type(value).__name__}.")
    return arr


def _shape_message(what: str, got: tuple, expected: tuple, meaning: str) -> str:
    msg = f"{what} has shape {got}; expected {expected}: {meaning}."
    if len(expected) == 2 and got == expected[::-1] and expected[0] != expected[1]:
        msg += " Transposed? Rows should be points and columns components."
    elif int(np.prod(got)) == int(np.prod(expected)):
        msg += (" It has the right number of entries but the wrong shape: keep every axis, even one of"
                " length 1 (for example gamma of shape (N, 1) when K = 1).")
    return msg


# --------------------------------------------------------------------------- e_step
def gamma_problem(gamma: np.ndarray, N: int, K: int) -> str | None:
    """What is wrong with a responsibility array that any correct one would not have."""
    if gamma.shape != (N, K):
        return _shape_message("gamma", gamma.shape, (N, K),
                              f"one row per data point (N = {N}) and one column per component (K = {K})")
    if not np.all(np.isfinite(gamma)):
        row = int(np.where(~np.all(np.isfinite(gamma), axis=1))[0][0])
        return (f"gamma contains NaN or infinite values (row {row}: {_fmt(gamma[row])}). This is what "
                "happens when every density of a point underflows to 0 and you divide 0 by 0. Work with "
                "log-densities and normalise with the log-sum-exp trick (scipy.special.logsumexp).")
    if np.all(gamma <= ATOL) and not np.allclose(gamma.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        top = gamma.max(axis=1, keepdims=True)
        row_lse = (top + np.log(np.exp(gamma - top).sum(axis=1, keepdims=True))).ravel()
        if np.allclose(row_lse, 0.0, atol=1e-6):
            return ("gamma looks like log-responsibilities: every entry is at most 0 and each row's log-sum-exp "
                    "is 0. Return the responsibilities themselves, np.exp of the normalised log values.")
    if np.any(gamma < -ATOL) or np.any(gamma > 1 + 1e-9):
        return ("gamma has entries outside [0, 1]; each gamma[n, k] = p(z_n = k | x_n) is a probability. "
                f"Smallest entry {gamma.min():.4g}, largest {gamma.max():.4g}.")
    sums = gamma.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        if K > 1 and np.allclose(gamma.sum(axis=0), 1.0, rtol=0, atol=1e-6):
            return ("the columns of gamma sum to 1, not the rows. Normalise each point's responsibilities "
                    "over the components (divide by the sum over k), not over the points.")
        n = int(np.argmax(np.abs(sums - 1.0)))
        return (f"each row of gamma should sum to 1 (a point's responsibilities are a probability "
                f"distribution over the K components), but row {n} sums to {sums[n]:.6g}.")
    return None


def check_e_step(e_step) -> None:
    """Check ``e_step(X, mu, Sigma, pi) -> gamma`` on cases you can work out by hand.

    ``X`` (N, D), ``mu`` (K, D), ``Sigma`` (K, D, D), ``pi`` (K,); ``gamma`` (N, K) with
    ``gamma[n, k] = p(z_n = k | x_n)``. Raises AssertionError explaining the first
    problem found; prints a ``✓`` line if there is none.
    """
    __tracebackhide__ = True
    fname = "e_step"
    _check_signature(e_step, fname, ("X", "mu", "Sigma", "pi"))
    X5 = np.array([[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1], [1.1, 1.9], [-2.2, -0.4]])
    I2 = np.eye(2)

    def run(label, X, mu, Sigma, pi):
        X, mu = np.asarray(X, float), np.asarray(mu, float)
        out = _call(e_step, fname, label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi})
        gamma = _as_array(out, fname, label, "The result gamma")
        problem = gamma_problem(gamma, X.shape[0], mu.shape[0])
        if problem:
            _fail(fname, label, problem)
        return gamma

    # 1. One component: every point certainly comes from it.
    label = "one component (K = 1), five points in 2-D"
    gamma = run(label, X5[:4], [[0.0, 0.0]], [I2], [1.0])
    if not _close(gamma, np.ones((4, 1))):
        _fail(fname, label, f"with a single component every responsibility is 1; got {_fmt(gamma.ravel())}.")

    # 2. Two identical components: the data say nothing, so the posterior is the prior pi.
    label = "two identical components with weights pi = (0.3, 0.7)"
    S = np.array([[1.0, 0.4], [0.4, 2.0]])
    gamma = run(label, X5, [[0.5, -0.5]] * 2, [S, S], [0.3, 0.7])
    expected = np.tile([0.3, 0.7], (5, 1))
    if not _close(gamma, expected):
        if _close(gamma, np.full((5, 2), 0.5)):
            hint = "you get 0.5 everywhere: the mixing weights pi are missing (multiply each density by pi_k)."
        elif _close(gamma, expected[:, ::-1]):
            hint = "you get (0.7, 0.3): column k must belong to component k (pi[k], mu[k], Sigma[k])."
        else:
            hint = f"got first row {_fmt(gamma[0])}."
        _fail(fname, label, "when both components have the same mean and covariance, the densities cancel "
                            "in Bayes' rule and every row of gamma equals pi = (0.3, 0.7); " + hint)

    # 3. A point at the shared centre of a narrow and a wide component.
    label = "a point at the shared mean of Sigma = I and Sigma = 4 I (D = 2, equal weights)"
    gamma = run(label, [[1.0, -1.0]], [[1.0, -1.0]] * 2, [I2, 4 * I2], [0.5, 0.5])
    if not _close(gamma, [[0.8, 0.2]]):
        if _close(gamma, [[0.5, 0.5]]):
            hint = "you get (0.5, 0.5): the factor |Sigma_k|^(-1/2) of the Gaussian density is missing."
        elif _close(gamma, [[16 / 17, 1 / 17]]):
            hint = "you get (16/17, 1/17): use |Sigma_k|^(-1/2), the square root of the determinant."
        else:
            hint = f"got {_fmt(gamma[0])}."
        _fail(fname, label, "at its mean a Gaussian's density is (2 pi)^(-D/2) |Sigma|^(-1/2): here "
                            "1/(2 pi) and 1/(2 pi * 4), so gamma = (1, 1/4) / (5/4) = (0.8, 0.2); " + hint)

    # 4. One feature, X of shape (1, 1): the exponent -(x - mu)^2 / (2 sigma^2).
    label = "one feature (D = 1, X of shape (1, 1)): x = 2 under N(0, 1) and N(0, 4), equal weights"
    gamma = run(label, [[2.0]], [[0.0], [0.0]], [[[1.0]], [[4.0]]], [0.5, 0.5])
    g1 = 1.0 / (1.0 + math.exp(1.5) / 2.0)
    if not _close(gamma, [[g1, 1 - g1]]):
        _fail(fname, label, (
            "the densities at x = 2 are exp(-2) / sqrt(2 pi) and exp(-1/2) / (2 sqrt(2 pi)), so "
            f"gamma = ({g1:.4f}, {1 - g1:.4f}); got {_fmt(gamma[0])}. Check the exponent uses the inverse "
            "covariance, -(x - mu)^T Sigma^(-1) (x - mu) / 2, and that D = 1 (X of shape (N, 1)) works."))

    # 5. Mirror images: swapping x for -x swaps the two components.
    label = "mirror-image components mu = (-1, 0) and (1, 0), the same tilted Sigma, equal weights"
    S = np.array([[1.0, 0.5], [0.5, 1.0]])
    Xm = np.array([[0.0, 0.0], [0.8, -0.3], [-0.8, 0.3], [2.5, 1.0], [-2.5, -1.0]])
    gamma = run(label, Xm, [[-1.0, 0.0], [1.0, 0.0]], [S, S], [0.5, 0.5])
    if not _close(gamma[0], [0.5, 0.5]):
        _fail(fname, label, f"the origin is as likely under both components, so its row is (0.5, 0.5); got {_fmt(gamma[0])}.")
    if not (_close(gamma[1], gamma[2, ::-1]) and _close(gamma[3], gamma[4, ::-1])):
        _fail(fname, label, "the points x and -x should get swapped responsibilities (the picture is symmetric "
                            f"through the origin); got rows {_fmt(gamma[1])} and {_fmt(gamma[2])}.")
    if not (gamma[1, 1] > 0.5 and gamma[3, 1] > 0.5):
        _fail(fname, label, "the point (0.8, -0.3) is nearer the component at (1, 0), so its column 1 should be "
                            f"above 0.5; got {_fmt(gamma[1])}.")

    # 6. A point far from every component: densities underflow unless you stay in logs.
    label = "a point 50 standard deviations from two components at (0, 0) and (1, 0), Sigma = I"
    gamma = run(label, [[0.0, 0.0], [50.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]], [I2, I2], [0.5, 0.5])
    if not _close(gamma[1], [0.0, 1.0], atol=1e-9):
        _fail(fname, label, (
            "both densities at (50, 0) are about exp(-1250), far below the smallest float (about exp(-745)), "
            "yet their ratio is exp(49.5): the nearer component (1, 0) takes all the responsibility, "
            f"gamma = (0, 1). Got {_fmt(gamma[1])}. Compute log pi_k + log N(x | mu_k, Sigma_k) and normalise "
            "with scipy.special.logsumexp."))

    # 7. Three components in 3-D: only shape and normalisation.
    label = "three components in 3-D, unequal weights"
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3, 3, 3))
    Sigma3 = A @ np.swapaxes(A, 1, 2) / 3 + 0.5 * np.eye(3)
    run(label, rng.normal(size=(7, 3)), rng.normal(size=(3, 3)), Sigma3, [0.2, 0.3, 0.5])

    print("✓ e_step looks right: shapes, rows summing to 1, pi, |Sigma|, D = 1, symmetry, "
          "a far point, inputs untouched.")


# --------------------------------------------------------------------------- m_step
def _params_problem(out, K: int, D: int, fname: str, label: str):
    if out is None:
        _fail(fname, label, "m_step returned None: did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        extra = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        _fail(fname, label, f"m_step should return a tuple (mu, Sigma, pi); got {type(out).__name__}{extra}.")
    arrays = []
    for value, name, shape, meaning in [
        (out[0], "mu", (K, D), f"one row per component (K = {K}), one column per feature (D = {D})"),
        (out[1], "Sigma", (K, D, D), f"one D x D covariance matrix per component (K = {K}, D = {D})"),
        (out[2], "pi", (K,), f"one mixing weight per component (K = {K})"),
    ]:
        arr = _as_array(value, fname, label, f"The returned {name}")
        if arr.shape != shape:
            _fail(fname, label, _shape_message(name, arr.shape, shape, meaning))
        if not np.all(np.isfinite(arr)):
            _fail(fname, label, f"the returned {name} contains NaN or infinite values: {_fmt(arr)}.")
        arrays.append(arr)
    mu, Sigma, pi = arrays
    scale = max(1.0, float(np.max(np.abs(Sigma))))
    if not np.allclose(Sigma, np.swapaxes(Sigma, 1, 2), rtol=0, atol=1e-10 * scale):
        k = int(np.argmax(np.max(np.abs(Sigma - np.swapaxes(Sigma, 1, 2)), axis=(1, 2))))
        _fail(fname, label, (
            f"Sigma[{k}] is not symmetric:\n{_fmt(Sigma[k])}\nA covariance is a weighted sum of outer "
            "products (x_n - mu_k)(x_n - mu_k)^T, which are symmetric: check the order of the factors "
            "(a D x N matrix times an N x D matrix)."))
    if np.any(np.linalg.eigvalsh(Sigma) < -1e-10 * scale):
        _fail(fname, label, "a returned covariance has a negative eigenvalue; a weighted sum of outer "
                            "products (x - mu)(x - mu)^T with weights >= 0 cannot have one.")
    if np.any(pi < -ATOL) or not math.isclose(float(pi.sum()), 1.0, abs_tol=1e-6):
        _fail(fname, label, f"the mixing weights pi = {_fmt(pi)} sum to {pi.sum():.6g}; they must be "
                            "non-negative and sum to 1 (pi_k = N_k / N).")
    return mu, Sigma, pi


def check_m_step(m_step) -> None:
    """Check ``m_step(X, gamma) -> (mu, Sigma, pi)`` on cases you can work out by hand.

    ``X`` (N, D), ``gamma`` (N, K); returns ``mu`` (K, D), ``Sigma`` (K, D, D) (maximum
    likelihood: divided by N_k, not N_k - 1) and ``pi`` (K,). Raises AssertionError
    explaining the first problem found; prints a ``✓`` line if there is none.
    """
    __tracebackhide__ = True
    fname = "m_step"
    _check_signature(m_step, fname, ("X", "gamma"))
    rng = np.random.default_rng(2024)

    # 1. Hard 0/1 responsibilities: each component is fitted to its own group.
    label = "hard 0/1 responsibilities: groups of 5, 3 and 4 points in 2-D"
    X = rng.normal(size=(12, 2)) * [1.0, 2.0] + [0.5, -1.0]
    z = np.array([0, 1, 0, 2, 0, 1, 2, 0, 2, 1, 0, 2])
    gamma = np.eye(3)[z]
    mu, Sigma, pi = _params_problem(_call(m_step, fname, label, {"X": X, "gamma": gamma}), 3, 2, fname, label)
    groups = [X[z == k] for k in range(3)]
    sizes = np.array([len(g) for g in groups], dtype=float)
    mu_e = np.stack([np.mean(g, axis=0) for g in groups])
    Sigma_e = np.stack([np.cov(g.T, bias=True) for g in groups])
    if not _close(mu, mu_e):
        if _close(mu, mu_e * (sizes / len(X))[:, None]):
            hint = "it looks divided by N (all the points) instead of N_k (the points of component k)."
        elif _close(mu, np.tile(X.mean(axis=0), (3, 1))):
            hint = "every mean is the mean of all the data: weight the points by gamma[:, k]."
        else:
            hint = f"got mu =\n{_fmt(mu)}\nexpected the group means\n{_fmt(mu_e)}"
        _fail(fname, label, "with 0/1 responsibilities mu_k is the plain mean of the points of group k; " + hint)
    if not _close(Sigma, Sigma_e):
        centred_on_all = np.stack([(g - X.mean(axis=0)).T @ (g - X.mean(axis=0)) / len(g) for g in groups])
        if _close(Sigma, np.stack([np.cov(g.T) for g in groups])):
            hint = ("it is divided by N_k - 1 (the unbiased estimate); the maximum-likelihood M step divides "
                    "by N_k (np.cov(..., bias=True)).")
        elif _close(Sigma, Sigma_e * (sizes / len(X))[:, None, None]):
            hint = "it looks divided by N (all the points) instead of N_k."
        elif _close(Sigma, centred_on_all):
            hint = "it is centred on the mean of all the data; centre on the new mu_k."
        elif _close(Sigma, np.stack([np.diag(np.diag(S)) for S in Sigma_e])):
            hint = "only the variances are there (diagonal); the model has full covariances."
        else:
            k = int(np.argmax(np.max(np.abs(Sigma - Sigma_e), axis=(1, 2))))
            hint = f"Sigma[{k}] is\n{_fmt(Sigma[k])}\nbut the group's covariance is\n{_fmt(Sigma_e[k])}"
        _fail(fname, label, "with 0/1 responsibilities Sigma_k is the maximum-likelihood covariance of group k, "
                            "np.cov(X[group].T, bias=True); " + hint)
    if not _close(pi, sizes / len(X)):
        _fail(fname, label, f"pi_k is the fraction of the points in group k, (5, 3, 4) / 12 = "
                            f"{_fmt(sizes / len(X))}; got {_fmt(pi)}.")

    # 2. Equal responsibilities: every component is the same Gaussian fitted to all the data.
    label = "equal responsibilities gamma[n, k] = 1/2 for every point"
    X = rng.normal(size=(9, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]])
    mu, Sigma, pi = _params_problem(
        _call(m_step, fname, label, {"X": X, "gamma": np.full((9, 2), 0.5)}), 2, 2, fname, label)
    for name, got, want in [("mu", mu, np.tile(X.mean(axis=0), (2, 1))),
                            ("Sigma", Sigma, np.stack([np.cov(X.T, bias=True)] * 2)),
                            ("pi", pi, np.array([0.5, 0.5]))]:
        if not _close(got, want):
            _fail(fname, label, (
                "when every point is shared equally, each component gets the mean and the maximum-likelihood "
                f"covariance (bias=True) of all the data, and pi = (0.5, 0.5). Your {name} is\n{_fmt(got)}\n"
                f"but should be\n{_fmt(want)}" + ("\nWeight each outer product by gamma[n, k] once (not "
                                                    "squared) and divide by N_k." if name == "Sigma" else "")))

    # 3 and 4. Soft responsibilities: identities that hold for any gamma.
    for label, N, D, K in [("soft responsibilities, one feature (D = 1, X of shape (N, 1)), K = 2", 8, 1, 2),
                           ("soft responsibilities, K = 3 components in D = 3", 10, 3, 3)]:
        X = rng.normal(size=(N, D)) * 1.5 + 0.7
        gamma = rng.dirichlet(np.full(K, 0.8), size=N)
        mu, Sigma, pi = _params_problem(_call(m_step, fname, label, {"X": X, "gamma": gamma}), K, D, fname, label)
        if not _close(pi, gamma.sum(axis=0) / N):
            _fail(fname, label, f"pi_k = N_k / N with N_k = sum_n gamma[n, k]; got {_fmt(pi)}.")
        # sum_k N_k mu_k = sum_n x_n sum_k gamma[n, k] = sum_n x_n
        if not _close(pi @ mu, X.mean(axis=0)):
            _fail(fname, label, (
                "the weighted average of the component means, sum_k pi_k mu_k, should equal the mean of all "
                f"the data (because each row of gamma sums to 1); got {_fmt(pi @ mu)} instead of "
                f"{_fmt(X.mean(axis=0))}. Check mu_k = sum_n gamma[n, k] x_n / N_k."))
        # law of total variance: sum_k pi_k (Sigma_k + mu_k mu_k^T) = mean of x x^T
        second = np.einsum("k,kij->ij", pi, Sigma + mu[:, :, None] * mu[:, None, :])
        if not _close(second, X.T @ X / N):
            _fail(fname, label, (
                "the covariances do not add up: sum_k pi_k (Sigma_k + mu_k mu_k^T) should equal the average "
                "of x_n x_n^T over all the points (the law of total variance). Check that Sigma_k weights each "
                "outer product (x_n - mu_k)(x_n - mu_k)^T by gamma[n, k] (not its square), centres on the new "
                "mu_k, and divides by N_k."))

    print("✓ m_step looks right: shapes, 0/1 and equal responsibilities, N_k (not N or N_k - 1), "
          "symmetric covariances, pi summing to 1, D = 1, inputs untouched.")


# --------------------------------------------------------------------------- loglik
def check_loglik(loglik) -> None:
    """Check ``loglik(X, mu, Sigma, pi) -> float`` on cases you can work out by hand.

    ``X`` (N, D), ``mu`` (K, D), ``Sigma`` (K, D, D), ``pi`` (K,); the result is
    sum_n log sum_k pi_k N(x_n | mu_k, Sigma_k), one number in nats. Raises
    AssertionError explaining the first problem found; prints a ``✓`` line if there is none.
    """
    __tracebackhide__ = True
    fname = "loglik"
    _check_signature(loglik, fname, ("X", "mu", "Sigma", "pi"))

    def run(label, X, mu, Sigma, pi):
        X = np.asarray(X, float)
        out = _call(loglik, fname, label, {"X": X, "mu": mu, "Sigma": Sigma, "pi": pi})
        arr = _as_array(out, fname, label, "The result")
        if arr.size != 1:
            _fail(fname, label, f"loglik should return one number (the sum over all {X.shape[0]} points); got "
                                f"an array of shape {arr.shape}. Sum the per-point log-likelihoods.")
        value = float(arr.reshape(()))
        if math.isnan(value) or math.isinf(value):
            _fail(fname, label, (
                f"loglik returned {value}. A point far from every component has densities that underflow "
                "to 0, and log(0) = -inf: add log pi_k to the log-densities and combine them with "
                "scipy.special.logsumexp instead of taking the log of a sum of densities."))
        return value, X.shape[0]

    def expect(label, value, expected, N, extra=""):
        if _close(value, expected):
            return
        hints = [(expected / N, "It looks like the mean over the points; the log-likelihood is the sum."),
                 (-expected, "It has the wrong sign: return log p(X), not -log p(X)."),
                 (math.exp(expected) if expected > -700 else None,
                  "It looks like the likelihood itself; return its logarithm.")]
        hint = next((h for v, h in hints if v is not None and _close(value, v)), extra)
        _fail(fname, label, f"expected {expected:.6f}, got {value:.6f}. {hint}".rstrip())

    I2 = np.eye(2)
    # 1. One point, one standard normal component.
    label = "the point x = (1, 2) under one standard normal component (D = 2)"
    value, N = run(label, [[1.0, 2.0]], [[0.0, 0.0]], [I2], [1.0])
    expect(label, value, -LOG_2PI - 2.5, N,
           "log N(x | 0, I) = -(D/2) log(2 pi) - |x|^2 / 2 = -log(2 pi) - 5/2 here.")

    # 2. Several points in 3-D: the sum over points.
    label = "three points under one standard normal component (D = 3)"
    X = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [1.5, 1.0, -0.5]])
    value, N = run(label, X, [[0.0, 0.0, 0.0]], [np.eye(3)], [1.0])
    expect(label, value, -3 * 1.5 * LOG_2PI - 0.5 * float(np.sum(X ** 2)), N,
           "each point contributes -(3/2) log(2 pi) - |x_n|^2 / 2; add them up.")

    # 3. One feature.
    label = "two points under N(1, 4) (D = 1, X of shape (2, 1))"
    value, N = run(label, [[1.0], [5.0]], [[1.0]], [[[4.0]]], [1.0])
    expect(label, value, 2 * (-0.5 * LOG_2PI - math.log(2.0)) - 0.5 * 16.0 / 4.0, N,
           "log N(x | m, s^2) = -log(2 pi)/2 - log(s) - (x - m)^2 / (2 s^2), with s^2 = 4 (Sigma holds the "
           "variance, not the standard deviation).")

    # 4. Two identical components: splitting a component in two changes nothing.
    label = "two identical components with weights (0.3, 0.7) (D = 2)"
    X = np.array([[1.0, 2.0], [-0.5, 0.5]])
    value, N = run(label, X, [[0.0, 0.0]] * 2, [I2, I2], [0.3, 0.7])
    expect(label, value, -2 * LOG_2PI - 0.5 * float(np.sum(X ** 2)), N,
           "sum_k pi_k N(x | mu, Sigma) = N(x | mu, Sigma) when the components are identical and pi sums to 1.")

    # 5. The weights matter: a point at the centre of one of two far-apart components.
    label = "the point (0, 0) at the centre of N((0, 0), I), with N((100, 0), I) far away, pi = (0.5, 0.5)"
    value, N = run(label, [[0.0, 0.0]], [[0.0, 0.0], [100.0, 0.0]], [I2, I2], [0.5, 0.5])
    if _close(value, -LOG_2PI):
        _fail(fname, label, "you get -log(2 pi): the mixing weight pi_1 = 0.5 is missing. The likelihood of "
                            "the point is 0.5 / (2 pi) + (almost nothing), so the answer is -log 2 - log(2 pi).")
    if _close(value, -LOG_2PI - 2500.0):
        _fail(fname, label, "the log is inside the sum over components (sum_k pi_k log N). The log-likelihood "
                            "is log of the sum: log sum_k pi_k N(x | mu_k, Sigma_k).")
    expect(label, value, -math.log(2.0) - LOG_2PI, N)

    # 6. A point far from every component.
    label = "the point (50, 0), 50 standard deviations from a standard normal component (D = 2)"
    value, N = run(label, [[50.0, 0.0]], [[0.0, 0.0]], [I2], [1.0])
    expect(label, value, -LOG_2PI - 1250.0, N, "log N(x | 0, I) = -log(2 pi) - |x|^2 / 2 = -log(2 pi) - 1250.")

    print("✓ loglik looks right: one number, the sum over points, pi inside the log, D = 1, "
          "a far point, inputs untouched.")


# --------------------------------------------------------------------------- monotone
def check_monotone(history, rtol: float = 1e-8) -> None:
    """Check that the log-likelihood never went down during an EM run; print a ``✓`` line.

    history : EMHistory (from :func:`emlab.em.run_em`), or a sequence of float: the log-likelihoods after 0, 1, 2, ...
        iterations, in nats
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug

    Raises AssertionError naming the iteration where l decreased and by how much.
    """
    __tracebackhide__ = True
    loglik_never_decreases(history, rtol, runner="run_em",
                           nonfinite=(". NaN or -inf usually means densities that underflowed to 0 (use log-densities and "
                                     "logsumexp) or a covariance that collapsed onto one point."),
                           decrease=("EM can never decrease it: the E step makes the lower bound touch l, the M step raises "
                                    "the bound, so l cannot fall. A decrease means e_step, m_step and loglik disagree: check "
                                    "that m_step maximises exactly (N_k, not N_k - 1; the new mu_k inside Sigma_k) and that "
                                    "loglik and e_step use the same density and the weights pi."))
