"""One autograde path: nbgrader's own *Autograde* hands its work to the grading harness.

nbgrader 0.9.6 grades in ``nbgrader.converters.autograde.Autograde``, which both the
command line (``nbgrader autograde``, ``AutogradeApp``) and the formgrader's *Autograde*
button (``NbGraderAPI.autograde``) instantiate directly, with no class of the
configuration's choosing. :func:`install` (called by ``autograder/nbgrader_config.py``
whenever nbgrader loads the course configuration outside the harness) replaces its
``start`` with :func:`delegate`, which grades the submissions nbgrader was asked for with
:func:`emlab_judge.batch.grade_folder`, what ``make autograde`` runs: each kernel in the
sandbox, the verdicts judged outside it. Same submission, same gradebook scores and flags.

- nbgrader's selection is kept: the course directory's ``assignment_id`` and ``student_id``
  (glob patterns, ``*`` meaning all; an id that names a folder exactly is taken as it is,
  glob characters and all), ``student_id_exclude``, ``force``;
- failures are reported the nbgrader way: logged, then ``NbGraderException`` (the command
  line exits 1, the formgrader shows the error with the log) when a submission could not
  be graded at all, with the harness's reasons;
- where the harness cannot run, or the course directory is laid out otherwise than the
  harness reads it, autograde refuses with a message naming ``make autograde``: it never
  falls back to stock grading.

The harness's own nbgrader processes (environment ``EMLAB_HARNESS=1``) grade with stock
``Autograde`` in the sandbox's kernel: there the original ``start`` runs.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

__all__ = ["install", "installed", "delegate", "select"]

_MARK = "_emlab_harness_start"
HOW_TO = ("Grade with `make autograde` (python -m emlab_judge autograde), which sandboxes every kernel "
          "and judges the verdicts outside it")


def installed() -> bool:
    """Whether nbgrader's Autograde hands its work to the harness in this process."""
    from nbgrader.converters.autograde import Autograde

    return getattr(Autograde.start, _MARK, False)


def install() -> None:
    """Make nbgrader's Autograde, in this process, grade through the harness (idempotent:
    the formgrader loads the configuration again on every request)."""
    from nbgrader.converters.autograde import Autograde

    if installed():
        return
    stock_start = Autograde.start

    def start(self) -> None:
        if os.environ.get("EMLAB_HARNESS") == "1":  # the harness's own nbgrader process
            return stock_start(self)
        return delegate(self)

    start.__doc__ = "Grade through the EM Lab grading harness (emlab_judge.nbgrader_hook.delegate)."
    setattr(start, _MARK, True)
    Autograde.start = start


def select(pattern: str, names) -> list[str] | None:
    """The names an nbgrader id pattern picks: None for all (``*`` or empty); the id itself
    where a folder has exactly that name; else the names it matches as a glob."""
    if pattern in ("", "*"):
        return None
    names = set(names)
    if pattern in names:
        return [pattern]
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))


def _failure(log, message: str):
    """nbgrader's way: the message logged (the command line shows only the log), then the
    exception (the command exits 1; the formgrader shows its traceback)."""
    from nbgrader.converters.base import NbGraderException

    log.error(message)
    return NbGraderException(message)


def _refuse(log, why: str):
    return _failure(log, f"autograde refused: {why}. Nothing was graded by stock nbgrader. {HOW_TO}.")


def _layout_problems(coursedir, course) -> list[str]:
    """Ways the course directory nbgrader was given differs from what the harness grades."""
    problems = []
    if os.path.normpath(coursedir.directory_structure) != os.path.join("{nbgrader_step}", "{student_id}",
                                                                        "{assignment_id}"):
        problems.append("CourseDirectory.directory_structure is not nbgrader's default, the harness's layout")
    if os.path.realpath(os.path.join(course.root, coursedir.autograded_directory)) != \
            os.path.realpath(course.autograded):
        problems.append(f"CourseDirectory.autograded_directory is not the course's {course.autograded}")
    if coursedir.db_url != course.db_url:
        problems.append("CourseDirectory.db_url is not the course's gradebook (EMLAB_GRADEBOOK_URL or "
                        "autograder/gradebook.db)")
    return problems


def _folders(path: Path) -> list[str]:
    """The names in a folder (the harness decides which of them it grades, and how)."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def delegate(converter) -> None:
    """Grade what ``converter`` (an nbgrader Autograde) was asked to grade, with the harness.

    Raises NbGraderException when nothing matched, when the harness cannot run or refuses
    the layout, and when a submission could not be graded at all."""
    from nbgrader.apps.api import NbGraderAPI

    log, coursedir = converter.log, converter.coursedir
    try:
        from .batch import grade_folder
        from .course import Course
        from .report import write_report
        from .results import stored_results
    except Exception as exc:  # a broken installation: refuse, never grade stock
        raise _refuse(log, f"the grading harness cannot be loaded ({type(exc).__name__}: {exc})") from exc

    root = Path(coursedir.root).resolve()
    submitted = Path(os.path.normpath(os.path.join(root, coursedir.submitted_directory)))
    course = Course(root, submitted)
    problems = _layout_problems(coursedir, course)
    if problems:
        raise _refuse(log, "; ".join(problems))

    in_formgrader = isinstance(converter.parent, NbGraderAPI)
    if in_formgrader:  # the formgrader names one student: taken literally, never as a pattern
        students = [coursedir.student_id] if coursedir.student_id in _folders(submitted) else []
    else:
        students = select(coursedir.student_id, _folders(submitted))
    excluded = {s.strip() for s in coursedir.student_id_exclude.split(",") if s.strip()}
    if excluded:
        students = [s for s in (students if students is not None else _folders(submitted)) if s not in excluded]
    assignments = select(coursedir.assignment_id, _folders(root / "solutions"))
    asked = f"assignment {coursedir.assignment_id!r}, student {coursedir.student_id or '*'!r}"
    if students == [] or assignments == []:
        raise _failure(log, f"No submission matched {asked} in {submitted}")
    if coursedir.notebook_id not in ("", "*"):
        log.warning("the harness grades every notebook of a submission, not only %r", coursedir.notebook_id)

    log.info("Autograding %s through the grading harness (what `make autograde` runs): each kernel in the "
             "sandbox, the verdicts judged outside it", asked)
    calls = [(a, s) for a in (assignments or [None]) for s in (students or [None])]
    results, sandboxed = [], True
    try:
        for assignment, student in calls:
            run = grade_folder(root, submitted=submitted, assignment=assignment, student=student,
                               force=bool(converter.force), progress=False if in_formgrader else sys.stderr,
                               report=len(calls) == 1)
            results += run.results
            sandboxed &= run.sandboxed
        if len(calls) > 1 and results:
            write_report(results, course.autograder / "report", stored_results(course))
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        raise _refuse(log, f"the grading harness could not run ({type(exc).__name__}: {exc})") from exc
    _report(log, results, sandboxed, asked, submitted)


def _report(log, results, sandboxed: bool, asked: str, submitted: Path) -> None:
    """Log each submission's outcome; raise NbGraderException when one could not be graded."""
    if not results:
        raise _failure(log, f"No submission matched {asked} in {submitted}")
    if not sandboxed:
        log.warning("UNSANDBOXED: the sandbox cannot run here; student code ran without it")
    failed = []
    for r in results:
        log.info("%s/%s: %s, %g / %g", r.student, r.assignment, r.status, r.score, r.max_score)
        for flag in r.flags:
            log.warning("%s/%s: %s", r.student, r.assignment, flag)
        for reason in r.reasons:
            log.info("%s/%s: %s", r.student, r.assignment, reason)
        if r.status not in {"graded", "unchanged"}:
            failed.append(r)
    if failed:
        lines = [f"{r.student}/{r.assignment} ({r.status}): {'; '.join(r.reasons) or 'no reason given'}"
                 for r in failed]
        raise _failure(log, f"{len(failed)} of {len(results)} submission(s) could not be graded by the grading "
                            "harness:\n" + "\n".join(lines))
