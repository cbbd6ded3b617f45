"""One source of truth for points: nbgrader's cell metadata. Every place a student or an
instructor reads a number of points agrees with it: each notebook's intro table, each
"Exercise n (k points)" and "Question n (k points)" heading, and the README's table of labs.
Changing a test cell's points in the Create Assignment sidebar without the text fails here."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import REPO
from emlab_judge.verdicts import checked_functions

NOTEBOOKS = sorted((REPO / "solutions").glob("*/*.ipynb"))


def _points(nb) -> tuple[dict[str, float], list[tuple[int, float]]]:
    """({graded function: its test cell's points}, [(cell index, points) of each written answer])."""
    functions, written = {}, []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if cell.cell_type == "code":
            for _, function in checked_functions(cell):
                functions[function] = float(meta["points"])
        elif meta.get("solution"):
            written.append((index, float(meta["points"])))
    return functions, written


def _count(text: str) -> float:
    return float(text)


HEADING = re.compile(r"Exercise (\d+) \((\d+) points?\)[.:*\s]*(?:Write )?`(\w+)\(")
QUESTION = re.compile(r"Question (\d+) \((\d+) points?\)")
TABLE_EXERCISE = re.compile(r"^\| *Exercise (\d+) *\| *`(\w+)`.*\| *(\d+) *\|$", re.M)
TABLE_QUESTIONS = re.compile(r"^\| *Questions? (\d+)(?:[–-](\d+))? *\|.*\| *(\d+) *× *(\d+) *\|$", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_the_notebooks_text_states_the_points_its_cells_carry(path):
    nb = nbformat.read(path, as_version=4)
    functions, written = _points(nb)
    problems, headings = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for number, points, function in HEADING.findall(cell.source):
            headings += 1
            if function not in functions:
                problems.append(f"Exercise {number} names {function}, which no test cell grades")
            elif _count(points) != functions[function]:
                problems.append(f"Exercise {number} says {points} points; the test cell of {function} carries "
                                f"{functions[function]:g}")
        for number, points in QUESTION.findall(cell.source):
            following = [p for i, p in written if i >= index]
            if not following or following[0] != _count(points):
                problems.append(f"Question {number} says {points} points; its answer cell carries "
                                f"{following[0] if following else 'nothing'}")
        for number, function, points in TABLE_EXERCISE.findall(cell.source):
            if functions.get(function) != _count(points):
                problems.append(f"the intro table gives Exercise {number} ({function}) {points} points; its test "
                                f"cell carries {functions.get(function)}")
        for first, last, count, each in TABLE_QUESTIONS.findall(cell.source):
            n = int(last or first) - int(first) + 1
            if int(count) != n:
                problems.append(f"the intro table's Questions {first}-{last or first} row counts {count}, not {n}")
    assert headings == len(functions), f"{path.name}: {headings} exercise headings for {len(functions)} graded functions"
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_readme_table_of_labs_agrees_with_the_notebooks():
    readme = (REPO / "README.md").read_text()
    rows = dict(re.findall(r"^\| (0\d) \| (.+) \|$", readme, re.M))
    assert len(rows) == len(NOTEBOOKS), f"the README's table lists labs {sorted(rows)}"
    for path in NOTEBOOKS:
        functions, written = _points(nbformat.read(path, as_version=4))
        graded, answers = (part.strip() for part in rows[path.parent.name[:2]].rsplit("|", 1))
        stated = {f: float(p) for f, p in re.findall(r"`(\w+)` (\d+)", graded)}
        assert stated == functions, f"README, lab {path.parent.name}: {stated} against the cells' {functions}"
        if m := re.fullmatch(r"(\d+) × (\d+)", answers):
            stated_written = [float(m.group(2))] * int(m.group(1))
        else:
            m = re.fullmatch(r"(\d+) \(([\d, ]+)\)", answers)
            assert m, f"README, lab {path.parent.name}: written answers {answers!r} in an unknown form"
            stated_written = [float(x) for x in m.group(2).split(",")]
        assert stated_written == [p for _, p in written], (
            f"README, lab {path.parent.name}: written answers {answers} against the cells' {[p for _, p in written]}")


def test_a_changed_point_value_is_noticed(tmp_path):
    """The check can fail: a test cell's points changed in the metadata alone disagree with the
    heading that states them."""
    path = NOTEBOOKS[0]
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and checked_functions(cell):
            meta["points"] = float(meta["points"]) + 1
            break
    changed = tmp_path / path.parent.name / path.name
    changed.parent.mkdir()
    nbformat.write(nb, changed)
    with pytest.raises(AssertionError, match="carries"):
        test_the_notebooks_text_states_the_points_its_cells_carry(changed)
