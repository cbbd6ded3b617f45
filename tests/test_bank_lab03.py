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
The machinery is shared with the other labs' banks (grading_support.grade_bank).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grading_support import REPO, BankSpec, bank_report, grade_bank, split_functions

SPEC = BankSpec(
    assignment="03-old-faithful",
    notebook="old_faithful.ipynb",
    # graded function (answer cell grade_id) -> its test cell's grade_id
    tests={"e_step": "test_e_step", "m_step": "test_m_step", "loglik": "test_loglik"},
    directory=Path(__file__).resolve().parent / "banks" / "lab03",
    artifact=REPO / "test-artifacts" / "bank_lab03.txt",
)
POINTS = {"test_e_step": 4.0, "test_m_step": 4.0, "test_loglik": 2.0}  # the release notebook's


def test_bank_is_well_formed():
    entries = SPEC.modules()
    assert sum(s.startswith("buggy_") for s, _, _ in entries) >= 15
    assert sum(s.startswith("correct_") for s, _, _ in entries) >= 5
    for student, source, targets in entries:
        assert 1 <= len(targets) <= 2 or student.startswith("correct_"), student
        split_functions(source, SPEC.tests)  # defines the three functions at top level


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader_batch")
def test_bank_lab03(tmp_path, capsys):
    rows, scores, problems, points, seconds = grade_bank(SPEC, tmp_path)
    report = bank_report(SPEC, "Lab 03 bank", rows, scores, points, seconds)
    with capsys.disabled():
        print("\n" + report)
    assert points == POINTS, f"the release notebook's test cells have points {points}, expected {POINTS}"
    assert not problems, "\n".join(problems) + "\n\n" + report
