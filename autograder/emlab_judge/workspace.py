"""A submission's workspace: the grader's own folders for it, and its kernel's sandbox.

One job: make the folders one submission is graded in (a work folder no kernel sees, a
staging folder of the slot's own, never shared), set up the sandboxed kernel nbgrader will
start there (the sandbox's spec and limits, warm or cold, its kernelspec, the environment
of the nbgrader process), and remove all of it when the submission is done, with every
process of the slot's uid and its cgroup. The kernel is shown only the staged copy: the
course's staging, submitted and autograded folders (and ``EMLAB_SANDBOX_HIDE``) are hidden
in its sandbox, and its working folder is a throw-away copy on the sandbox's ``/tmp``. It
never reads a submission and never starts a kernel itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import kernel_forkserver
from .cgroup import SlotGroup, slot_group
from .course import Course
from .sandbox import (Limits, SandboxSpec, kernel_argv, kernel_env, kill_uid, matplotlib_fontlist, sandbox_env,
                      write_kernelspec)

__all__ = ["Workspace", "open_workspace", "prepare_kernel"]


@dataclass
class Workspace:
    """One submission's folders, its slot's sandbox uid (None: no uid of its own) and cgroup."""

    work: Path           # the grader's own: no kernel sees it
    staging_root: Path   # the slot's staging folder, never shared
    uid: int | None
    group: SlotGroup | None = None

    @property
    def runtime(self) -> Path:
        return self.work / "runtime"

    @property
    def sockets(self) -> Path:
        return self.work / "sockets"

    @property
    def judge_out(self) -> Path:
        """Where the judge leaves its verdicts (:class:`.judge_step.JudgeVerdicts`)."""
        return self.work / "judge"

    def files(self, student: str, assignment: str) -> Path:
        """The staged copy of the submission."""
        return self.staging_root / student / assignment

    def close(self) -> None:
        """Kill every process of the slot's uid, remove its cgroup and both folders."""
        if self.uid is not None:
            kill_uid(self.uid)
        if self.group is not None:
            self.group.remove()
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.staging_root, ignore_errors=True)


def open_workspace(course: Course, slot: int, uid: int | None) -> Workspace:
    """New, empty folders for one submission graded in ``slot``."""
    work = Path(tempfile.mkdtemp(prefix=f"emlab-grade-{slot}-"))  # the grader's own: no kernel sees it
    course.staging.mkdir(parents=True, exist_ok=True)
    staging_root = Path(tempfile.mkdtemp(prefix=f"slot-{slot}-", dir=course.staging))  # never shared
    return Workspace(work, staging_root, uid)


def prepare_kernel(workspace: Workspace, course: Course, student: str, assignment: str, limits: Limits, *,
                   sandboxed: bool) -> dict[str, str]:
    """Set up the kernel nbgrader will start for the staged submission (in the sandbox when
    ``sandboxed``; warm where it can be) and return the nbgrader process's environment."""
    work, uid = workspace.work, workspace.uid
    runtime, sockets, judge_out = workspace.runtime, workspace.sockets, workspace.judge_out
    runtime.mkdir(mode=0o755)
    judge_out.mkdir(mode=0o700)
    hide = tuple(Path(p) for p in os.environ.get("EMLAB_SANDBOX_HIDE", "").split(os.pathsep) if p)
    fontlist = matplotlib_fontlist(course.staging / "matplotlib")
    workspace.group = slot_group(str(uid), limits.memory + limits.disk, limits.nproc + 16) if uid is not None else None
    spec = SandboxSpec(course.root, files=workspace.files(student, assignment), runtime_dir=runtime,
                       socket_dir=sockets, scratch=work / "kernel", uid=uid,
                       secrets=(course.staging, course.submitted, course.autograded, *hide), fontlist=fontlist,
                       cgroup=workspace.group)
    # warm kernels (forked into this same sandbox from a server that imported the
    # scientific stack once) where they can run; otherwise the kernel starts cold
    warm = kernel_forkserver.shared(sandbox_env(spec), fontlist) \
        if sandboxed and uid is not None else None
    argv = kernel_argv(spec, limits, sandboxed=sandboxed, warm=warm)
    if fontlist is not None and not sandboxed:  # the kernel keeps the grader's MPLCONFIGDIR
        (work / "mpl").mkdir()
        shutil.copy2(fontlist, work / "mpl" / fontlist.name)
    data_dir = work / "jupyter-data"
    write_kernelspec(data_dir, argv, kernel_env(spec, sandboxed=sandboxed))
    # The student is named through EMLAB_STUDENT_ID, which nbgrader_config.py hands to
    # nbgrader as a value (glob-escaped): a command-line value would be parsed (a leading
    # ~ expanded to a home folder, quotes stripped).
    return course.env(JUPYTER_DATA_DIR=str(data_dir), JUPYTER_RUNTIME_DIR=str(work / "client-runtime"),
                      IPYTHONDIR=str(work / "ipython"), MPLCONFIGDIR=str(work / "mpl"),
                      EMLAB_HARNESS="1", EMLAB_RECORD="1", EMLAB_SANDBOX_RUNTIME=str(runtime),
                      EMLAB_SANDBOX_SOCKETS=str(sockets), EMLAB_JUDGE_OUT=str(judge_out),
                      EMLAB_SANDBOX_UID=str(uid) if uid is not None else "", EMLAB_STUDENT_ID=student)
