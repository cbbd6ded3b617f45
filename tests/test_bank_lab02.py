"""Lab 02's grading, proved on a bank of submissions with one real ``nbgrader autograde``.

tests/banks/lab02/ holds one module per implementation of the six graded functions
(compute_loglik, calc_probs, compute_q, update_mu, update_sigma, update_lambda):

- ``correct_*.py``: correct, each written differently (Python loops, scipy's softmax and
  entr, Q as the log-likelihood minus the KL gap, hand-made max-shifted sums); each must
  score exactly what the model answer scores;
- ``buggy_*.py``: one or two mistakes students really make (forgetting lam, log of a sum of
  densities, Q without its entropy term, 0 log 0, unweighted means, a variance returned as
  sigma, counts instead of weights, an argument modified in place, ...), correct elsewhere;
  the module docstring's first line names the function(s) hit before a colon
  ("update_sigma: ..."); each must score less than the model answer, lose points on every
  function it names and keep them on the others.

The machinery is shared with the other labs' banks: grading_support.grade_bank. The table is
printed (shown under ``-s``) and written to test-artifacts/bank_lab02.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grading_support import REPO, BankSpec, bank_report, grade_bank, split_functions

FUNCTIONS = ("compute_loglik", "calc_probs", "compute_q", "update_mu", "update_sigma", "update_lambda")

SPEC = BankSpec(
    assignment="02-lower-bound",
    notebook="lower_bound.ipynb",
    # graded function (answer cell grade_id) -> its test cell's grade_id
    tests={f: f"test_{f}" for f in FUNCTIONS},
    directory=Path(__file__).resolve().parent / "banks" / "lab02",
    artifact=REPO / "test-artifacts" / "bank_lab02.txt",
)


def test_bank_is_well_formed():
    entries = SPEC.modules()
    assert sum(s.startswith("buggy_") for s, _, _ in entries) >= 10
    assert sum(s.startswith("correct_") for s, _, _ in entries) >= 4
    hit = {f for _, _, targets in entries for f in targets}
    assert hit == set(FUNCTIONS), f"functions no buggy module hits: {set(FUNCTIONS) - hit}"
    for student, source, targets in entries:
        assert 1 <= len(targets) <= 2 or student.startswith("correct_"), student
        split_functions(source, SPEC.tests)  # defines the six functions at top level


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader_batch")
def test_bank_lab02(tmp_path, capsys):
    rows, scores, problems, points, seconds = grade_bank(SPEC, tmp_path)
    report = bank_report(SPEC, "Lab 02 bank", rows, scores, points, seconds)
    with capsys.disabled():
        print("\n" + report)
    assert all(p > 0 for p in points.values()), f"test cells without points: {points}"
    assert not problems, "\n".join(problems) + "\n\n" + report
