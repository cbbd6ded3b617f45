"""How the judge compares numbers: one tolerance, and the helpers every lab's comparison uses.

One job: decide whether a student's output equals a value the judge computed (``close``,
within ``RTOL`` and ``ATOL``, same shape, NaN never equal), find which known mistake an
output matches (``first_match``), and measure how far apart two outputs are
(``max_diff``). Trusted code: it only compares values it is handed; it never calls the
student's function, never computes a reference and never imports the judge or the labs
(both import it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RTOL", "ATOL", "close", "first_match", "max_diff"]

RTOL = 1e-6
ATOL = 1e-8


def close(a, b) -> bool:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=False))


def first_match(value, candidates):
    for message, make in candidates:
        try:
            if close(value, make()):
                return message
        except Exception:  # a candidate that cannot be formed on these inputs
            continue
    return None


def max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))
