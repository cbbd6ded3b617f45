"""One module per lab, ``labNN.py``: the judge's comparisons with the reference.

Each declares ``ASSIGNMENT`` and ``COMPARE`` ({graded function: a callable ``(kwargs,
output) -> message or None``}) that computes the reference on the case's inputs and, where
the output differs, names the mistake in words a student understands, never the expected
value. Trusted code: never visible to the student's kernel.
"""

from __future__ import annotations

import functools
from types import ModuleType

from emlab_grader.labs import discover

__all__ = ["lab_modules"]


@functools.cache
def lab_modules() -> dict[str, ModuleType]:
    """{assignment id: module} of the judge's lab modules."""
    return discover(__name__, __path__)
