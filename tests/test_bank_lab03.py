"""Lab 03's grading, proved on a bank of submissions with one real ``nbgrader autograde``.

tests/banks/lab03/ holds one module per implementation of e_step, m_step and loglik:

- ``correct_*.py``: correct, each written differently (loops, scipy, Cholesky, einsum,
  scikit-learn style, eigendecomposition); each must score exactly what the model answer
  scores;
- ``buggy_*.py``: one or two mistakes students really make, correct elsewhere; the module
  docstring's first line names the function(s) hit before a colon
  ("e_step, loglik: ..."); each must score less than the model answer, lose points on
  every function it names and keep them on the others (one bug costs only its own
  function's points).

The notebook's test cells run the visible check (emlab.checks) before the hidden one
(emlab_grader.check), so the table says which of the two failed the cell; and every bank
module is also put through the hidden checks alone, in this process: a buggy function
they pass is a failure of the test even when the visible check caught it.

Every module becomes a student's notebook (student id = file stem): the release notebook
with each answer cell replaced by the module's shared parts (imports, helpers) and that
one function. ``all_correct`` is the model answer, taken from the source notebook's
solution cells, so it does not depend on the bank. All are graded in one batch in a
temporary copy of the course; the table of scores is printed (shown under ``-s``) and
written to test-artifacts/bank_lab03.txt (the place to read it under pytest-xdist).
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import time
from pathlib import Path

import nbformat
import pytest

from grading_support import (REPO, build_submission, run_nbgrader, scores_from_gradebook, solution_sources,
                             split_functions, temporary_course)

ASSIGNMENT = "03-old-faithful"
NOTEBOOK = "old_faithful.ipynb"
# graded function (answer cell grade_id) -> its test cell's grade_id and points
TESTS = {"e_step": ("test_e_step", 4.0), "m_step": ("test_m_step", 4.0), "loglik": ("test_loglik", 2.0)}
FULL = sum(points for _, points in TESTS.values())
BANK = Path(__file__).resolve().parent / "banks" / "lab03"
REFERENCE = "all_correct"
ARTIFACT = REPO / "test-artifacts" / "bank_lab03.txt"


def bank():
    """[(student id, module source, functions its bug hits)] for every bank module."""
    entries = []
    for path in sorted(BANK.glob("*.py")):
        source = path.read_text()
        doc = (ast.get_docstring(ast.parse(source)) or "").strip()
        if path.stem.startswith("correct_"):
            targets = ()
        elif path.stem.startswith("buggy_"):
            m = re.match(r"((?:e_step|m_step|loglik)(?:, (?:e_step|m_step|loglik))*): \S", doc)
            assert m, f"{path.name}: the docstring's first line should start 'e_step: ...', 'm_step, loglik: ...'"
            targets = tuple(m.group(1).split(", "))
        else:
            raise AssertionError(f"{path.name}: bank modules are named correct_*.py or buggy_*.py")
        entries.append((path.stem, source, targets))
    return entries


def test_bank_is_well_formed():
    entries = bank()
    assert sum(s.startswith("buggy_") for s, _, _ in entries) >= 15
    assert sum(s.startswith("correct_") for s, _, _ in entries) >= 5
    for student, source, targets in entries:
        assert 1 <= len(targets) <= 2 or student.startswith("correct_"), student
        split_functions(source, TESTS)  # defines the three functions at top level


def hidden_verdicts(source: str) -> dict:
    """{function: None if its hidden checks pass, else their message}, by calling
    ``emlab_grader.check`` on the module's functions in this process (trusted judge
    included), independently of the notebook's visible checks."""
    from emlab_grader import HiddenCheckFailed, check

    namespace: dict = {"__name__": "bank_module"}
    exec(compile(source, "<bank module>", "exec"), namespace)
    out = {}
    for function in TESTS:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(ASSIGNMENT, function, namespace[function])
            out[function] = None
        except HiddenCheckFailed as exc:
            out[function] = str(exc)
    return out


def caught_by(autograded_nb: Path) -> dict:
    """{function: "visible" | "hidden" | error name} for each test cell that ended in an
    error in the autograded notebook: the notebook's visible check (emlab.checks, an
    AssertionError) or the hidden one (emlab_grader, HiddenCheckFailed)."""
    if not autograded_nb.exists():
        return {}
    by_test = {gid: f for f, (gid, _) in TESTS.items()}
    out = {}
    for cell in nbformat.read(str(autograded_nb), as_version=4).cells:
        function = by_test.get(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))
        errors = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if function and errors:
            out[function] = {"AssertionError": "visible", "HiddenCheckFailed": "hidden"}.get(errors[0], errors[0])
    return out


def _expected(student, targets):
    if student == REFERENCE:
        return f"{FULL:g}/{FULL:g}"
    if not targets:
        return f"= {REFERENCE}"
    return "loses " + ", ".join(targets)


def _table(rows, scores):
    header = ["student", *TESTS, "total", "expected", "caught by (notebook)", "hidden checks fail", "verdict"]
    lines = []
    for student, targets, caught, hidden, verdict in rows:
        got = scores.get(student, {})
        cells = [student] + [f"{got.get(TESTS[f][0], float('nan')):g}" for f in TESTS] + \
                [f"{got.get('total', float('nan')):g}", _expected(student, targets),
                 ", ".join(f"{f}: {how}" for f, how in caught.items()) or "-",
                 ", ".join(f for f, message in hidden.items() if message) or "-", verdict]
        lines.append(cells)
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))] +
                     [fmt.format(*r) for r in lines])


def grade_bank(tmp_path, repo: Path = REPO):
    """Grade the bank and the model answer in one batch; return (rows, scores, problems, seconds)."""
    start = time.monotonic()
    course = temporary_course(tmp_path, [ASSIGNMENT], repo=repo)
    release = course.release_notebook(ASSIGNMENT, NOTEBOOK)
    assert release.exists(), f"{release.relative_to(course.root)} is missing: run make release"
    # the gradebook learns the assignment, its grade cells and their points from the source
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}")

    answers = {REFERENCE: (solution_sources(course.source_notebook(ASSIGNMENT, NOTEBOOK), TESTS), ())}
    for student, source, targets in bank():
        answers[student] = (split_functions(source, TESTS), targets)
    for student, (cells, _) in answers.items():
        build_submission(release, cells, course.submission_path(student, ASSIGNMENT, NOTEBOOK))
    run_nbgrader(course, "autograde", ASSIGNMENT, "--force")
    scores = scores_from_gradebook(course, ASSIGNMENT)

    sources = {student: source for student, source, _ in bank()}
    problems, rows = [], []
    ref_total = scores.get(REFERENCE, {}).get("total")
    for student, (_, targets) in answers.items():
        got = scores.get(student)
        if got is not None:
            got = {**{gid: 0.0 for gid, _ in TESTS.values()}, **got}  # a test cell never graded scores 0
        hidden = hidden_verdicts(sources[student]) if student != REFERENCE else {f: None for f in TESTS}
        caught = caught_by(course.autograder / "autograded" / student / ASSIGNMENT / NOTEBOOK)
        mine = []
        if got is None:
            mine.append("not in the gradebook")
        elif student == REFERENCE:
            mine += [f"{gid} got {got.get(gid)} of {points:g}" for gid, points in TESTS.values()
                     if got.get(gid) != points]
        elif not targets:  # a correct implementation
            if got["total"] != ref_total:
                mine.append(f"total {got['total']:g} != {REFERENCE}'s {ref_total}")
            mine += [f"hidden checks of {f} fail: {message}" for f, message in hidden.items() if message]
        else:
            if ref_total is None or not got["total"] < ref_total:
                mine.append(f"total {got['total']:g} not below {REFERENCE}'s {ref_total}")
            for f, (gid, points) in TESTS.items():
                if f in targets and not got[gid] < points:
                    mine.append(f"keeps {got[gid]:g} of {points:g} on {gid}: its bug was not caught")
                if f in targets and not hidden[f]:
                    mine.append(f"the hidden checks of {f} pass: its bug is caught only by the visible check")
                if f not in targets and got[gid] != points:  # one bug costs only its own function's points
                    mine.append(f"loses points on {gid} ({got[gid]:g} of {points:g}), which its bug does not touch")
        problems += [f"{student}: {m}" for m in mine]
        rows.append((student, targets, caught, hidden, "ok" if not mine else "; ".join(mine)))
    return rows, scores, problems, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader_batch")
def test_bank_lab03(tmp_path, capsys):
    rows, scores, problems, seconds = grade_bank(tmp_path)
    n_buggy = sum(row[0].startswith("buggy_") for row in rows)
    n_correct = sum(row[0].startswith("correct_") for row in rows)
    report = (f"Lab 03 bank: {len(rows)} submissions ({n_buggy} buggy, {n_correct} correct, 1 model answer) "
              f"graded by one nbgrader autograde batch in {seconds:.0f} s\n" + _table(rows, scores))
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(report + "\n")
    with capsys.disabled():
        print("\n" + report)
    assert not problems, "\n".join(problems) + "\n\n" + report
