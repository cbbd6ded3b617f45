"""Grades for a learning-management system: one row per student, one column per assignment.

Scores are nbgrader's (automatic, judged, plus manual); a missing submission counts 0.
Three layouts (``python -m emlab_judge lms-export --format ...``):

- ``generic`` (default, ``autograder/lms.csv``): ``Student ID, Student Name, <assignment>...``
  then a ``Points Possible`` row under the header, then one row per student;
- ``canvas``: Canvas's gradebook import layout: ``Student, ID, SIS User ID, SIS Login ID,
  Section, <assignment>...`` and the ``Points Possible`` row. The nbgrader student id (the
  JupyterHub user name) goes in ``SIS Login ID``, which Canvas matches students on; ``ID``,
  ``SIS User ID`` and ``Section`` are left empty;
- ``moodle``: ``Username, ID number, Email address, First name, Last name, <assignment>...``
  with no points row (Moodle's "Import grades from CSV" maps ``Username`` to the user and
  each assignment column to a grade item).
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["FORMATS", "lms_rows", "write_lms_csv"]

FORMATS = ("generic", "canvas", "moodle")


def lms_rows(db_url: str, fmt: str = "generic") -> list[list]:
    """Header, (points-possible row,) then one row per student (sorted by id)."""
    from nbgrader.api import MissingEntry

    from .gradebook import open_gradebook

    if fmt not in FORMATS:
        raise ValueError(f"unknown LMS format {fmt!r}: one of {', '.join(FORMATS)}")
    with open_gradebook(db_url) as gb:
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        names = [a.name for a in assignments]
        points = [f"{a.max_score:g}" for a in assignments]
        if fmt == "generic":
            rows = [["Student ID", "Student Name", *names], ["Points Possible", "", *points]]
        elif fmt == "canvas":
            rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names],
                    ["Points Possible", "", "", "", "", *points]]
        else:
            rows = [["Username", "ID number", "Email address", "First name", "Last name", *names]]
        for student in sorted(gb.students, key=lambda s: s.id):
            scores = []
            for a in assignments:
                try:
                    scores.append(f"{gb.find_submission(a.name, student.id).score:g}")
                except MissingEntry:
                    scores.append("0")
            if fmt == "generic":
                name = " ".join(n for n in (student.first_name, student.last_name) if n)
                rows.append([student.id, name, *scores])
            elif fmt == "canvas":
                name = ", ".join(n for n in (student.last_name, student.first_name) if n) or student.id
                rows.append([name, "", "", student.id, "", *scores])
            else:
                rows.append([student.id, student.lms_user_id or "", student.email or "", student.first_name or "",
                             student.last_name or "", *scores])
    return rows


def write_lms_csv(db_url: str, path: Path, fmt: str = "generic") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(lms_rows(db_url, fmt))
    return path
