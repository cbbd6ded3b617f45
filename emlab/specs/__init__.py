"""The visible checks of each lab, stated as data: one module per lab, ``labNN.SPECS`` maps each
graded function's name to its :class:`emlab.visible.FunctionSpec` (cases worked out by hand,
relations any correct answer satisfies, and the named mistakes with their hints). The runner
is :mod:`emlab.visible`; each lab's module exposes ``check_<name>`` built from these specs.

Student-safe: the expected values are numbers written out by hand and relations, never code
that computes a graded answer.
"""

from __future__ import annotations

import importlib

__all__ = ["LABS", "specs_of"]

LABS = ("lab01", "lab02", "lab03", "lab04", "lab05")


def specs_of(lab: str) -> dict:
    """``{function name: FunctionSpec}`` for ``lab`` (``"lab01"`` ... ``"lab05"``)."""
    if lab not in LABS:
        raise KeyError(f"no visible spec for {lab!r}; the labs are {', '.join(LABS)}")
    return importlib.import_module(f"{__name__}.{lab}").SPECS
