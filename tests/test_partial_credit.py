"""Partial credit (emlab_judge/verdicts.py, judge_step.py): a function's points are split over
its hidden cases; a function right on some cases keeps their share, every failing case is
named, and nbgrader's own scoring of the settled cell gives exactly the judge's score."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from nbgrader.utils import determine_grade

from emlab_grader.cases import cases_for
from emlab_grader.record import MIME, encode
from emlab_judge import reference as ref
from emlab_judge.judge_step import _settle_outputs
from emlab_judge.verdicts import cell_score, judge_notebook

ASSIGNMENT = "03-old-faithful"


def _record(function, outputs):
    payload = {"assignment": ASSIGNMENT, "function": function,
               "cases": [{"status": "ok", "output": encode(o)} if not isinstance(o, Exception)
                         else {"status": "raised", "error": f"{type(o).__name__}: {o}"} for o in outputs]}
    return nbformat.v4.new_output("display_data", data={MIME: payload})


def _notebooks(outputs, *, errored=True, points=4):
    """(graded, source) with one test cell checking e_step; its record holds ``outputs``."""
    meta = {"nbgrader": {"grade": True, "grade_id": "test_e_step", "points": points, "solution": False,
                         "locked": True}}
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f'__import__("emlab_grader").check("{ASSIGNMENT}", "e_step", e_step)', metadata=meta)])
    shown = [_record("e_step", outputs)]
    if errored:  # the in-kernel check raised on the first failing case
        shown.append(nbformat.v4.new_output("error", ename="HiddenCheckFailed", evalue="e_step, hidden case ...",
                                            traceback=["..."]))
    graded = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("...", metadata=meta, outputs=shown)])
    return graded, source


def _right_answers():
    return [ref.e_step(**case.kwargs) for case in cases_for(ASSIGNMENT, "e_step")]


def _far(cases):
    return next(i for i, c in enumerate(cases) if "far" in c.label)


def test_a_function_wrong_only_on_the_far_point_keeps_the_other_cases_points():
    cases = cases_for(ASSIGNMENT, "e_step")
    outputs = _right_answers()
    far = _far(cases)
    outputs[far] = np.full_like(outputs[far], np.nan)
    graded, source = _notebooks(outputs)
    [v] = judge_notebook(graded, source)
    weights = [c.weight for c in cases]
    expected = cell_score(4, [1 - weights[far] / sum(weights)])
    assert 0 < v.score == expected < 4 and v.partial and not v.passed
    assert v.cases == {"e_step": [len(cases) - 1, len(cases)]}
    [message] = v.messages
    assert cases[far].label in message
    # nbgrader, reading the settled cell, records exactly the judge's score
    cell = graded.cells[0]
    _settle_outputs(cell, v)
    assert determine_grade(cell)[0] == pytest.approx(expected)
    assert not any(o.output_type == "error" or o.get("name") == "stderr" for o in cell.outputs)
    assert MIME not in str(cell.outputs)  # the records are taken out
    printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert f"{expected:g} of 4 points" in printed and f"{len(cases) - 1} of {len(cases)} hidden cases right" in printed
    assert cases[far].label in printed


def test_every_failing_case_is_named_and_costs_its_own_share():
    cases = cases_for(ASSIGNMENT, "e_step")
    outputs = _right_answers()
    outputs[0] = outputs[0][:, ::-1]  # components swapped: wrong
    outputs[1] = ValueError("shapes do not align")
    graded, source = _notebooks(outputs)
    [v] = judge_notebook(graded, source)
    weights = [c.weight for c in cases]
    assert v.score == cell_score(4, [1 - (weights[0] + weights[1]) / sum(weights)])
    assert len(v.messages) == 2
    assert cases[0].label in v.messages[0] and "raised ValueError: shapes do not align" in v.messages[1]


def test_all_right_is_full_points_and_all_wrong_is_zero_with_an_error_first():
    graded, source = _notebooks(_right_answers(), errored=False)
    [v] = judge_notebook(graded, source)
    assert v.passed and v.score == 4 and v.messages == []
    wrong = [np.full_like(o, np.nan) for o in _right_answers()]
    graded, source = _notebooks(wrong)
    [v] = judge_notebook(graded, source)
    assert v.score == 0 and not v.partial and len(v.messages) == len(wrong)
    cell = graded.cells[0]
    _settle_outputs(cell, v)
    assert cell.outputs[0].output_type == "error" and determine_grade(cell)[0] == 0


def test_a_missing_record_earns_nothing_however_right_the_notebook_looks():
    graded, source = _notebooks(_right_answers(), errored=False)
    graded.cells[0].outputs = []
    [v] = judge_notebook(graded, source)
    assert v.score == 0 and v.tampering


@pytest.mark.parametrize("points, fractions, expected", [
    (4, [1.0], 4.0), (4, [0.0], 0.0), (4, [5 / 6], 3.33), (2, [1.0, 0.5], 1.5), (3, [2 / 3], 2.0),
    (10, [0.999], 9.99),
])
def test_a_cell_score_is_rounded_down_to_a_hundredth_and_exact_when_all_right(points, fractions, expected):
    assert cell_score(points, fractions) == expected
