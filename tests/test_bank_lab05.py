"""Lab 05's grading, proved on a bank of submissions with one real ``nbgrader autograde``.

tests/banks/lab05/ holds one module per implementation of the seven graded functions
(grad_neg_loglik, m_step_isotropic, running_mean_var, reset_starved, merge_candidates,
split_criterion, information_criteria):

- ``correct_*.py``: correct, each written differently (loops; the gradient through log sigma
  and Cholesky factors; scikit-learn's and pandas' own machinery; Welford in a class); each
  must score exactly what the model answer scores;
- ``buggy_*.py``: one or two mistakes students really make, correct elsewhere; the module
  docstring's first line names the function(s) hit before a colon; each must score less than
  the model answer, lose points on every function it names and keep them on the others.

The machinery is shared with the other labs' banks: grading_support.grade_bank. The table
is printed (shown under ``-s``) and written to test-artifacts/bank_lab05.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grading_support import REPO, BankSpec, bank_report, grade_bank, split_functions

FUNCTIONS = ["grad_neg_loglik", "m_step_isotropic", "running_mean_var", "reset_starved",
             "merge_candidates", "split_criterion", "information_criteria"]

SPEC = BankSpec(
    assignment="05-em-in-practice",
    notebook="em_in_practice.ipynb",
    # graded function (answer cell grade_id) -> its test cell's grade_id
    tests={f: f"test_{f}" for f in FUNCTIONS},
    directory=Path(__file__).resolve().parent / "banks" / "lab05",
    artifact=REPO / "test-artifacts" / "bank_lab05.txt",
)


def test_bank_is_well_formed():
    entries = SPEC.modules()
    assert sum(s.startswith("buggy_") for s, _, _ in entries) >= 10
    assert sum(s.startswith("correct_") for s, _, _ in entries) >= 4
    hit = set()
    for student, source, targets in entries:
        assert 1 <= len(targets) <= 2 or student.startswith("correct_"), student
        hit.update(targets)
        split_functions(source, SPEC.tests)  # defines the seven functions at top level
    assert hit == set(FUNCTIONS), f"no buggy module for {set(FUNCTIONS) - hit}"


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader_batch")
def test_bank_lab05(tmp_path, capsys):
    rows, scores, problems, points, seconds = grade_bank(SPEC, tmp_path)
    report = bank_report(SPEC, "Lab 05 bank", rows, scores, points, seconds)
    with capsys.disabled():
        print("\n" + report)
    assert all(p > 0 for p in points.values()), f"test cells without points: {points}"
    assert not problems, "\n".join(problems) + "\n\n" + report
