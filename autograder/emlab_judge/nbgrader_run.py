"""Run one nbgrader command in a process of its own, within a time limit; stop every run at once.

One job: start ``nbgrader ARGS`` (forked with nbgrader already imported:
:mod:`.nbgrader_process`) in its own session with its output in a file of the grader's,
wait for it up to a wall-clock limit, then kill its whole process group and every process
of its sandbox's uid; and, when the run is stopped (Ctrl-C, SIGTERM), start no more and kill
those running (:func:`stop_all`, :data:`STOP`, :class:`Interrupted`). It never reads more
than the tail of nbgrader's log, never decides a grade, and kills processes only by the
process group it started and the sandbox uid it was given.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from pathlib import Path

from .course import Course
from .sandbox import kill_uid

__all__ = ["LOG_TAIL", "STOP", "Interrupted", "raise_if_stopped", "run_nbgrader", "stop_all"]

LOG_TAIL = 1024 ** 2  # bytes of nbgrader's log read back


class Interrupted(Exception):
    """The run is being stopped (Ctrl-C, SIGTERM): this submission is left for the next run."""


STOP = threading.Event()  # set by stop_all(); cleared by the next batch
_RUNNING: dict[int, int | None] = {}  # PID of each nbgrader child -> its sandbox uid
_RUNNING_LOCK = threading.Lock()


def raise_if_stopped() -> None:
    """Raise :class:`Interrupted` when the run is being stopped."""
    if STOP.is_set():
        raise Interrupted("the run was interrupted")


def run_nbgrader(course: Course, args: list[str], env: dict, timeout: float | None = None,
                 uid: int | None = None) -> tuple[int | None, str, bool]:
    """Run ``nbgrader ARGS`` in a process of its own (forked with nbgrader already imported:
    :mod:`.nbgrader_process`), in its own session, its output in a file (a kernel left
    running must not hold a pipe open). At the time limit the whole group is killed, with
    every process of the sandbox's uid. Returns (exit code, output, timed out)."""
    from . import nbgrader_process

    with tempfile.TemporaryDirectory(prefix="emlab-nbgrader-") as tmp:
        log_path = Path(tmp) / "output.log"
        with _RUNNING_LOCK:
            raise_if_stopped()
            proc = nbgrader_process.start(args, course.root, env, log_path)
            _RUNNING[proc.pid] = uid
        timed_out = False
        try:
            proc.join(timeout)
            if proc.exitcode is None:
                timed_out = True
                _kill_group(proc.pid)  # the session the child made, by its leader's PID
                proc.kill()
                if uid is not None:
                    kill_uid(uid)
                proc.join(60)
        finally:
            with _RUNNING_LOCK:
                _RUNNING.pop(proc.pid, None)
        raise_if_stopped()
        try:
            with open(log_path, "rb") as fh:  # nbgrader's own log (no kernel writes to it): its tail
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - LOG_TAIL))
                output = fh.read(LOG_TAIL).decode("utf-8", "replace")
        except OSError:
            output = ""
        return proc.exitcode, output, timed_out


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_all() -> None:
    """Stop the run now (from the thread that caught Ctrl-C): no nbgrader child starts any
    more, the running ones are killed with their sandboxes, their submissions are left
    ungraded (no grade written for them, no "done" mark) for the next run. Grades already
    written stay."""
    with _RUNNING_LOCK:
        STOP.set()
        running = dict(_RUNNING)
    for pid, uid in running.items():
        _kill_group(pid)
        if uid is not None:
            kill_uid(uid)
