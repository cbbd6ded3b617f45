"""Compare a student's output with the reference and explain any difference in words.

Trusted code: it computes the reference on the case's inputs and never calls the
student's function. First the checks any correct answer passes
(:func:`emlab_grader.properties.property_problem`), then the comparison with the
reference, where a difference that matches a known mistake is named ("Sigma is divided
by N; each covariance divides by its own N_k") without revealing the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emlab_grader.properties import property_problem

__all__ = ["Verdict", "judge", "RTOL", "ATOL", "close", "first_match", "max_diff"]

RTOL = 1e-6
ATOL = 1e-8


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""


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




def judge(assignment: str, function: str, kwargs: dict, output) -> Verdict:
    """The verdict on one output of one graded function for one case's inputs.

    Each lab's comparisons live in :mod:`emlab_judge.labs` (``labNN.py``, its ``COMPARE``)."""
    from .labs import lab_modules

    problem = property_problem(assignment, function, kwargs, output)
    if problem is None:
        compare = getattr(lab_modules().get(assignment), "COMPARE", {}).get(function)
        if compare is None:
            raise KeyError(f"the judge has no reference for {assignment}/{function}")
        problem = compare(kwargs, output)
    return Verdict(problem is None, problem or "")
