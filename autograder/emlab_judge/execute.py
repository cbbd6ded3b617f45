"""nbgrader's Execute preprocessor, made to survive a kernel that dies or hangs.

Stock nbgrader fails the whole submission when the kernel dies (``os._exit``, a memory
or CPU limit) or when a cell ignores the interrupt sent at its time limit. Here the
offending cell gets an error output that says what happened, the kernel is restarted,
the cells before it are run again (their outputs kept as they were), and grading goes
on with the next cell: only what depended on that cell is lost.

:class:`TruncateOutput` cuts outputs that nbgrader's line-based LimitOutput lets through
(one 100 MB line), so a flood never reaches the gradebook's notebook or the feedback.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

__all__ = ["ResilientExecute", "TruncateOutput", "CELL_MARKER", "source_digest"]

RESPONSIVE_WITHIN = 5.0  # seconds a kernel has to answer after a timed-out cell
CELL_MARKER = "EMLAB-CELL-START"


def source_digest(source: str) -> str:
    """A short fingerprint of a cell's source, stable across nbgrader's copies."""
    return hashlib.sha1(source.strip().encode()).hexdigest()[:16]


def _error(cell: NotebookNode, ename: str, message: str) -> None:
    cell.outputs.append(NotebookNode(output_type="error", ename=ename, evalue=message,
                                     traceback=[f"{ename}: {message}"]))


class ResilientExecute(Execute):
    """Execute that restarts a dead or unresponsive kernel and carries on.

    Under the grading harness (EMLAB_HARNESS=1) kernels are started by
    :class:`emlab_judge.sandbox.SandboxKernelManager` (nbgrader's Execute passes its own
    kernel manager class as an argument, which would override configuration)."""

    def __init__(self, *args, **kwargs):
        if os.environ.get("EMLAB_HARNESS") == "1":
            from .sandbox import SandboxKernelManager
            kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(*args, **kwargs)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            # for the harness: which cell was running if this whole process has to be killed
            print(f"{CELL_MARKER} {source_digest(cell.source)}", file=sys.stderr, flush=True)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs = list(cell.get("outputs", []))
            killed = self._restart_and_replay(index)
            _error(cell, "KernelDied", "the kernel died while running this cell (it may have exited, or run "
                                       "out of memory, CPU time or processes)" + _killed(killed)
                                       + "; the grader restarted it and went on with the next cell")
            return cell, self.resources
        except CellTimeoutError:
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("ename") != "CellTimeoutError"]
            killed = self._restart_and_replay(index)
            _error(cell, "CellTimeoutError", f"this cell ran past the {self.timeout} s time limit and ignored "
                                             "the interrupt" + _killed(killed)
                                             + "; the grader restarted the kernel and went on")
            return cell, self.resources
        timed_out = any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                        for o in cell.get("outputs", []))
        if timed_out and not run_sync(self._async_responsive)():
            killed = self._restart_and_replay(index)
            _error(cell, "CellTimeoutError", f"this cell ran past the {self.timeout} s time limit and ignored "
                                             "the interrupt" + _killed(killed)
                                             + "; the grader restarted the kernel and went on")
        return cell, self.resources

    async def _async_run_quietly(self, source: str, timeout: float) -> bool:
        """Run code in the kernel, outputs discarded; True when it replied within ``timeout``."""
        try:
            msg_id = await ensure_async(self.kc.execute(source, store_history=False, allow_stdin=False))
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return False
                reply = await ensure_async(self.kc.get_shell_msg(timeout=left))
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
        except Exception:
            return False

    async def _async_responsive(self) -> bool:
        """Does the kernel answer a trivial request within RESPONSIVE_WITHIN seconds?"""
        return await self._async_run_quietly("pass", RESPONSIVE_WITHIN)

    def _restart_and_replay(self, index: int) -> int:
        """Restart the kernel and replay the cells before ``index``; return how many
        processes of the sandbox besides the kernel had to be killed first."""
        return run_sync(self._async_restart_and_replay)(index)

    async def _async_restart_and_replay(self, index: int) -> int:
        self.log.warning("Restarting the kernel after cell %d and replaying the cells before it", index)
        if self.kc is not None:
            await ensure_async(self.kc.stop_channels())
        # a fork bomb's children hold the sandbox's process quota: clear them all first
        kernel_alive = bool(await ensure_async(self.km.is_alive()))
        killed = self.km.kill_sandbox_processes() if hasattr(self.km, "kill_sandbox_processes") else 0
        killed = max(0, killed - kernel_alive)  # the kernel itself, when it still ran, is not "other"
        await ensure_async(self.km.restart_kernel(now=True))
        await self.async_start_new_kernel_client()
        for previous in self.nb.cells[:index]:
            # cells that failed (a hog that ran out of memory, say) are not run again
            if previous.cell_type != "code" or any(o.get("output_type") == "error"
                                                   for o in previous.get("outputs", [])):
                continue
            # outputs of the replay are discarded: the cell keeps those of its first run
            if not await self._async_run_quietly(previous.source, self.timeout or 60):
                break
        return killed


def _killed(count: int) -> str:
    """The clause of an error message saying how many processes the cell had left."""
    return f"; {count} other process(es) it had started were killed" if count else ""


class TruncateOutput(NbGraderPreprocessor):
    """Cut any text output longer than ``max_chars`` (nbgrader's LimitOutput counts lines,
    so a single 100 MB line passes it), keeping the head and saying how much was cut."""

    max_chars = 20_000
    marker = "... output truncated by the grader"

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            fields = [("text", output)] if output.get("output_type") == "stream" else [
                (key, output.get("data", {})) for key in ("text/plain", "text/html")
                if key in output.get("data", {})]
            for key, holder in fields:
                text = holder[key] if isinstance(holder[key], str) else "".join(holder[key])
                if len(text) > self.max_chars:
                    holder[key] = (text[: self.max_chars] + f"\n{self.marker} ({len(text) / 1e6:.1f} MB in all) ...\n")
        return cell, resources
