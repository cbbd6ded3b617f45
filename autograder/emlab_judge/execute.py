"""nbgrader's Execute preprocessor, made to survive a kernel that dies or hangs.

Stock nbgrader fails the whole submission when the kernel dies (``os._exit``, a memory
or CPU limit) or when a cell ignores the interrupt sent at its time limit. Here the
offending cell gets an error output that says what happened, the kernel is restarted,
the cells before it are run again (their outputs kept as they were), and grading goes
on with the next cell: only what depended on that cell is lost.

:class:`OutputBudget` caps every output as it arrives from the kernel, of every MIME type
(two 100 MB PNGs, a 50 MB exception message), and the notebook's outputs in all, so the
grader's memory and the graded notebook stay small whatever a cell prints.
:class:`TruncateOutput` cuts text outputs that nbgrader's line-based LimitOutput lets
through (one 100 MB line).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import time

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

__all__ = ["ResilientExecute", "TruncateOutput", "OutputBudget", "CELL_MARKER", "source_digest", "incidents"]

RESPONSIVE_WITHIN = 5.0  # seconds a kernel has to answer after a timed-out cell
CELL_MARKER = "EMLAB-CELL-START"


def source_digest(source: str) -> str:
    """A short fingerprint of a cell's source, stable across nbgrader's copies."""
    return hashlib.sha1(source.strip().encode()).hexdigest()[:16]


def _error(cell: NotebookNode, ename: str, message: str) -> None:
    cell.outputs.append(NotebookNode(output_type="error", ename=ename, evalue=message,
                                     traceback=[f"{ename}: {message}"]))


class OutputBudget:
    """Caps on what a kernel may send back, applied to each message as it arrives.

    per_output : bytes of one output (any MIME type; text, image, HTML, JSON)
    per_record : bytes of one grading record (:data:`emlab_grader.record.MIME`)
    total : bytes of all outputs of the notebook; past it outputs are replaced by a note
    error_chars : characters of an error's message; its traceback is cut to
        ``traceback_lines`` lines of at most ``error_chars`` characters
    """

    per_output = 2 * 1024 ** 2
    per_record = 16 * 1024 ** 2
    total = 16 * 1024 ** 2
    records_total = 64 * 1024 ** 2
    error_chars = 4000
    traceback_lines = 60
    errors_per_cell = 20
    note = "[removed by the grader: "

    OUTPUT_KINDS = frozenset({"stream", "display_data", "execute_result", "update_display_data", "error",
                              "comm_open", "comm_msg", "clear_output"})

    def __init__(self):
        self.used = 0
        self.records_used = 0
        self.over = False
        self.dropped = 0  # output messages received after the budget ran out
        self._errors: dict[int, int] = {}
        self._streams: set = set()

    @staticmethod
    def _size(value) -> int:
        if isinstance(value, str):
            return len(value)
        if isinstance(value, list):
            return sum(len(v) if isinstance(v, str) else 64 for v in value)
        try:
            import json
            return len(json.dumps(value, default=str))
        except (TypeError, ValueError, RecursionError):
            return 1 << 40

    def keep(self, msg: dict, cell_index: int) -> bool:
        """Whether a message is kept at all. Once the budget is spent, outputs are dropped,
        but never what decides a score: a grading record, a cell's first errors (an error
        means 0 points) and its first stderr text (so does that)."""
        from emlab_grader.record import MIME

        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        content = msg.get("content") if isinstance(msg.get("content"), dict) else {}
        if kind == "error":
            seen = self._errors.get(cell_index, 0)
            self._errors[cell_index] = seen + 1
            return seen < self.errors_per_cell
        if not self.over or kind not in self.OUTPUT_KINDS:
            return True
        if kind == "display_data" and isinstance(content.get("data"), dict) and MIME in content["data"]:
            return True
        if kind == "stream":
            key = (cell_index, content.get("name"))
            if key not in self._streams:
                self._streams.add(key)
                content["text"] = f"{TruncateOutput.marker} (the notebook's outputs passed " \
                                  f"{self.total // 1024 ** 2} MB) ...\n"
                return True
        self.dropped += 1
        return False

    def _placeholder(self, what: str) -> dict:
        return {"text/plain": f"{self.note}{what}]"}

    def apply(self, msg: dict) -> None:
        """Cut the message's content in place to fit the budget."""
        from emlab_grader.record import MIME

        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        content = msg.get("content")
        if not isinstance(content, dict):
            return
        if kind == "stream":
            text = content.get("text", "")
            size = self._size(text)
            room = max(0, min(self.per_output, self.total - self.used))
            if size > room:
                content["text"] = (text[:room] if isinstance(text, str) else "") + \
                    f"\n{TruncateOutput.marker} ({size / 1e6:.1f} MB in this message) ...\n"
                self.over = self.over or room < self.per_output
            self.used += min(size, room)
        elif kind in {"display_data", "execute_result", "update_display_data"}:
            data = content.get("data")
            if not isinstance(data, dict):
                return
            for mime in list(data):
                size = self._size(data[mime])
                if mime == MIME:
                    if size > self.per_record or self.records_used + size > self.records_total:
                        del data[mime]  # the judge then finds no record: the cell scores 0
                        data["text/plain"] = f"{self.note}a grading record of {size / 1e6:.1f} MB]"
                    else:
                        self.records_used += size
                    continue
                cap = self.per_output
                if size > cap:
                    del data[mime]
                    data["text/plain"] = (f"{self.note}{mime} output of {size / 1e6:.1f} MB, over the "
                                          f"{cap // 1024 ** 2} MB limit]")
                    continue
                if self.used + size > self.total:
                    data.clear()
                    data.update(self._placeholder(f"the notebook's outputs passed {self.total // 1024 ** 2} MB; "
                                                  "later outputs are not kept"))
                    self.over = True
                    return
                self.used += size
            content["metadata"] = content.get("metadata") if self._size(content.get("metadata", {})) < 65536 else {}
        elif kind in {"comm_open", "comm_msg"}:  # widget state: kept only while small
            size = self._size(content.get("data", {})) + sum(len(b) for b in msg.get("buffers") or [])
            if size > self.per_output or self.used + size > self.total:
                content["data"] = {}
                msg["buffers"] = []
                self.over = True
            else:
                self.used += size
        elif kind == "error":
            room = max(0, self.total - self.used)
            limit = min(self.error_chars, room)
            evalue = content.get("evalue", "")
            if not isinstance(evalue, str) or len(evalue) > limit:
                evalue = str(evalue)[:limit] + f" ... (cut by the grader at {limit} characters)"
                content["evalue"] = evalue
            content["ename"] = str(content.get("ename", "Error"))[:200]
            tb = content.get("traceback")
            lines = []
            budget = max(0, room - len(evalue))
            for line in (tb[: self.traceback_lines] if isinstance(tb, list) and room > 0 else []):
                line = str(line)[: self.error_chars]
                if len(line) > budget:
                    break
                lines.append(line)
                budget -= len(line)
            content["traceback"] = lines
            self.used += len(evalue) + sum(len(line) for line in lines) + 200
            self.over = self.over or self.used >= self.total


class ResilientExecute(Execute):
    """Execute that restarts a dead or unresponsive kernel and carries on.

    Under the grading harness (EMLAB_HARNESS=1) kernels are started by
    :class:`emlab_judge.sandbox.SandboxKernelManager` (nbgrader's Execute passes its own
    kernel manager class as an argument, which would override configuration)."""

    def __init__(self, *args, **kwargs):
        if os.environ.get("EMLAB_HARNESS") == "1":
            from .sandbox import SandboxKernelManager
            kwargs["kernel_manager_class"] = SandboxKernelManager
        kwargs.setdefault("store_widget_state", False)  # widget state is the student's: not kept
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        """nbconvert's, timed: ``resources["emlab_timing"]`` gets the seconds spent starting
        kernels (``kernel_start``) and in all (``execute``: kernels, cells, restarts)."""
        started = time.monotonic()
        self._kernel_start_seconds = 0.0
        nb, resources = super().preprocess(nb, resources, km=km)
        timing = resources.setdefault("emlab_timing", {})
        timing["kernel_start"] = round(self._kernel_start_seconds, 3)
        timing["execute"] = round(time.monotonic() - started, 3)
        return nb, resources

    async def async_start_new_kernel_client(self):
        """The client, once the kernel answers; then the sandbox's socket folder is sealed
        (the kernel has bound its sockets and may create nothing more there)."""
        started = time.monotonic()
        kc = await super().async_start_new_kernel_client()
        self._kernel_start_seconds = getattr(self, "_kernel_start_seconds", 0.0) + time.monotonic() - started
        seal = getattr(self.km, "seal_socket_dir", None)
        if seal is not None:
            seal()
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)  # nbclient's sync name, bound to ours

    def process_message(self, msg, cell, cell_index):
        """Every message from the kernel is cut to the output budget before nbclient keeps it."""
        budget = getattr(self, "_budget", None)
        if budget is None:
            budget = self._budget = OutputBudget()
        if not budget.keep(msg, cell_index):
            return None
        budget.apply(msg)
        return super().process_message(msg, cell, cell_index)

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
        elif timed_out:  # interrupted in time: one message that says so, instead of two tracebacks
            cell.outputs = [o for o in cell.get("outputs", []) if not (
                o.get("output_type") == "error" and o.get("ename") in {"CellTimeoutError", "KeyboardInterrupt"})]
            _error(cell, "CellTimeoutError", f"this cell ran past the {self.timeout} s time limit and was "
                                             "interrupted; the grader went on with the next cell")
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


_INCIDENTS = {
    "KernelDied": None, "CellTimeoutError": None,
    "MemoryError": "ran out of memory (the sandbox's limit)",
    "BlockingIOError": "could not start more processes (the sandbox's process limit: a fork bomb?)",
}


def incidents(nb) -> list[str]:
    """One line for each cell that hit a limit: a dead or hung kernel, memory, processes,
    an output flood."""
    lines = []
    for index, cell in enumerate(nb.cells):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        where = f"cell {index + 1}{f' ({gid})' if gid else ''}"
        for o in cell.get("outputs", []):
            ename = o.get("ename")
            if ename in _INCIDENTS:
                lines.append(f"{where}: {_INCIDENTS[ename] or o.get('evalue') or 'ran past the time limit and was interrupted'}")
            text = o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", "")
            text = text if isinstance(text, str) else "".join(text)
            if TruncateOutput.marker in text:
                lines.append(f"{where}: output truncated (the cell printed more than "
                             f"{TruncateOutput.max_chars // 1000} kB)")
            elif OutputBudget.note in text:
                lines.append(f"{where}: output removed ({text.split(OutputBudget.note, 1)[1].rstrip(']')})")
    return list(dict.fromkeys(lines))
