"""Checks of a graded function's output that need no reference: shape, finiteness, rows
of gamma summing to one, a symmetric covariance, one number for a log-likelihood.

They run in the kernel (so the student sees the message in the notebook) and again in
the judge outside it (so a notebook that hid a failure is caught). No expected value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["property_problem", "as_array", "as_scalar", "shape_message"]


def as_array(value, what):
    from .record import Unrecorded  # local: keeps this module light to import

    if isinstance(value, Unrecorded):
        return None, f"{what} should be a numeric array; got {value.type_name}."
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None, f"{what} should be a numeric array; got {type(value).__name__}."
    return arr, None


def shape_message(what, got, expected, meaning):
    hint = " It looks transposed." if len(expected) == 2 and tuple(got) == tuple(reversed(expected)) else ""
    return f"{what} has shape {tuple(got)}; expected {tuple(expected)} ({meaning}).{hint}"


def as_scalar(value, what):
    """(float, None) for one number (a 0-d or one-element array counts), else (None, message)."""
    arr, bad = as_array(value, what)
    if bad:
        return None, bad
    if arr.ndim != 0 and arr.size != 1:
        return None, f"{what} should be one number; got an array of shape {arr.shape}."
    return float(arr.reshape(())), None


def property_problem(assignment: str, function: str, kwargs: dict, output) -> str | None:
    """What is wrong with ``output`` that any correct answer would not have, or None.

    Each lab's checks live in :mod:`emlab_grader.labs` (``labNN.py``, its ``PROPERTIES``)."""
    from .labs import lab_modules

    check = getattr(lab_modules().get(assignment), "PROPERTIES", {}).get(function)
    return check(kwargs, output) if check else None
