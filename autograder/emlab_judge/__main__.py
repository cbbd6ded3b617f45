"""``python -m emlab_judge autograde|grades|lms-export``: what make autograde and make grades run.

autograde [--assignment ID] [--student ID] [--jobs N] [--force] [--shard K/N] [--no-sandbox]
    Grades every submission under autograder/submitted/ (or the ones named), JOBS at a
    time (default: JOBS or every core), each on its own in the sandbox, judges the
    verdicts outside the kernel, shows a progress bar (done / total, time left, rate),
    ends with a summary line and writes the run's report to autograder/report/. A
    submission graded completely before and unchanged since (same files, same source and
    release notebooks) is kept, unless --force; an interrupted run loses no grade already
    written and the next run grades what is missing. Exit status 0 whenever grading ran,
    whatever the submissions did.

grades [--csv PATH] [--lms PATH] [--report DIR]
    autograder/grades.csv (nbgrader's export columns), autograder/lms.csv (one row per
    student, a column per assignment) and the grade report autograder/report/grades.html
    with its figures.

lms-export [--to PATH] [--format generic|canvas|moodle] [--assignment ID ...]
    Only the LMS CSV, in the layout given (see emlab_judge.export): scores less late
    penalties, empty where there is no gradable submission, the released labs only (or
    those named), and in the generic layout each cell's state.

extension ASSIGNMENT STUDENT (--days D | --hours H | --clear)
    nbgrader's per-student extension (SubmittedAssignment.extension) on a submission in the
    gradebook: the student is due that much later, for the late penalty and every report.
    Grade the submission again to apply it (make autograde ASSIGNMENT=.. STUDENT=.. FORCE=1).

feedback [--assignment ID] [--student ID]
    nbgrader's feedback for every lab with graded submissions (a lab with none is skipped,
    with a line saying so; one lab failing never stops the others), and a feedback page
    with its reasons for every submission that could not be graded. Exit status 1 when a
    lab's feedback failed.

The gradebook is EMLAB_GRADEBOOK_URL (e.g. postgresql+psycopg://user@host/db) or
autograder/gradebook.db.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .batch import default_jobs, grade_folder
from .export import FORMATS, write_lms_csv
from .course import Course
from .nbgrader_run import run_nbgrader as _nbgrader

DEFAULT_ROOT = str(Path(__file__).resolve().parents[2])


def export_grades_csv(course: Course, path: Path) -> Path:
    """nbgrader's own CSV export (its columns: assignment, duedate, timestamp, student_id,
    last_name, first_name, email, raw_score, late_submission_penalty, score, max_score)."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    code, out, _ = _nbgrader(course, ["export", f"--to={path}", "--log-level=WARN"], course.env(), timeout=600)
    if code != 0:
        raise RuntimeError(f"nbgrader export failed:\n{out[-2000:]}")
    return path


def set_extension(course: Course, assignment: str, student: str, days: float, hours: float, clear: bool) -> int:
    """Set (or clear) nbgrader's extension of ``student`` on ``assignment``; print the new due date."""
    import datetime as dt

    from nbgrader.api import MissingEntry

    from .gradebook import open_gradebook
    from .report import printable

    import math

    if not clear and not (math.isfinite(days) and math.isfinite(hours) and 0 < days * 24 + hours <= 24 * 366):
        raise SystemExit("extension: give --days and/or --hours adding up to more than 0 and at most a year, "
                         "or --clear")
    with open_gradebook(course.db_url, write=True) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            raise SystemExit(f"extension: no submission of {printable(student)} for {printable(assignment)} in the "
                             "gradebook: collect and grade it first") from None
        submission.extension = None if clear else dt.timedelta(days=days, hours=hours)
        gb.db.commit()
        due = submission.duedate
    print(f"{printable(student)} on {printable(assignment)}: "
          + ("no extension" if clear else f"an extension of {dt.timedelta(days=days, hours=hours)}")
          + (f", due {due:%Y-%m-%d %H:%M} UTC" if due else " (the assignment has no due date)")
          + f". Grade it again to apply: make autograde ASSIGNMENT={assignment} STUDENT={student} FORCE=1")
    return 0


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SystemExit(f"--shard takes K/N, e.g. 2/3, not {text!r}") from None
    if not 1 <= k <= n:
        raise SystemExit(f"--shard {text}: K must be between 1 and N")
    return k, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emlab_judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("autograde", help="grade submissions")
    grade.add_argument("--assignment", default=None)
    grade.add_argument("--student", default=None)
    grade.add_argument("--root", default=DEFAULT_ROOT, help="course root")
    grade.add_argument("--submitted", default=None,
                       help="folder of submissions, <student>/<assignment>/ (default: autograder/submitted)")
    grade.add_argument("--force", action="store_true",
                       help="grade again submissions already graded and unchanged since")
    grade.add_argument("--jobs", type=int, default=None,
                       help="submissions graded at once (default: JOBS or the number of cores)")
    grade.add_argument("--shard", default=None, metavar="K/N",
                       help="grade only shard K of N (1-based): N workers on N machines split the batch")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade without the bubblewrap sandbox (flagged UNSANDBOXED in the report)")
    grades = sub.add_parser("grades", help="grades.csv (nbgrader's export), lms.csv and the grade report")
    grades.add_argument("--root", default=DEFAULT_ROOT, help="course root")
    grades.add_argument("--csv", default=None, help="nbgrader's export (default: autograder/grades.csv)")
    grades.add_argument("--lms", default=None, help="LMS CSV (default: autograder/lms.csv)")
    grades.add_argument("--report", default=None, help="report folder (default: autograder/report)")
    lms = sub.add_parser("lms-export", help="one row per student, a column per assignment (Canvas, Moodle)")
    lms.add_argument("--to", default=None, help="CSV path (default: autograder/lms.csv)")
    lms.add_argument("--format", default="generic", choices=FORMATS,
                     help="generic (default), canvas (Canvas's gradebook import) or moodle")
    lms.add_argument("--assignment", action="append", default=None, metavar="ID",
                     help="only this assignment (repeat for several; default: every released one)")
    lms.add_argument("--root", default=DEFAULT_ROOT, help="course root")
    extension = sub.add_parser("extension", help="a student's extension on one assignment (nbgrader's own field)")
    extension.add_argument("assignment")
    extension.add_argument("student")
    extension.add_argument("--days", type=float, default=0.0)
    extension.add_argument("--hours", type=float, default=0.0)
    extension.add_argument("--clear", action="store_true", help="remove the extension")
    extension.add_argument("--root", default=DEFAULT_ROOT, help="course root")
    feedback = sub.add_parser("feedback", help="feedback HTML for every lab with graded work, and for ungradable work")
    feedback.add_argument("--assignment", default=None)
    feedback.add_argument("--student", default=None)
    feedback.add_argument("--root", default=DEFAULT_ROOT, help="course root")
    args = parser.parse_args(argv)

    course = Course(Path(args.root).resolve())
    if args.command == "lms-export":
        try:
            path = write_lms_csv(course, Path(args.to) if args.to else course.autograder / "lms.csv", args.format,
                                 args.assignment or None)
        except ValueError as exc:
            raise SystemExit(f"lms-export: {exc}") from None
        print(f"wrote {path}")
        return 0
    if args.command == "extension":
        return set_extension(course, args.assignment, args.student, args.days, args.hours, args.clear)
    if args.command == "feedback":
        from .feedback import make_feedback
        from .report import printable

        run = make_feedback(course, args.assignment or None, args.student or None)
        for lab, what in run.labs.items():
            print(f"{lab}: feedback {what}" if not what.startswith(("skipped", "failed")) else f"{lab}: {what}")
        for student, lab in run.pages:
            print(f"{lab}: a page for {printable(student)}, whose submission could not be graded")
        for problem in run.problems:
            print(printable(problem))
        return 0 if run.ok else 1
    if args.command == "grades":
        from .grade_report import write_grade_report

        print(f"wrote {export_grades_csv(course, Path(args.csv) if args.csv else course.autograder / 'grades.csv')}")
        print(f"wrote {write_lms_csv(course, Path(args.lms) if args.lms else course.autograder / 'lms.csv')}")
        print(f"wrote {write_grade_report(course, Path(args.report) if args.report else None)}")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)  # like Ctrl-C: stop now, keep every grade written
    try:
        grade_folder(course.root, submitted=args.submitted, jobs=args.jobs or default_jobs(),
                     sandbox=False if args.no_sandbox else None, force=args.force,
                     assignment=args.assignment or None, student=args.student or None,
                     shard=parse_shard(args.shard) if args.shard else None)
    except KeyboardInterrupt:
        return 130
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
