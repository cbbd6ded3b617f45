"""Grade the staged copy with real ``nbgrader autograde``, within one wall-clock limit.

One job: run ``nbgrader autograde`` on the staged submission (its kernel in the workspace's
sandbox; the judge runs inside that nbgrader process, :mod:`.judge_step`), end every process
the submission left running after each attempt, and when the run goes past the wall-clock
limit or crashes nbgrader, replace the cell that was running in the *staged copy* by one that
raises an error and grade again (at most MAX_SKIPPED_CELLS times, all attempts within the
one limit). Failures become the result's reasons. It never edits the student's own files
or a locked cell, and never reads a verdict (that is :mod:`.apply_verdicts`'s job).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat

from .course import Course
from .nbgrader_run import run_nbgrader
from .results import SubmissionResult
from .sandbox import Limits
from .slots import clear_uid
from .workspace import Workspace

__all__ = ["MAX_SKIPPED_CELLS", "autograde"]

MAX_SKIPPED_CELLS = 2


def autograde(course: Course, student: str, assignment: str, workspace: Workspace, env: dict[str, str],
              result: SubmissionResult, *, limits: Limits, deadline: float) -> bool:
    """Run nbgrader on the staged submission until it completes, skipping at most
    MAX_SKIPPED_CELLS cells that stopped it, before ``deadline`` (``time.monotonic()``).
    Returns whether nbgrader graded it (else the result's status is "failed", with why)."""
    uid = workspace.uid
    args = ["autograde", assignment, "--force",
            f"--CourseDirectory.submitted_directory={os.path.relpath(workspace.staging_root, course.root)}"]
    skipped: set[str] = set()
    for attempt in range(1 + MAX_SKIPPED_CELLS):
        for stale in workspace.judge_out.iterdir():
            stale.unlink()
        code, log, timed_out = run_nbgrader(course, args, env, timeout=max(1.0, deadline - time.monotonic()),
                                            uid=uid)
        if uid is not None:
            left = clear_uid(uid, str(workspace.runtime))
            if left:
                result.reasons.append(f"{left} process(es) the submission left running were killed")
        if not timed_out and code == 0:
            return True
        what = (f"ran past the {limits.wall} s wall-clock limit" if timed_out else
                "crashed nbgrader")
        culprit = _last_started_cell(log)
        if culprit and culprit not in skipped and attempt < MAX_SKIPPED_CELLS and \
                deadline - time.monotonic() > 5 and \
                _neutralise(workspace.files(student, assignment), culprit, what):
            skipped.add(culprit)
            result.reasons.append(f"the grading run {what}; the cell that was running is skipped "
                                  "(it raises an error instead) and the submission was graded again")
            continue
        result.status = "failed"
        if timed_out:
            result.reasons.append(f"grading {what} and was stopped")
        else:
            tail = [line for line in log.splitlines() if "ERROR" in line or "Error" in line][-3:]
            result.reasons.append("nbgrader could not grade it: " + (" | ".join(tail) or log[-300:]))
        return False
    return False


def _last_started_cell(log: str) -> str | None:
    from .execute import CELL_MARKER

    marks = [line.split()[-1] for line in log.splitlines() if line.startswith(CELL_MARKER)]
    return marks[-1] if marks else None


def _neutralise(folder: Path, digest: str, what: str) -> bool:
    """Replace the staged cell whose source has ``digest`` by one that raises an error."""
    from .execute import source_digest

    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and source_digest(cell.source) == digest:
                if cell.get("metadata", {}).get("nbgrader", {}).get("locked"):
                    return False  # a locked cell comes back from the gradebook anyway
                cell.source = (f"raise RuntimeError('The grader skipped this cell: while it ran, the grading run "
                               f"{what}.')")
                nbformat.write(nb, path)
                return True
    return False
