"""Feedback for every lab that has graded work, and a page for every submission that could not
be graded.

One job: what ``make feedback`` runs (``python -m emlab_judge feedback``). For each lab
asked for, nbgrader's ``generate_feedback`` runs when the lab has graded submissions
(a folder under ``autograder/autograded/``); a lab without any is skipped with a line saying
so, and one lab failing never stops the others. Then each submission whose latest result is
ungradable or failed gets a feedback page of its own, with the reasons, so its student
learns why there is no score (nbgrader makes none: there is no graded notebook). The page
sits where nbgrader's pages do (``feedback/<student>/<lab>/<notebook>.html``), with the
``timestamp.txt`` and ``submission_secret.txt`` that ``nbgrader release_feedback`` needs to
return it through the exchange.

Everything on such a page can come from a submission (the reasons quote it), so it is
HTML-escaped; files are written through no link; a student id that is not a plain folder
name gets no page (it is reported).
"""

from __future__ import annotations

import html
import os
import secrets
import re
import stat
from dataclasses import dataclass, field

from .course import Course
from .nbgrader_run import run_nbgrader
from .report import html_text
from .results import SubmissionResult, stored_results
from .safe_fs import UnsafeFile, open_dir, read_regular, write_atomic

__all__ = ["FeedbackRun", "make_feedback", "ungradable_page", "student_reasons"]

_SECRET = re.compile(r"[0-9a-f]{16,256}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+(?: ?[A-Za-z+\-:0-9]*)?")
NOT_GRADED = {"ungradable", "failed"}


@dataclass
class FeedbackRun:
    """What a feedback run did: lab -> "made" | "skipped: ..." | "failed: ...", the ungradable
    pages written (student, lab), and the problems met (each a line for the instructor)."""

    labs: dict[str, str] = field(default_factory=dict)
    pages: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not any(v.startswith("failed") for v in self.labs.values())


def _labs(course: Course, assignment: str | None) -> list[str]:
    labs = course.assignments
    if assignment is not None and assignment not in labs:
        raise SystemExit(f"no lab {assignment!r}; the labs are {', '.join(labs)}")
    return [assignment] if assignment else labs


# reasons written for the instructor (the harness's own failures, nbgrader's log): a student is
# told the grader failed, not its internals
_INSTRUCTOR_ONLY = ("grading error:", "nbgrader could not grade it", "nbgrader's output", "the run was interrupted")


def student_reasons(result: SubmissionResult) -> list[str]:
    """The reasons a student can act on; the grader's own failures as one plain sentence."""
    shown = [r for r in result.reasons if not r.startswith(_INSTRUCTOR_ONLY)]
    if result.status == "failed" or len(shown) < len(result.reasons):
        shown.append("the grader itself failed on this submission; your instructor has been told and will grade it "
                     "again")
    return shown


def ungradable_page(result: SubmissionResult, notebook: str) -> str:
    """The feedback page of a submission that could not be graded: the lab, the notebook, and
    the reasons a student can act on, escaped."""
    reasons = "".join(f"<li>{html_text(r)}</li>" for r in student_reasons(result)) \
        or "<li>no reason was recorded</li>"
    title = f"Feedback: {html.escape(result.assignment)} / {html.escape(notebook)}"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body style=\"font-family: sans-serif; max-width: 48em; margin: 2em auto; line-height: 1.5\">\n"
            f"<h1>{title}</h1>\n"
            f"<p><strong>Your submission could not be graded, so it has no score yet.</strong> "
            f"Nothing in it was marked wrong: the grader stopped before it could check your answers, "
            f"for the reason{'s' if len(result.reasons) > 1 else ''} below.</p>\n<ul>{reasons}</ul>\n"
            f"<p>What to do: open the notebook you submitted, fix what is named above (run it from the top with "
            f"<em>Restart and Run All</em>; nbgrader's <em>Validate</em> button shows the same problems), "
            f"and submit again; or ask your instructor.</p>\n</body></html>\n")


def _ensure_dir(parent_fd: int, name: str) -> int:
    """Open the folder ``name`` in the folder ``parent_fd``, making it when missing, never
    through a link."""
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        pass
    st = os.lstat(name, dir_fd=parent_fd)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeFile(f"{name} is not a folder")
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)


def _exchange_files(course: Course, student: str, assignment: str) -> dict[str, str]:
    """timestamp.txt and submission_secret.txt of the submission, when they are small regular
    files of the expected form (the student wrote them); what is missing or odd becomes a
    timestamp of now and a fresh random secret (release_feedback then releases a page the
    student's fetch will not match, and goes on to the others)."""
    folder = course.submitted / student / assignment
    found = {}
    for name, form in (("timestamp.txt", _TIMESTAMP), ("submission_secret.txt", _SECRET)):
        try:
            text = read_regular(folder / name, 1024).decode("ascii").strip()
        except (OSError, UnsafeFile, UnicodeDecodeError):
            text = ""
        found[name] = text if form.fullmatch(text) else ""
    if not found["timestamp.txt"]:
        import datetime as dt

        found["timestamp.txt"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    if not found["submission_secret.txt"]:
        # nbgrader's release_feedback hashes the page's name with the secret and stops on an empty
        # one; a fresh secret lets it release the page (which no fetch will then match) and go on
        found["submission_secret.txt"] = secrets.token_hex(64)
    return found


def _write_page(course: Course, result: SubmissionResult) -> None:
    if "/" in result.student or result.student in {"", ".", ".."} or "\0" in result.student:
        raise UnsafeFile(f"the student id {result.student!r} is not a folder name")
    notebooks = [p.stem for p in course.source_notebooks(result.assignment)] or [result.assignment]
    files = _exchange_files(course, result.student, result.assignment)
    os.makedirs(course.autograder / "feedback", exist_ok=True)
    top = open_dir(course.autograder / "feedback")
    try:
        sfd = _ensure_dir(top, result.student)
        try:
            afd = _ensure_dir(sfd, result.assignment)
            os.close(afd)
        finally:
            os.close(sfd)
    finally:
        os.close(top)
    folder = course.autograder / "feedback" / result.student / result.assignment
    for name in notebooks:
        write_atomic(folder, f"{name}.html", ungradable_page(result, f"{name}.ipynb"))
    for name, text in files.items():
        write_atomic(folder, name, text)


def make_feedback(course: Course, assignment: str | None = None, student: str | None = None,
                  *, timeout: float = 1800.0) -> FeedbackRun:
    """Feedback for the labs asked for (every lab by default) and, optionally, one student."""
    run = FeedbackRun()
    for lab in _labs(course, assignment):
        graded = course.graded_students(lab)
        if student is not None:
            graded = [s for s in graded if s == student]
        if not graded:
            run.labs[lab] = "skipped: no graded submissions yet"
            continue
        args = ["generate_feedback", lab, "--force", "--log-level=WARN"]
        if student is not None:
            args.append(f"--student={student}")
        code, out, timed_out = run_nbgrader(course, args, course.env(), timeout=timeout)
        if code == 0:
            run.labs[lab] = f"made for {len(graded)} graded submission(s)"
        else:
            tail = " ".join(out.strip().splitlines()[-3:])[-400:]
            run.labs[lab] = "failed: " + ("ran past its time limit" if timed_out else f"nbgrader said: {tail}")
    labs = set(run.labs)
    for result in stored_results(course):
        if result.assignment not in labs or result.status not in NOT_GRADED:
            continue
        if student is not None and result.student != student:
            continue
        if not os.path.isdir(course.submitted / result.student / result.assignment):
            continue   # nothing was handed in under that name (an unreadable stored outcome, say)
        try:
            _write_page(course, result)
            run.pages.append((result.student, result.assignment))
        except (OSError, UnsafeFile) as exc:
            run.problems.append(f"no feedback page for {result.student!r} on {result.assignment}: {exc}")
    return run
