"""Compare a student's output with the reference and explain any difference in words.

Trusted code: it computes the reference on the case's inputs and never calls the
student's function. First the checks any correct answer passes
(:func:`emlab_grader.properties.property_problem`), then the comparison with the
reference, where a difference that matches a known mistake is named ("Sigma is divided
by N; each covariance divides by its own N_k") without revealing the expected values.
The tolerance and the comparison helpers are :mod:`.compare`'s, shared with the lab
modules, which never import this module (so it imports them at the top).
"""

from __future__ import annotations

from dataclasses import dataclass

from emlab_grader.properties import property_problem

from .compare import ATOL, RTOL, close, first_match, max_diff  # re-exported: the labs import them from .compare
from .labs import lab_modules

__all__ = ["Verdict", "judge", "RTOL", "ATOL", "close", "first_match", "max_diff"]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""


def judge(assignment: str, function: str, kwargs: dict, output) -> Verdict:
    """The verdict on one output of one graded function for one case's inputs.

    Each lab's comparisons live in :mod:`emlab_judge.labs` (``labNN.py``, its ``COMPARE``)."""
    problem = property_problem(assignment, function, kwargs, output)
    if problem is None:
        compare = getattr(lab_modules().get(assignment), "COMPARE", {}).get(function)
        if compare is None:
            raise KeyError(f"the judge has no reference for {assignment}/{function}")
        problem = compare(kwargs, output)
    return Verdict(problem is None, problem or "")
