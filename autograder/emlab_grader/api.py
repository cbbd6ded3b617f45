"""The one entry point hidden tests use: ``check(assignment, function_name, func)``.

A hidden test cell in ``solutions/`` holds nothing but

    from emlab_grader import check
    check("03-old-faithful", "e_step", e_step)

so how a verdict is reached can change (for example, judged outside the kernel)
without touching any notebook.

``check`` calls the student's function on every case from :mod:`.cases`, with copies
of the inputs, and raises ``AssertionError`` with a student-readable message on the
first case that goes wrong: an exception, a modified input, or an output the judge
rejects. Warnings and stderr from the student's code are swallowed, because nbgrader
gives a test cell zero for any text on stderr.
"""

from __future__ import annotations

import contextlib
import copy
import io
import traceback
import warnings

import numpy as np

from .cases import cases_for
from .judge import judge

__all__ = ["check", "HiddenCheckFailed"]


class HiddenCheckFailed(AssertionError):
    """A graded function failed one of its hidden checks."""


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


def _describe_exception(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def check(assignment: str, function: str, func) -> None:
    """Run the hidden checks of one graded function.

    Parameters
    ----------
    assignment : nbgrader assignment id, e.g. "03-old-faithful"
    function : the graded function's name, e.g. "e_step"
    func : the student's function

    Prints a one-line summary when every case passes and returns None (a returned value
    would become the cell's result, which nbgrader reads as partial credit).

    Raises
    ------
    HiddenCheckFailed
        With a message naming the case and what is wrong.
    """
    __tracebackhide__ = True  # IPython: show the message, not the grader's frames
    if not callable(func):
        raise HiddenCheckFailed(f"{function} is not a function (got {type(func).__name__}).")
    cases = cases_for(assignment, function)
    for case in cases:
        given = copy.deepcopy(case.kwargs)
        pristine = copy.deepcopy(case.kwargs)
        sink = io.StringIO()
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(sink), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                output = func(**given)
        except Exception as exc:  # the student's code failed: report it, in words
            raise HiddenCheckFailed(
                f"{function} raised {_describe_exception(exc)} on hidden case '{case.label}'."
            ) from None
        for name, value in given.items():
            if not _same(value, pristine[name]):
                raise HiddenCheckFailed(
                    f"{function} modified its argument {name!r} on hidden case '{case.label}'; "
                    "a function must not change the arrays it is given (work on a copy)."
                )
        verdict = judge(assignment, function, pristine, output)
        if not verdict.ok:
            raise HiddenCheckFailed(f"{function}, hidden case '{case.label}': {verdict.message}")
    print(f"{function}: all {len(cases)} hidden checks passed.")
