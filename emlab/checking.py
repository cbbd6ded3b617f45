"""What every lab's visible checks share: the failure message's form, a tolerant comparison,
and the log-likelihood-never-decreases check (each lab passes its own hints).

Student-safe: nothing here knows a solution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["fail", "close", "loglik_never_decreases"]


def fail(fname: str, label: str, message: str):
    """Raise the AssertionError a visible check shows: the function, the case, what is wrong."""
    raise AssertionError(f"{fname}, on the case '{label}':\n{message}")


def close(a, b, rtol: float, atol: float) -> bool:
    """Same shape and equal to the tolerances (numpy.allclose)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def loglik_never_decreases(history, rtol: float, *, runner: str, nonfinite: str, decrease: str) -> None:
    """Check that a log-likelihood history never went down, and print a ``✓`` line.

    history : an object with a ``loglik`` list (a lab's EM history) or a sequence of float:
        the log-likelihoods after 0, 1, 2, ... iterations, in nats
    rtol : a decrease below ``rtol * max(1, |l|)`` is round-off, not a bug
    runner : the function whose history is expected, named in the message for a wrong argument
    nonfinite : what to tell a student whose log-likelihood became NaN or -inf, after
        "the log-likelihood is -inf at iteration t"
    decrease : what to tell a student whose log-likelihood went down, after the numbers
    """
    __tracebackhide__ = True
    values = getattr(history, "loglik", history)
    if not isinstance(values, (Sequence, np.ndarray)) or len(values) == 0:
        raise AssertionError(f"check_monotone needs the history from {runner} (or a list of log-likelihoods).")
    ll = np.asarray(values, dtype=float).ravel()
    bad = np.where(~np.isfinite(ll))[0]
    if len(bad):
        raise AssertionError(f"the log-likelihood is {ll[bad[0]]} at iteration {int(bad[0])}{nonfinite}")
    for t in range(len(ll) - 1):
        drop = ll[t] - ll[t + 1]
        if drop > rtol * max(1.0, abs(ll[t])):
            raise AssertionError(f"the log-likelihood went DOWN at iteration {t + 1}: from {ll[t]:.6f} to "
                                 f"{ll[t + 1]:.6f} (by {drop:.4g}). {decrease}")
    print(f"✓ the log-likelihood never went down over {len(ll) - 1} iterations: "
          f"from {ll[0]:.4f} to {ll[-1]:.4f}.")
