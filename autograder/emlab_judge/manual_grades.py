"""A manual grade stands across a regrade while the answer it graded is unchanged.

One job. nbgrader's autograde marks every cell that has a manual score as "needs manual grade"
again (``SaveAutoGrades``: a manual score means "review"), so regrading a class (a changed
hidden case, ``FORCE=1``) sent every written answer back to the formgrader's queue. Before
nbgrader runs, :func:`snapshot` notes each cell whose manual grade stood (a manual score, not
awaiting review) with a digest of the answer it graded, read from the previous autograded
notebook; after, :func:`restore` clears "needs manual grade" again where the new autograded
notebook holds the same answer and the manual score is unchanged. A changed answer, an
unreadable notebook or anything unexpected leaves nbgrader's "needs manual grade": the safe
side is a human look.

The answer of a written-answer cell is its own source; that of a code cell graded by hand
(an override of an automatic score) is every answer cell of its notebook.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .course import Course
from .gradebook import open_gradebook
from .safe_fs import MiB, read_regular

__all__ = ["snapshot", "restore"]

MAX_NOTEBOOK = 64 * MiB


def _answers(path: Path) -> dict[str, str] | None:
    """{grade id: digest of the answer graded there} of an autograded notebook, or None when it
    cannot be read."""
    try:
        nb = json.loads(read_regular(path, MAX_NOTEBOOK))
        cells = [c for c in nb["cells"] if isinstance(c, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return None

    def meta(cell) -> dict:
        found = cell.get("metadata", {}).get("nbgrader", {})
        return found if isinstance(found, dict) else {}

    def source(cell) -> str:
        text = cell.get("source", "")
        return "".join(text) if isinstance(text, list) else str(text)

    every_answer = hashlib.sha256("\0".join(source(c) for c in cells if meta(c).get("solution")).encode(
        "utf-8", "surrogatepass")).hexdigest()
    digests = {}
    for cell in cells:
        m = meta(cell)
        if m.get("grade") and isinstance(m.get("grade_id"), str):
            own = hashlib.sha256(source(cell).encode("utf-8", "surrogatepass")).hexdigest()
            digests[m["grade_id"]] = own if m.get("solution") else every_answer
    return digests


def _autograded(course: Course, student: str, assignment: str, notebook: str) -> Path:
    return course.autograded / student / assignment / f"{notebook}.ipynb"


def snapshot(course: Course, student: str, assignment: str) -> dict[tuple[str, str], tuple[float, str]]:
    """{(notebook, grade id): (manual score, answer digest)} of every cell whose manual grade
    stands now (call before nbgrader autogrades again)."""
    from nbgrader.api import MissingEntry

    standing = {}
    try:
        with open_gradebook(course.db_url) as gb:
            submission = gb.find_submission(assignment, student)
            grades = [(nb.name, g.name, g.manual_score, g.needs_manual_grade)
                      for nb in submission.notebooks for g in nb.grades]
    except MissingEntry:
        return standing
    answers: dict[str, dict | None] = {}
    for notebook, grade_id, manual, needs in grades:
        if manual is None or needs:
            continue
        if notebook not in answers:
            answers[notebook] = _answers(_autograded(course, student, assignment, notebook))
        digest = (answers[notebook] or {}).get(grade_id)
        if digest:
            standing[(notebook, grade_id)] = (float(manual), digest)
    return standing


def restore(course: Course, student: str, assignment: str, standing: dict[tuple[str, str], tuple[float, str]]) -> int:
    """Clear "needs manual grade" where the manual grade noted by :func:`snapshot` still stands
    (same answer, same manual score). Returns how many cells were cleared."""
    from nbgrader.api import MissingEntry

    if not standing:
        return 0
    answers = {nb: _answers(_autograded(course, student, assignment, nb)) for nb, _ in standing}
    cleared = 0
    with open_gradebook(course.db_url, write=True) as gb:
        for (notebook, grade_id), (manual, digest) in standing.items():
            if (answers.get(notebook) or {}).get(grade_id) != digest:
                continue
            try:
                grade = gb.find_grade(grade_id, notebook, assignment, student)
            except MissingEntry:
                continue
            if grade.manual_score is not None and float(grade.manual_score) == manual and grade.needs_manual_grade:
                grade.needs_manual_grade = False
                cleared += 1
        gb.db.commit()
    return cleared
