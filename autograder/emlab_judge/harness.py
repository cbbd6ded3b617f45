"""Grade one submission end to end: a short sequence of stages, each a module with one job.

For each ``autograder/submitted/<student>/<assignment>/``, :func:`grade_submission` runs:

1. :mod:`.workspace` makes the grader's own folders for it (a work folder no kernel sees, a
   staging folder of the slot's own; the slot's sandbox uid from :mod:`.slots`);
2. :mod:`.fingerprint` digests what the grade depends on (for the "done" mark);
3. :mod:`.stage` copies the submission into the staging folder, never through a link: each
   notebook checked and repaired by :mod:`.preflight` and scanned by :mod:`.tamper`, the
   regular files beside it copied within size limits, anything else refused with a reason
   (nothing gradable: :func:`.apply_verdicts.record_ungradable`);
4. :func:`.workspace.prepare_kernel` sets up the kernel in the sandbox of :mod:`.sandbox`
   (warm where it can be: :mod:`.kernel_forkserver`), its working folder a throw-away copy
   on the sandbox's capped ``/tmp``;
5. :mod:`.autograde` runs real ``nbgrader autograde`` on the copy in a process of its own
   (:mod:`.nbgrader_run`, :mod:`.nbgrader_process`) within the wall-clock limit, where
   :class:`.execute.ResilientExecute` survives dead or hung kernels and
   :class:`.judge_step.JudgeVerdicts` judges the executed notebook in memory before any score
   is saved; every process of the slot's uid is killed after each attempt;
6. :mod:`.apply_verdicts` turns the verdicts into the result's reasons and flags and keeps
   them (``.emlab-judge.json``) beside the graded notebook, written without following links;
7. :mod:`.fingerprint` writes the "done" mark, :mod:`.results` bounds and stores the result,
   and the workspace is removed.

Nothing one submission does stops another from being graded: every failure becomes a
one-line reason in the report. A judged cell without a valid verdict scores 0.

The names other code used from this module stay importable from it; inside
:mod:`emlab_judge`, import them from their own modules (course, results, fingerprint,
slots, nbgrader_run, gradebook_sync, stage, autograde, apply_verdicts).
"""

from __future__ import annotations

import contextlib
import os
import time

from .apply_verdicts import JUDGE_FILE, MAX_VERDICTS_FILE, apply_verdicts, record_ungradable
from .autograde import MAX_SKIPPED_CELLS, autograde
from .course import Course, discover
from .fingerprint import (DONE_FILE, FINGERPRINT_READ, GRADING_CODE, HARNESS_VERSION, already_graded,
                          grading_code_digest, submission_fingerprint, write_done)
from .gradebook_sync import sync_gradebook
from .manual_grades import restore, snapshot
from .nbgrader_run import LOG_TAIL, STOP, Interrupted, raise_if_stopped, run_nbgrader, stop_all
from .results import MAX_LINE, MAX_LINES, SubmissionResult, store_result, stored_result_path, stored_results
from .sandbox import Limits, sandbox_status
from .slots import SLOT_UID_BASE, SLOT_UIDS, UID_LOCK_DIR, slot_uid
from .stage import MAX_EXTRA_FILE, MAX_EXTRAS, MAX_NOTEBOOK, MAX_SIGNS, stage
from .workspace import open_workspace, prepare_kernel

__all__ = ["Course", "SubmissionResult", "grade_submission", "discover", "sync_gradebook", "already_graded",
           "submission_fingerprint", "grading_code_digest", "stored_results", "stored_result_path", "slot_uid",
           "store_result", "run_nbgrader", "stop_all", "STOP", "Interrupted", "MAX_LINE", "MAX_LINES",
           "HARNESS_VERSION", "DONE_FILE", "JUDGE_FILE", "FINGERPRINT_READ", "GRADING_CODE", "LOG_TAIL",
           "MAX_NOTEBOOK", "MAX_EXTRA_FILE", "MAX_EXTRAS", "MAX_SIGNS", "MAX_SKIPPED_CELLS", "MAX_VERDICTS_FILE",
           "SLOT_UID_BASE", "SLOT_UIDS", "UID_LOCK_DIR"]


def grade_submission(course: Course, student: str, assignment: str, *, slot: int = 0,
                     limits: Limits | None = None, sandbox: bool | None = None) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission did. ``sandbox``
    False grades without bubblewrap (resource limits only; the result is flagged
    UNSANDBOXED), None uses it where it runs. The result is also stored in
    ``course.results`` for the grade report."""
    limits = limits or Limits.from_env()
    started = time.monotonic()
    result = SubmissionResult(student, assignment)
    sandboxed, why = sandbox_status() if sandbox is not False else (False, "disabled by the caller")
    result.sandboxed = sandboxed
    if not sandboxed:
        result.flags.append(f"UNSANDBOXED: {why}")
    workspace = open_workspace(course, slot, slot_uid(slot) if os.geteuid() == 0 and sandboxed else None)
    fingerprint = submission_fingerprint(course, student, assignment)
    try:
        raise_if_stopped()
        with _timed(result, "stage"):
            staged = stage(course, student, assignment, workspace.staging_root, result)
        if not staged:
            result.status = "ungradable"
            record_ungradable(course, student, assignment, result)
            return result  # (the finally clause below still cleans up)
        env = prepare_kernel(workspace, course, student, assignment, limits, sandboxed=sandboxed)
        standing = snapshot(course, student, assignment)  # manual grades that stand, before nbgrader resets them
        with _timed(result, "nbgrader"):
            nbgrader_ok = autograde(course, student, assignment, workspace, env, result,
                                    limits=limits, deadline=started + limits.wall)  # one limit for every attempt
        raise_if_stopped()
        with _timed(result, "verdicts"):
            apply_verdicts(course, student, assignment, result, workspace.judge_out, staged, nbgrader_ok)
            restore(course, student, assignment, standing)
        if result.status == "graded":
            result.seconds = round(time.monotonic() - started, 2)
            write_done(course, student, assignment, fingerprint, result)
    except Interrupted:
        result.status = "interrupted"
        result.reasons.append("the run was interrupted before this submission was graded")
    except Exception as exc:  # a harness failure on one submission never stops the batch
        result.status = "failed"
        result.reasons.append(f"grading error: {type(exc).__name__}: {exc}")
    finally:
        workspace.close()
        result.seconds = round(time.monotonic() - started, 2)
        result.bound()
        if result.status != "interrupted":
            store_result(course, result)
    return result


@contextlib.contextmanager
def _timed(result: SubmissionResult, phase: str):
    """Record in ``result.phases`` how long a stage took, when it completes."""
    mark = time.monotonic()
    yield
    result.phases[phase] = round(time.monotonic() - mark, 3)
