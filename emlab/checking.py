"""What every lab's visible checks share: the mistakes any array of responsibilities can show
(one list, used by the visible specs of labs 02 and 03 and by the kernel-side properties), a
tolerant comparison, and the log-likelihood-never-decreases check (each lab passes its own hints).

Student-safe: nothing here knows a solution; every test below is a relation any correct array
of responsibilities satisfies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .visible import Mistake, close, fmt

__all__ = ["close", "responsibility_mistakes", "gamma_problem", "loglik_never_decreases"]

ATOL = 1e-9


def _rows(gamma) -> np.ndarray:
    return np.asarray(gamma, dtype=float)


def _transposed(g: np.ndarray, N: int, K: int) -> bool:
    return N != K and g.shape == (K, N)


def _log_responsibilities(g: np.ndarray, N: int, K: int) -> bool:
    """Every entry at most 0 and each row's log-sum-exp 0 (and the rows do not sum to one)."""
    if g.shape != (N, K) or not np.all(np.isfinite(g)) or not np.all(g <= ATOL):
        return False
    if np.allclose(g.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        return False
    top = g.max(axis=1, keepdims=True)
    return bool(np.allclose((top + np.log(np.exp(g - top).sum(axis=1, keepdims=True))).ravel(), 0.0, atol=1e-6))


def _outside_unit(g: np.ndarray, N: int, K: int) -> bool:
    return g.shape == (N, K) and bool(np.all(np.isfinite(g))) and bool(np.any(g < -ATOL) or np.any(g > 1 + 1e-9))


def _columns_normalised(g: np.ndarray, N: int, K: int) -> bool:
    return (g.shape == (N, K) and K > 1 and not np.allclose(g.sum(axis=1), 1.0, rtol=0, atol=1e-6)
            and bool(np.allclose(g.sum(axis=0), 1.0, rtol=0, atol=1e-6)))


def _rows_not_normalised(g: np.ndarray, N: int, K: int) -> bool:
    return g.shape == (N, K) and bool(np.all(np.isfinite(g))) and not np.allclose(g.sum(axis=1), 1.0, rtol=0, atol=1e-6)


# (name, test, message): the order in which they are recognised
_RESPONSIBILITY_RULES: tuple[tuple[str, Callable, str], ...] = (
    ("transposed", _transposed,
     "gamma looks transposed: it should have one row per point and one column per component, shape (N, K)."),
    ("log_responsibilities", _log_responsibilities,
     "gamma looks like log-responsibilities: every entry is at most 0 and each row's log-sum-exp is 0. Return "
     "the responsibilities themselves, np.exp of the normalised log values."),
    ("outside_unit", _outside_unit,
     "gamma has entries outside [0, 1]; each gamma[n, k] = p(z_n = k | x_n) is a probability."),
    ("columns_normalised", _columns_normalised,
     "the columns of gamma sum to 1, not the rows. Normalise each point's responsibilities over the components "
     "(divide by the sum over k), not over the points."),
    ("rows_not_normalised", _rows_not_normalised,
     "each row of gamma should sum to 1 (a point's responsibilities are a probability distribution over the K "
     "components): divide by the sum over the components."),
)


def responsibility_mistakes(n_points: Callable[[dict], int], n_components: Callable[[dict], int]) -> tuple[Mistake, ...]:
    """The named mistakes of an (N, K) array of responsibilities, for a ``FunctionSpec.mistakes``.

    n_points, n_components : read N and K from the call's arguments (``lambda a: len(a["x"])``)
    """
    def rule(test):
        return lambda s: test(_rows(s.out), n_points(s.args), n_components(s.args))

    return tuple(Mistake(name, message, test=rule(test)) for name, test, message in _RESPONSIBILITY_RULES)


def gamma_problem(gamma, N: int, K: int) -> str | None:
    """What is wrong with an (N, K) array of responsibilities that no correct one would have, in
    words (None when nothing is): the same rules as :func:`responsibility_mistakes`, plus the
    shape and NaN."""
    g = _rows(gamma)
    for name, test, message in _RESPONSIBILITY_RULES[:1]:
        if test(g, N, K):
            return message
    if g.shape != (N, K):
        return (f"gamma has shape {g.shape}; expected ({N}, {K}): one row per point (N = {N}) and one column per "
                f"component (K = {K}), even when K = 1.")
    if not np.all(np.isfinite(g)):
        row = int(np.where(~np.all(np.isfinite(g), axis=1))[0][0])
        return (f"gamma contains NaN or infinite values (row {row}: {fmt(g[row])}). This is what happens when "
                "every density of a point underflows to 0 and you divide 0 by 0. Work with log-densities and "
                "normalise with the log-sum-exp trick (scipy.special.logsumexp).")
    for name, test, message in _RESPONSIBILITY_RULES[1:]:
        if test(g, N, K):
            return message
    return None


def loglik_never_decreases(history, rtol: float, *, runner: str, nonfinite: str, decrease: str,
                           more: Sequence = ()) -> None:
    """Check that a log-likelihood history (or several) never went down, and print a ``✓`` line.

    history : an object with a ``loglik`` list (a lab's EM history) or a sequence of float:
        the log-likelihoods after 0, 1, 2, ... iterations, in nats
    more : further histories (each run of a figure, say), checked the same way; the ✓ line then
        counts the runs
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug
    runner : the function whose history is expected, named in the message for a wrong argument
    nonfinite : what to tell a student whose log-likelihood became NaN or -inf, after
        "the log-likelihood is -inf at iteration t"
    decrease : what to tell a student whose log-likelihood went down, after the numbers
    """
    __tracebackhide__ = True
    runs = [history, *more]
    total = 0
    for number, run in enumerate(runs, start=1):
        where = f"run {number} of {len(runs)}: " if len(runs) > 1 else ""
        values = getattr(run, "loglik", run)
        if not isinstance(values, (Sequence, np.ndarray)) or len(values) == 0:
            raise AssertionError(f"{where}check_monotone needs the history from {runner} (or a list of "
                                 "log-likelihoods).")
        ll = np.asarray(values, dtype=float).ravel()
        bad = np.where(~np.isfinite(ll))[0]
        if len(bad):
            raise AssertionError(f"{where}the log-likelihood is {ll[bad[0]]} at iteration {int(bad[0])}{nonfinite}")
        for t in range(len(ll) - 1):
            drop = ll[t] - ll[t + 1]
            if drop > rtol * max(1.0, abs(ll[t])):
                raise AssertionError(f"{where}the log-likelihood went DOWN at iteration {t + 1}: from {ll[t]:.6f} "
                                     f"to {ll[t + 1]:.6f} (by {drop:.4g}). {decrease}")
        total += len(ll) - 1
    if len(runs) == 1:
        print(f"✓ the log-likelihood never went down over {len(ll) - 1} iterations: "
              f"from {ll[0]:.4f} to {ll[-1]:.4f}.")
    else:
        print(f"✓ the log-likelihood never went down in any of the {len(runs)} runs ({total} iterations in all).")
