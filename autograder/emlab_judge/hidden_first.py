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
visible part defines. Any other hidden block stays where the source put it. A block is found the
way nbgrader's ``ClearHiddenTests`` finds it (a line containing its begin delimiter, through a
line containing its end delimiter), with the delimiters that preprocessor is configured with.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

__all__ = ["HiddenChecksFirst", "hidden_first"]

BEGIN = ClearHiddenTests.class_traits()["begin_test_delimeter"].default_value   # "BEGIN HIDDEN TESTS"
END = ClearHiddenTests.class_traits()["end_test_delimeter"].default_value       # "END HIDDEN TESTS"
_CHECK_LINE = re.compile(r"""^__import__\(\s*["']emlab_grader["']\s*\)\.check\(.*\)\s*(#.*)?$""")


def _self_contained(block: str) -> bool:
    lines = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(_CHECK_LINE.match(line) for line in lines)


def _split(source: str, begin: str, end: str) -> tuple[list[tuple[str, list[str], str]], list[str]] | None:
    """([(begin line, block lines, end line)], the other lines), or None when a block is not closed."""
    blocks, rest, current = [], [], None
    for line in source.splitlines():
        if current is None and begin in line:
            current = (line, [])
        elif current is not None and end in line:
            blocks.append((current[0], current[1], line))
            current = None
        elif current is not None:
            current[1].append(line)
        else:
            rest.append(line)
    return None if current is not None else (blocks, rest)


def hidden_first(source: str, begin: str = BEGIN, end: str = END) -> str:
    """``source`` with its self-contained hidden blocks first (markers kept, so feedback still
    strips them), the rest as it was. ``begin`` and ``end`` are ClearHiddenTests' delimiters."""
    split = _split(source, begin, end)
    if split is None or not split[0] or not all(_self_contained("\n".join(b)) for _, b, _ in split[0]):
        return source
    blocks, rest = split
    lines = [blocks[0][0]] + [line for _, block, _ in blocks for line in block] + [blocks[0][2]]
    rest_text = "\n".join(rest).strip("\n")
    return "\n".join(lines) + "\n" + (rest_text + "\n" if rest_text else "")


class HiddenChecksFirst(NbGraderPreprocessor):
    """nbgrader preprocessor, first of ``Autograde.autograde_preprocessors`` (before the
    kernel runs): every graded test cell's hidden checks run before its visible ones."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            delimiters = ClearHiddenTests(parent=self.parent, config=self.config)
            cell.source = hidden_first(cell.source, delimiters.begin_test_delimeter, delimiters.end_test_delimeter)
        return cell, resources
