"""The one entry point hidden tests use: ``check(assignment, function_name, func)``.

A hidden test cell in ``solutions/`` holds nothing but

    __import__("emlab_grader").check("03-old-faithful", "e_step", e_step)

(no name is bound, so a student's own ``check`` is left alone). ``check`` calls the
student's function on every hidden case (:mod:`.cases`), with copies of the inputs, and

- records what it returned, as one display output of type :data:`.record.MIME`, so the
  judge outside the kernel can reach the verdict that counts (``make autograde`` sets
  EMLAB_RECORD=1 for the kernels it starts);
- raises ``HiddenCheckFailed`` with a student-readable message on the first case that
  goes wrong: an exception, a modified input, an output no correct answer could give
  (:mod:`.properties`), or (only where a trusted run handed in the judge with
  :func:`use_judge`) an output that differs from the reference.

This package never imports the trusted side. Trusted runs (``make run-sources``, nbval on
``solutions/`` in ``make test``, the test suite's own process) hand the judge in before
any cell runs: ``emlab_judge.trusted_kernel`` is a kernel that does so. Every other
kernel, the grading sandbox's included, holds no reference implementation and no
expected value.

Warnings and stderr from the student's code are swallowed, because nbgrader gives a test
cell zero for any text on stderr.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import sys
import traceback
import warnings

import numpy as np

from .cases import cases_for
from .properties import property_problem
from .record import MIME, encode

__all__ = ["check", "HiddenCheckFailed", "use_judge"]


class HiddenCheckFailed(AssertionError):
    """A graded function failed one of its hidden checks."""


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


def _library_roots() -> tuple[str, ...]:
    """Folders whose code is not the student's: the Python installation and environment,
    this package and the helper package ``emlab``."""
    import emlab

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(__file__)),
             os.path.dirname(os.path.abspath(emlab.__file__))}
    return tuple(os.path.join(os.path.realpath(r), "") for r in roots)


def _describe_exception(exc: BaseException) -> str:
    """"ValueError: shapes do not align (your line 7: `return X @ mu`)": the exception and the
    last line of the student's own code it passed through (a notebook cell or a module of
    theirs), not a line inside NumPy."""
    frames = traceback.extract_tb(exc.__traceback__)
    libraries = _library_roots()
    mine = [f for f in frames if not os.path.realpath(f.filename).startswith(libraries)]
    where = ""
    if mine:
        line = " ".join((mine[-1].line or "").split())
        where = f" (your line {mine[-1].lineno}" + (f": `{line[:120]}`" if line else "") + ")"
    elif frames:
        where = f" (line {frames[-1].lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


# The judge a trusted run handed in (use_judge), else None: the verdict is left to the grader.
_JUDGE = None


def use_judge(judge) -> None:
    """Hand in the trusted judge, or None to take it away.

    ``judge(assignment, function, kwargs, output)`` returns a verdict with ``ok`` (bool) and
    ``message`` (str), as ``emlab_judge.judge.judge`` does. Called by trusted runs only
    (their kernel, before any cell); a kernel that never gets one records outputs and
    leaves the verdict to the grader outside it."""
    global _JUDGE
    if judge is not None and not callable(judge):
        raise TypeError(f"the judge must be callable, not {type(judge).__name__}")
    _JUDGE = judge


def _publish(payload: dict) -> None:
    """Show the record, only while graded by the harness (EMLAB_RECORD=1): a notebook run
    anywhere else keeps no record in its outputs."""
    if os.environ.get("EMLAB_RECORD") != "1":
        return
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display({MIME: payload, "text/plain": f"<record of {payload['function']}'s outputs>"}, raw=True)


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
    judge = _JUDGE
    cases = cases_for(assignment, function)
    entries, first_problem = [], None
    for case in cases:
        given = copy.deepcopy(case.kwargs)
        sink = io.StringIO()
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(sink), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                output = func(*given.values())  # by position: the student may name the arguments
        except (Exception, SystemExit) as exc:  # the student's code failed: report it, in words
            error = _describe_exception(exc)
            entries.append({"status": "raised", "error": error})
            first_problem = first_problem or f"{function} raised {error} on hidden case '{case.label}'."
            continue
        modified = [name for name, value in given.items() if not _same(value, case.kwargs[name])]
        if modified:
            entries.append({"status": "modified", "modified": modified})
            first_problem = first_problem or (
                f"{function} modified its argument {modified[0]!r} on hidden case '{case.label}'; "
                "a function must not change the arrays it is given (work on a copy).")
            continue
        entries.append({"status": "ok", "output": encode(output)})
        problem = property_problem(assignment, function, case.kwargs, output)
        if problem is None and judge is not None:
            verdict = judge(assignment, function, case.kwargs, output)
            problem = None if verdict.ok else verdict.message
        if problem:
            first_problem = first_problem or f"{function}, hidden case '{case.label}': {problem}"
    _publish({"assignment": assignment, "function": function, "cases": entries})
    if first_problem:
        raise HiddenCheckFailed(first_problem)
    if judge is not None:
        print(f"{function}: all {len(cases)} hidden checks passed.")
    else:
        print(f"{function}: ran on all {len(cases)} hidden cases; the grader judges the results.")
