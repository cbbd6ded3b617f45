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

from nbgrader.plugins.export import CsvExportPlugin

__all__ = ["FORMATS", "lms_rows", "write_lms_csv", "inert", "from_inert", "write_csv", "SafeCsvExportPlugin",
           "GRADES_COLUMNS"]

FORMATS = ("generic", "canvas", "moodle")
# what a spreadsheet reads as the start of a formula (or of a DDE call) in a text cell
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(text) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula gets a
    leading apostrophe (OWASP's advice for CSV injection; spreadsheets hide it), and so does
    one that already looks escaped, so that :func:`from_inert` gives back exactly ``text``."""
    text = "" if text is None else str(text)
    escaped = text.startswith(FORMULA_START) or (text.startswith("'") and inert(text[1:]) != text[1:]) \
        or (text.startswith("'") and text[1:].startswith("'"))
    return "'" + text if escaped else text


def from_inert(text: str) -> str:
    """The text :func:`inert` was given (for a program that reads the file back)."""
    return text[1:] if text.startswith("'") and inert(text[1:]) == text else text


def write_csv(path, rows) -> Path:
    """``rows`` written with the csv module: a field holding a comma, a quote or a line
    break is quoted, never a new column or row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as fh:
        csv.writer(fh).writerows(rows)
    return path


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
                rows.append([inert(student.id), inert(name), *scores])
            elif fmt == "canvas":
                name = ", ".join(n for n in (student.last_name, student.first_name) if n) or student.id
                rows.append([inert(name), "", "", inert(student.id), "", *scores])
            else:
                rows.append([inert(student.id), inert(student.lms_user_id), inert(student.email),
                             inert(student.first_name), inert(student.last_name), *scores])
    return rows


def write_lms_csv(db_url: str, path: Path, fmt: str = "generic") -> Path:
    return write_csv(path, lms_rows(db_url, fmt))


GRADES_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score"]


class SafeCsvExportPlugin(CsvExportPlugin):
    """nbgrader's CSV export (``nbgrader export``, ``make grades``' grades.csv): the same
    columns and rows, written with the csv module (nbgrader's joins fields with commas, so a
    student id holding a comma or a line break made new columns or a forged row) and every
    text field a spreadsheet would read as a formula made :func:`inert`. Configured in
    ``autograder/nbgrader_config.py`` (``ExportApp.plugin_class``)."""

    def export(self, gradebook) -> None:
        from nbgrader.api import MissingEntry

        dest = self.to or "grades.csv"
        students, assignments = {str(s) for s in self.student}, {str(a) for a in self.assignment}
        self.log.info("Exporting grades to %s", dest)
        rows = [GRADES_COLUMNS]
        for assignment in gradebook.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for student in gradebook.students:
                if students and student.id not in students:
                    continue
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                    timestamp, raw, penalty = submission.timestamp, submission.score, submission.late_submission_penalty
                except MissingEntry:
                    timestamp, raw, penalty = "", 0.0, 0.0
                rows.append([inert(assignment.name), assignment.duedate or "", timestamp or "", inert(student.id),
                             inert(student.last_name), inert(student.first_name), inert(student.email),
                             raw, penalty, max(0.0, raw - penalty), assignment.max_score])
        write_csv(dest, rows)
