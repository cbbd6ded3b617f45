"""Test cells run their hidden checks before their visible ones, when graded.

A lab's test cell runs the visible check (``check_e_step(e_step)``, the hints a student sees
while working) and then, hidden, ``__import__("emlab_grader").check(...)``, which records the
function's outputs on every hidden case for the judge. A visible check that fails stops the
cell before the hidden one runs: nothing is recorded and the function scores 0, however many
hidden cases it gets right. So, in the notebook being graded (the source's test cells, which
nbgrader has just restored), each hidden block moves to the top of its cell: the record is
always made, and partial credit always possible. The visible check still runs after it when
the hidden checks raise nothing.

Only blocks made of ``emlab_grader`` check calls (and comments) move: they use no name the
visible part defines. Any other hidden block stays where the source put it.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["HiddenChecksFirst", "hidden_first"]

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_BLOCK = re.compile(rf"^[ \t]*{BEGIN}[ \t]*\n(.*?)^[ \t]*{END}[ \t]*(?:\n|\Z)", re.S | re.M)
_CHECK_LINE = re.compile(r"""^__import__\(\s*["']emlab_grader["']\s*\)\.check\(.*\)\s*(#.*)?$""")


def _self_contained(block: str) -> bool:
    lines = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(_CHECK_LINE.match(line) for line in lines)


def hidden_first(source: str) -> str:
    """``source`` with its self-contained hidden blocks first (markers kept, so feedback still
    strips them), the rest as it was."""
    blocks = _BLOCK.findall(source)
    if not blocks or not all(_self_contained(b) for b in blocks):
        return source
    rest = _BLOCK.sub("", source).strip("\n")
    hidden = "".join(b if b.endswith("\n") else b + "\n" for b in blocks)
    return f"{BEGIN}\n{hidden}{END}\n" + (rest + "\n" if rest else "")


class HiddenChecksFirst(NbGraderPreprocessor):
    """nbgrader preprocessor, first of ``Autograde.autograde_preprocessors`` (before the
    kernel runs): every graded test cell's hidden checks run before its visible ones."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = hidden_first(cell.source)
        return cell, resources
