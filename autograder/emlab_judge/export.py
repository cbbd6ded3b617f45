"""Grades for a learning-management system: one row per student, one column per assignment.

The layout Canvas and Moodle import (a student identifier column, then one column of
points per assignment, with a "Points Possible" row under the header). Scores are
nbgrader's (automatic, judged, plus manual); a missing submission counts 0.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["lms_rows", "write_lms_csv"]


def lms_rows(db_url: str) -> list[list]:
    """Header, points-possible row, then one row per student (sorted by id)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        rows = [["Student ID", "Student Name", *(a.name for a in assignments)],
                ["Points Possible", "", *(f"{a.max_score:g}" for a in assignments)]]
        for student in sorted(gb.students, key=lambda s: s.id):
            name = " ".join(n for n in (student.first_name, student.last_name) if n)
            scores = []
            for a in assignments:
                try:
                    scores.append(f"{gb.find_submission(a.name, student.id).score:g}")
                except MissingEntry:
                    scores.append("0")
            rows.append([student.id, name, *scores])
    return rows


def write_lms_csv(db_url: str, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(lms_rows(db_url))
    return path
