"""Sandbox uids of grading slots, and ending every process of one.

One job: reserve for this process an unprivileged uid per grading slot (an exclusive lock
on a file of its own per uid, so two harness runs on one machine never share one), and,
when a slot's submission is done, kill every process of that uid and count those the
submission left running. It kills by uid only, never by a process's name or command line
(those it reads only to count), and never a uid it did not reserve.
"""

from __future__ import annotations

import threading
from pathlib import Path

from . import kernel_forkserver
from .sandbox import HOLDER_COMMAND, kill_uid, uid_processes

__all__ = ["SLOT_UID_BASE", "SLOT_UIDS", "UID_LOCK_DIR", "slot_uid", "clear_uid"]

SLOT_UID_BASE = 61000
SLOT_UIDS = 1000  # sandbox uids SLOT_UID_BASE .. SLOT_UID_BASE + SLOT_UIDS - 1
UID_LOCK_DIR = Path("/run/lock/emlab-sandbox-uids")
_SLOT_UID: dict[int, int] = {}
_SLOT_FILES: list = []  # the open lock files: a uid stays reserved while this process lives
_SLOT_LOCK = threading.Lock()


def slot_uid(slot: int) -> int:
    """The sandbox uid of a grading slot, reserved for this process on this machine.

    Two harness runs on one machine (two shards on a node, two test files run at once)
    must never share a uid: the harness kills every process of a slot's uid when a
    submission is done. Each uid is held with an exclusive lock on a file of its own
    (released by the kernel when the process exits, even killed), so each process takes
    the first uids nobody else holds."""
    import fcntl

    with _SLOT_LOCK:
        if slot in _SLOT_UID:
            return _SLOT_UID[slot]
        UID_LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        for uid in range(SLOT_UID_BASE, SLOT_UID_BASE + SLOT_UIDS):
            if uid in _SLOT_UID.values():
                continue
            fh = open(UID_LOCK_DIR / f"{uid}.lock", "a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            _SLOT_FILES.append(fh)
            _SLOT_UID[slot] = uid
            return uid
        raise RuntimeError(f"every sandbox uid {SLOT_UID_BASE}..{SLOT_UID_BASE + SLOT_UIDS - 1} is in use")


def clear_uid(uid: int, kernel_marker: str) -> int:
    """Kill every process of the sandbox's uid; return how many the submission left running.

    The kernel itself (its command line holds ``kernel_marker``, its runtime folder; a warm
    kernel's is the fork server's) may still be finishing its shutdown when nbgrader exits:
    cutting that short loses nothing, and it is not counted, nor is the process holding a
    warm kernel's sandbox open. Copies of the kernel made by ``os.fork`` share its command
    line: all but one of those are counted."""
    kernels = others = 0
    for pid in uid_processes(uid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone already
        cmdline = cmdline.strip()
        if ("emlab_grader.kernel" in cmdline and kernel_marker in cmdline) or kernel_forkserver.is_server(cmdline):
            kernels += 1
        elif cmdline != HOLDER_COMMAND:
            others += 1
    kill_uid(uid)
    return others + max(0, kernels - 1)
