"""Graded test cells run their hidden checks first (emlab_judge/hidden_first.py), so a failing
visible check never stops the record the judge needs for partial credit."""

from __future__ import annotations

import nbformat

from conftest import REPO
from emlab_judge.hidden_first import hidden_first

CELL = ('from emlab.checks import check_e_step\ncheck_e_step(e_step)\n### BEGIN HIDDEN TESTS\n'
        '__import__("emlab_grader").check("03-old-faithful", "e_step", e_step)\n### END HIDDEN TESTS')


def test_the_hidden_block_moves_first_with_its_markers():
    moved = hidden_first(CELL)
    assert moved.splitlines() == ["### BEGIN HIDDEN TESTS",
                                  '__import__("emlab_grader").check("03-old-faithful", "e_step", e_step)',
                                  "### END HIDDEN TESTS", "from emlab.checks import check_e_step",
                                  "check_e_step(e_step)"]
    compile(moved, "<cell>", "exec")
    assert hidden_first(moved) == moved  # already first: unchanged


def test_a_block_using_the_visible_parts_names_stays_where_it_is():
    cell = CELL.replace('__import__("emlab_grader").check("03-old-faithful", "e_step", e_step)',
                        'assert check_e_step(e_step) is None')
    assert hidden_first(cell) == cell
    assert hidden_first("x = 1\nprint(x)") == "x = 1\nprint(x)"


def test_every_labs_test_cells_have_their_hidden_checks_moved_first():
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and "emlab_grader" in cell.source:
                moved = hidden_first(cell.source)
                assert moved.startswith("### BEGIN HIDDEN TESTS\n__import__(\"emlab_grader\").check("), \
                    f"{path.name} {meta['grade_id']}"
                compile(moved, meta["grade_id"], "exec")


def test_the_delimiters_are_clear_hidden_tests_own():
    """A course that configures other delimiters for ClearHiddenTests gets its blocks moved too,
    found the way nbgrader finds them (a line containing the delimiter)."""
    from traitlets.config import Config

    from emlab_judge.hidden_first import HiddenChecksFirst

    cell = CELL.replace("### BEGIN HIDDEN TESTS", "# >>> SECRET").replace("### END HIDDEN TESTS", "# <<< SECRET")
    assert hidden_first(cell) == cell   # not the default delimiters: left alone
    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = ">>> SECRET"
    config.ClearHiddenTests.end_test_delimeter = "<<< SECRET"
    node = nbformat.v4.new_code_cell(cell, metadata={"nbgrader": {"grade": True, "solution": False}})
    moved, _ = HiddenChecksFirst(config=config).preprocess_cell(node, {}, 0)
    assert moved.source.splitlines()[:3] == [
        "# >>> SECRET", '__import__("emlab_grader").check("03-old-faithful", "e_step", e_step)', "# <<< SECRET"]
    unclosed = "check_e_step(e_step)\n### BEGIN HIDDEN TESTS\n__import__(\"emlab_grader\").check(1)\n"
    assert hidden_first(unclosed) == unclosed   # an unclosed block is not moved
