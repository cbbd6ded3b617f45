"""make grades' similar-answers hint (emlab_judge.similarity, with copydetect): a copy with its
names and comments changed is found; answers written independently, and answers that are the
model answer (or the release's stub), are not paired; short answers and linked folders are
left out; the grade report shows the pairs, escaped, as a hint and never a penalty."""

from __future__ import annotations

import os
import re

import nbformat
import pytest

import hostile_lab03 as H
from conftest import REPO
from emlab_judge.course import Course
from emlab_judge.similarity import similar_pairs
from grading_support import solution_sources, split_functions, temporary_course

NOTEBOOK = "old_faithful.ipynb"
ANSWERS = ("e_step", "m_step", "loglik")
BANK = REPO / "tests" / "banks" / "lab03"


def _disguised(source: str) -> str:
    """The same code with its comments gone and its local names changed."""
    source = re.sub(r"#[^\n]*", "", source)
    for old, new in [("diff", "delta"), ("logdet", "ld"), ("resp", "weights_"), ("chol", "factor")]:
        source = source.replace(old, new)
    return source


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = temporary_course(tmp_path_factory.mktemp("similar"), [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    model = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ANSWERS)
    einsum = (BANK / "correct_einsum.py").read_text()
    students = {
        "ann": split_functions(einsum, ANSWERS),
        "bob": split_functions(_disguised(einsum), ANSWERS),          # ann's, disguised
        "cyd": split_functions((BANK / "correct_loops.py").read_text(), ANSWERS),
        "dan": split_functions((BANK / "correct_cholesky.py").read_text(), ANSWERS),
        "eve": model, "fay": model,                                     # both hand in the model answer
        "gus": {name: f"def {name}(*args):\n    return None\n" for name in ANSWERS},   # too short to say
        "hal": {name: f"def {name}(*args):\n    return None\n" for name in ANSWERS},
    }
    for student, answers in students.items():
        folder = course.autograder / "autograded" / student / H.ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(H.honest(release, answers), folder / NOTEBOOK)
    os.symlink(course.autograder / "autograded" / "ann", course.autograder / "autograded" / "zed")
    return Course(course.root)


def test_a_disguised_copy_is_found_and_nothing_else(course):
    pairs = similar_pairs(course, H.ASSIGNMENT)
    assert [(p.first, p.second) for p in pairs] == [("ann", "bob")]
    assert pairs[0].share >= 0.9


def test_the_threshold_decides_and_independent_work_stays_apart(course):
    """Even at a low threshold, independently written correct answers are not paired with each
    other or with the model answer."""
    pairs = {(p.first, p.second) for p in similar_pairs(course, H.ASSIGNMENT, threshold=0.3)}
    assert ("ann", "bob") in pairs
    assert not pairs & {("eve", "fay"), ("cyd", "dan"), ("ann", "cyd"), ("cyd", "eve"), ("gus", "hal")}
    assert not any("zed" in pair for pair in pairs), "a linked student folder is not read"


def test_the_grade_report_shows_the_pairs_as_a_hint(course):
    from emlab_judge.grade_report import AssignmentStats, _html

    stats = AssignmentStats(H.ASSIGNMENT, 10.0, None, similar=[
        {"first": "<b>ann</b>", "second": "bob", "first_share": 0.97, "second_share": 1.0}])
    page = _html([stats], {})
    section = page.split("<h3>Unusually similar answers</h3>")[1].split("<h3>")[0]
    assert "never a penalty" in section and "&lt;b&gt;ann&lt;/b&gt;" in section and "97%, 100%" in section


def test_padded_or_unreadable_answers_are_named_not_silently_dropped(course, tmp_path):
    """Answers padded past MAX_CODE are compared on their first part and named; a notebook that
    cannot be read is named too; the rest of the comparison goes on."""
    from emlab_judge import similarity

    folder = course.autograded / "ivy" / H.ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text("{ not a notebook")
    notes: list[str] = []
    pairs = similar_pairs(course, H.ASSIGNMENT, notes=notes)
    assert any(n.startswith("ivy: old_faithful.ipynb could not be read") for n in notes), notes
    assert [(p.first, p.second) for p in pairs] == [("ann", "bob")]
    saved = similarity.MAX_CODE
    try:
        similarity.MAX_CODE = 500
        notes = []
        similar_pairs(course, H.ASSIGNMENT, notes=notes)
        assert any("compared on their first 500" in n for n in notes), notes
    finally:
        similarity.MAX_CODE = saved
        import shutil

        shutil.rmtree(course.autograded / "ivy")
