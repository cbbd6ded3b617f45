"""nbgrader's Execute preprocessor, made to survive a kernel that dies or hangs.

Stock nbgrader fails the whole submission when the kernel dies (``os._exit``, a memory
or CPU limit) or when a cell ignores the interrupt sent at its time limit. Here the
offending cell gets an error output that says what happened, the kernel is restarted,
the cells before it are run again (their outputs kept as they were), and grading goes
on with the next cell: only what depended on that cell is lost.
"""

from __future__ import annotations

import asyncio
import os

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

__all__ = ["ResilientExecute"]

RESPONSIVE_WITHIN = 5.0  # seconds a kernel has to answer after a timed-out cell


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
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs = list(cell.get("outputs", []))
            _error(cell, "KernelDied", "the kernel died while running this cell (it may have exited, or run "
                                       "out of memory, CPU time or processes); the grader restarted it and "
                                       "went on with the next cell")
            self._restart_and_replay(index)
            return cell, self.resources
        except CellTimeoutError:
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("ename") != "CellTimeoutError"]
            _error(cell, "CellTimeoutError", f"this cell ran past the {self.timeout} s time limit and ignored "
                                             "the interrupt; the grader restarted the kernel and went on")
            self._restart_and_replay(index)
            return cell, self.resources
        timed_out = any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                        for o in cell.get("outputs", []))
        if timed_out and not run_sync(self._async_responsive)():
            _error(cell, "CellTimeoutError", f"this cell ran past the {self.timeout} s time limit and ignored "
                                             "the interrupt; the grader restarted the kernel and went on")
            self._restart_and_replay(index)
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

    def _restart_and_replay(self, index: int) -> None:
        run_sync(self._async_restart_and_replay)(index)

    async def _async_restart_and_replay(self, index: int) -> None:
        self.log.warning("Restarting the kernel after cell %d and replaying the cells before it", index)
        if self.kc is not None:
            await ensure_async(self.kc.stop_channels())
        await ensure_async(self.km.restart_kernel(now=True))
        await self.async_start_new_kernel_client()
        for previous in self.nb.cells[:index]:
            if previous.cell_type != "code" or any(
                o.get("ename") in {"KernelDied", "CellTimeoutError"} for o in previous.get("outputs", [])
            ):
                continue
            # outputs of the replay are discarded: the cell keeps those of its first run
            if not await self._async_run_quietly(previous.source, self.timeout or 60):
                break
