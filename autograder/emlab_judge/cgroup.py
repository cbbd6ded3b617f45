"""A control group per grading slot: the sandbox's memory and processes counted together.

``prlimit`` limits each process's address space; a submission that starts 60 processes of
2 GiB each would still take the machine's memory. Where the machine lets the grader make
control groups (as root, cgroup v2 or the v1 ``memory`` and ``pids`` hierarchies), each
slot's kernel runs in a group of its own whose memory (``Limits.memory`` plus the sandbox's
``/tmp``, which is memory too) and process count are limits for the whole sandbox: past
them the kernel is stopped and the cell says so. Elsewhere the per-process limits stand and
:func:`slot_group` returns None.

The kernel joins its group before bubblewrap starts (:meth:`SlotGroup.wrap`): a shell
writes its own PID (``0``) into each group's ``cgroup.procs`` and runs the rest of the
command, so nothing the kernel starts is ever outside the group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SlotGroup", "slot_group"]

ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class SlotGroup:
    """The group folders of one slot (one per hierarchy) and their ``cgroup.procs``."""

    folders: tuple[Path, ...]

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the group."""
        joins = " && ".join(f"echo 0 > '{folder / 'cgroup.procs'}'" for folder in self.folders)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "emlab-cgroup", *argv]

    def remove(self) -> None:
        """Remove the groups (once their processes are gone; an error is left for next time)."""
        for folder in self.folders:
            try:
                folder.rmdir()
            except OSError:
                pass


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def slot_group(name: str, memory: int, pids: int) -> SlotGroup | None:
    """Make (or reuse) the groups ``emlab-<name>`` with the limits; None where they cannot
    be made here (not root, no writable hierarchy)."""
    if os.geteuid() != 0 or os.environ.get("EMLAB_CGROUPS", "").lower() in {"0", "off", "no"}:
        return None
    try:
        if (ROOT / "cgroup.controllers").exists():  # cgroup v2 at the root
            folder = ROOT / f"emlab-{name}"
            folder.mkdir(exist_ok=True)
            _write(folder / "memory.max", str(memory))
            _write(folder / "memory.swap.max", "0")
            _write(folder / "pids.max", str(pids))
            return SlotGroup((folder,))
        memory_root, pids_root = ROOT / "memory", ROOT / "pids"
        if not (memory_root / "cgroup.procs").exists() or not (pids_root / "cgroup.procs").exists():
            return None
        mem, pid = memory_root / f"emlab-{name}", pids_root / f"emlab-{name}"
        mem.mkdir(exist_ok=True)
        pid.mkdir(exist_ok=True)
        _write(mem / "memory.limit_in_bytes", str(memory))
        if (mem / "memory.memsw.limit_in_bytes").exists():
            try:
                _write(mem / "memory.memsw.limit_in_bytes", str(memory))
            except OSError:
                pass
        _write(pid / "pids.max", str(pids))
        return SlotGroup((mem, pid))
    except OSError:
        return None
