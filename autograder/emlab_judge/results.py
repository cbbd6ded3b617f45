"""Submission results: what grading one submission found, kept within bounds and stored.

One job: the record of one submission's outcome (status, score, reasons, flags, the
judge's messages, per-cell points, where the time went), the bounds on what it quotes from
a submission (at most MAX_LINES lines of MAX_LINE characters, valid UTF-8), and its stored
copy in ``course.results`` for the grade report. It never writes through a link (each
outcome is written by a new name and renamed into place) and never reads a stored outcome
unbounded; it grades nothing and touches no gradebook.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .course import Course
from .safe_fs import MiB, read_regular, write_atomic
from .text import cut_at_word, valid_utf8

__all__ = ["SubmissionResult", "MAX_LINES", "MAX_LINE", "stored_result_path", "store_result", "stored_results"]

MAX_LINES = 100   # reasons, flags, or messages of one check, kept per submission
MAX_LINE = 2_000  # characters of one


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    status: str = "graded"  # graded | ungradable | failed | interrupted (| unchanged, when kept)
    score: float = 0.0
    max_score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    messages: dict[str, list[str]] = field(default_factory=dict)
    cells: dict[str, float] = field(default_factory=dict)  # grade_id -> points earned
    sandboxed: bool = True
    seconds: float = 0.0
    # where the seconds went: stage (copy and checks), nbgrader (its process, kernel
    # included), kernel_start and execute (inside it: starting kernels; every cell), judge,
    # verdicts (scores and reasons written)
    phases: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    def bound(self) -> "SubmissionResult":
        """Keep what the result quotes within reports' reach, in place: at most MAX_LINES
        reasons, flags and messages per check (then one line saying how many more), each at
        most MAX_LINE characters, every string valid UTF-8 (a lone surrogate, which a hand-made
        kernel message can carry, as a backslash escape). The ids are left as they are (they
        name files and gradebook rows). Returns the result."""
        self.reasons = _bounded_lines(self.reasons, "reason")
        self.flags = _bounded_lines(self.flags, "flag")
        self.messages = {_clean_text(k, MAX_LINE): _bounded_lines(v, "message")
                         for k, v in list(self.messages.items())[:MAX_LINES]}
        return self


def _clean_text(value, limit: int) -> str:
    return valid_utf8(cut_at_word(value if isinstance(value, str) else str(value), limit))


def _bounded_lines(lines, what: str) -> list[str]:
    lines = list(lines) if isinstance(lines, (list, tuple)) else [lines]
    kept = [_clean_text(line, MAX_LINE) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        kept.append(f"... and {len(lines) - MAX_LINES:,} more {what}(s) not shown")
    return kept


def _result_name(student: str) -> str:
    """The file name of a student's stored result: the id made safe for a file name (any
    character, a slash or a leading dot included), with a digest against collisions."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in student)[:80]
    return f"{safe}-{hashlib.sha256(student.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}.json"


def stored_result_path(course: Course, student: str, assignment: str) -> Path:
    """Where a submission's outcome is kept (assignment ids are the course's own folder
    names; student ids are made safe by :func:`_result_name`)."""
    return course.results / assignment / _result_name(student)


def store_result(course: Course, result: SubmissionResult) -> None:
    """Keep the outcome (status, reasons, flags, the judge's messages) for the grade report,
    written atomically, never through a link."""
    try:
        path = stored_result_path(course, result.student, result.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path.parent, path.name, json.dumps(result.to_json(), indent=1))
    except OSError:
        pass  # the gradebook holds the grade; only the report's details are lost


def stored_results(course: Course) -> list[SubmissionResult]:
    """Every submission's last stored outcome, sorted by (assignment, student)."""
    results = []
    if not course.results.is_dir():
        return results
    for folder in sorted(course.results.iterdir()):
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.suffix != ".json":
                continue  # a write in progress (or left by a killed run): not an outcome
            try:
                results.append(SubmissionResult(**json.loads(read_regular(path, 16 * MiB))).bound())
            except (OSError, ValueError, TypeError) as exc:  # shown, never silently left out
                results.append(SubmissionResult(
                    student=path.stem, assignment=folder.name, status="failed",
                    reasons=[f"the stored outcome {path.name} could not be read ({type(exc).__name__}): "
                             "grade this submission again"]).bound())
    return sorted(results, key=lambda r: (r.assignment, r.student))
