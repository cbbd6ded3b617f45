"""Lab 04's grading, proved on a bank of submissions with one real ``nbgrader autograde``.

tests/banks/lab04/ holds one module per implementation of log_density, ll, grad_ll,
hessian_ll and anneal:

- ``correct_*.py``: correct, each written differently (closed form with log cosh, loops with
  scipy.special.logsumexp and responsibilities, vectorised norm.logpdf grids; annealing as
  tanh updates or as gradient steps); each must score exactly what the model answer scores;
- ``buggy_*.py``: one or two mistakes students really make, correct elsewhere; the module
  docstring's first line names the function(s) hit before a colon ("grad_ll: ...",
  "ll, anneal: ..."); each must score less than the model answer, lose points on every
  function it names and keep them on the others.

The test cells' points are read from the release notebook's metadata. The machinery
(building submissions, one batch, the table) is shared with the other labs' banks:
grading_support.grade_bank. The table is printed (shown under ``-s``) and written to
test-artifacts/bank_lab04.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grading_support import REPO, BankSpec, bank_report, grade_bank, split_functions

SPEC = BankSpec(
    assignment="04-saddle-point",
    notebook="saddle_point.ipynb",
    # graded function (answer cell grade_id) -> its test cell's grade_id
    tests={"log_density": "test_log_density", "ll": "test_ll", "grad_ll": "test_grad_ll",
           "hessian_ll": "test_hessian_ll", "anneal": "test_anneal"},
    directory=Path(__file__).resolve().parent / "banks" / "lab04",
    artifact=REPO / "test-artifacts" / "bank_lab04.txt",
)


def test_bank_is_well_formed():
    entries = SPEC.modules()
    assert sum(s.startswith("buggy_") for s, _, _ in entries) >= 8
    assert sum(s.startswith("correct_") for s, _, _ in entries) >= 3
    for student, source, targets in entries:
        assert 1 <= len(targets) <= 2 or student.startswith("correct_"), student
        split_functions(source, SPEC.tests)  # defines the five functions at top level


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader_batch")
def test_bank_lab04(tmp_path, capsys):
    rows, scores, problems, points, seconds = grade_bank(SPEC, tmp_path)
    report = bank_report(SPEC, "Lab 04 bank", rows, scores, points, seconds)
    with capsys.disabled():
        print("\n" + report)
    assert all(p > 0 for p in points.values()), f"test cells without points: {points}"
    assert not problems, "\n".join(problems) + "\n\n" + report
