"""Grades for a learning-management system: one row per student, one column per assignment.

Scores are nbgrader's (automatic, judged, plus manual) less nbgrader's late penalty
(``LateSubmissionPlugin``, reckoned from each student's due date with any extension), the
same number as ``grades.csv``'s ``score``: for a submission that could not be graded, the
grade the gradebook keeps (an earlier one, or 0); with no submission, 0 once the lab is due and
an empty cell (no grade yet) before. Only the
labs released so far are columns (released through the exchange, or with a submission in the
gradebook), unless ``assignments`` names them. Three layouts
(``python -m emlab_judge lms-export --format ...``):

- ``generic`` (default, ``autograder/lms.csv``): ``Student ID, Student Name`` then, per
  assignment, its score and its state (``submitted``, ``late``, ``not submitted``,
  ``ungradable``), then a ``Points Possible`` row under the header, then one row per student;
- ``canvas``: Canvas's gradebook import layout: ``Student, ID, SIS User ID, SIS Login ID,
  Section, <assignment>...`` and the ``Points Possible`` row. ``ID`` is the student's Canvas
  user id (the gradebook's ``lms_user_id``, from the roster), ``SIS User ID`` and ``SIS Login
  ID`` the nbgrader student id (the JupyterHub user name); Canvas matches on any of them.
  Scores only: Canvas would read a state column as a new assignment;
- ``moodle``: ``Username, ID number, Email address, First name, Last name, <assignment>...``
  with no points row (Moodle's "Import grades from CSV" maps ``Username`` to the user and
  each assignment column to a grade item).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from nbgrader.plugins.export import CsvExportPlugin

__all__ = ["FORMATS", "STATES", "lms_rows", "write_lms_csv", "released_assignments", "inert", "from_inert", "write_csv", "SafeCsvExportPlugin",
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


STATES = ("submitted", "late", "not submitted", "ungradable")


def lms_rows(db_url: str, fmt: str = "generic", assignments=None, *, ungradable=frozenset(),
             released=frozenset()) -> list[list]:
    """Header, (points-possible row,) then one row per student (sorted by id).

    assignments : the assignment names to export (default: the released ones: in ``released``
        or with a submission in the gradebook); an unknown name raises ValueError
    ungradable : (student, assignment) pairs whose latest submission could not be graded
    released : assignment names released to students (through the exchange)
    """
    from .gradebook import open_gradebook

    if fmt not in FORMATS:
        raise ValueError(f"unknown LMS format {fmt!r}: one of {', '.join(FORMATS)}")
    with open_gradebook(db_url) as gb:
        known = {a.name: a for a in gb.assignments}
        if assignments:
            unknown = sorted(set(assignments) - set(known))
            if unknown:
                raise ValueError(f"no assignment {', '.join(map(repr, unknown))} in the gradebook; it has "
                                 f"{', '.join(sorted(known)) or 'none'}")
            chosen = [known[name] for name in sorted(set(assignments))]
        else:
            chosen = [a for name, a in sorted(known.items()) if name in released or a.submissions]
        names = [a.name for a in chosen]
        points = [f"{a.max_score:g}" for a in chosen]
        if fmt == "generic":
            rows = [["Student ID", "Student Name", *(c for n in names for c in (n, f"{n} state"))],
                    ["Points Possible", "", *(c for p in points for c in (p, ""))]]
        elif fmt == "canvas":
            rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names],
                    ["Points Possible", "", "", "", "", *points]]
        else:
            rows = [["Username", "ID number", "Email address", "First name", "Last name", *names]]
        submitted = {a.name: {s.student.id: s for s in a.submissions} for a in chosen}
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)   # nbgrader stores naive UTC
        for student in sorted(gb.students, key=lambda s: s.id):
            cells = []
            for a in chosen:
                submission = submitted[a.name].get(student.id)
                state = ("ungradable" if (student.id, a.name) in ungradable else "not submitted"
                         if submission is None else "late" if submission.total_seconds_late > 0 else "submitted")
                if submission is not None:   # the gradebook's grade (an earlier one kept, for ungradable work)
                    score = f"{max(0.0, submission.score - submission.late_submission_penalty):g}"
                else:                        # 0 once the lab is due, as grades.csv; no grade before
                    score = "0" if a.duedate is not None and a.duedate <= now else ""
                cells += [score, state] if fmt == "generic" else [score]
            if fmt == "generic":
                name = " ".join(n for n in (student.first_name, student.last_name) if n)
                rows.append([inert(student.id), inert(name), *cells])
            elif fmt == "canvas":
                name = ", ".join(n for n in (student.last_name, student.first_name) if n) or student.id
                rows.append([inert(name), inert(student.lms_user_id), inert(student.id), inert(student.id), "",
                             *cells])
            else:
                rows.append([inert(student.id), inert(student.lms_user_id), inert(student.email),
                             inert(student.first_name), inert(student.last_name), *cells])
    return rows


def write_lms_csv(course, path: Path, fmt: str = "generic", assignments=None) -> Path:
    """The LMS CSV of ``course`` (an emlab_judge Course): its gradebook, its stored results
    (which submissions could not be graded) and its exchange (which labs are released)."""
    from .results import stored_results

    latest = {(r.student, r.assignment): r.status for r in stored_results(course)}
    ungradable = frozenset(pair for pair, status in latest.items() if status in {"ungradable", "failed"})
    return write_csv(path, lms_rows(course.db_url, fmt, assignments, ungradable=ungradable,
                                    released=released_assignments(course)))


def released_assignments(course) -> frozenset[str]:
    """The assignments in the exchange's outbound folder (``nbgrader release_assignment``):
    ``<course.exchange>/emlab/outbound/<assignment>``."""
    import os

    outbound = course.exchange / "emlab" / "outbound"
    try:
        return frozenset(e.name for e in os.scandir(outbound) if e.is_dir(follow_symlinks=False))
    except OSError:
        return frozenset()


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
