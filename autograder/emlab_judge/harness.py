"""Grade submissions one at a time, each in its own sandbox, with verdicts judged outside.

For each ``autograder/submitted/<student>/<assignment>/``:

1. :mod:`.preflight` checks and repairs every notebook against its source (a copy in a
   staging folder; the student's file is never touched);
2. real ``nbgrader autograde`` grades that one submission in a process of its own (forked
   with nbgrader already imported: :mod:`.nbgrader_process`), with the kernel in the
   sandbox of :mod:`.sandbox` and :class:`.execute.ResilientExecute` surviving dead or hung
   kernels; the process has a wall-clock limit, and every process of the sandbox's uid is
   killed when it ends;
3. :mod:`.verdicts` judges the recorded outputs against the reference, outside any kernel;
   where nbgrader's score for a test cell differs, the gradebook gets the judge's score
   and the submission is flagged;
4. the autograded notebook gets the judge's messages (so feedback shows them) and loses
   the raw records (kept in ``judge.json`` beside it).

Nothing one submission does stops another from being graded: every failure becomes a
one-line reason in the report.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from emlab_grader.record import MIME

from .gradebook import child_url, open_gradebook, writer_lock
from .preflight import preflight
from .sandbox import (Limits, SandboxSpec, kernel_argv, kill_uid, matplotlib_fontlist, sandbox_status, uid_processes,
                      write_kernelspec)
from .tamper import scan_notebook
from .verdicts import judge_notebook

__all__ = ["Course", "SubmissionResult", "grade_submission", "discover", "sync_gradebook", "already_graded",
           "submission_fingerprint", "stored_results", "slot_uid"]

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


@dataclass(frozen=True)
class Course:
    """Where the course lives. Paths follow autograder/nbgrader_config.py; ``submitted_dir``
    grades submissions from another folder (same layout: <student>/<assignment>/)."""

    root: Path
    submitted_dir: Path | None = None

    @property
    def autograder(self) -> Path:
        return Path(os.environ.get("EMLAB_AUTOGRADER_DIR", self.root / "autograder"))

    @property
    def submitted(self) -> Path:
        return Path(self.submitted_dir) if self.submitted_dir else self.autograder / "submitted"

    @property
    def autograded(self) -> Path:
        return self.autograder / "autograded"

    @property
    def staging(self) -> Path:
        return self.autograder / ".staging"

    @property
    def results(self) -> Path:
        """One JSON per submission graded (whatever the outcome): what the grade report reads."""
        return self.autograder / "report" / "submissions"

    @property
    def db_url(self) -> str:
        return os.environ.get("EMLAB_GRADEBOOK_URL", f"sqlite:///{self.autograder / 'gradebook.db'}")

    def source_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.root / "solutions" / assignment).glob("*.ipynb"))

    def release_notebook(self, assignment: str, name: str) -> Path:
        return self.root / "notebooks" / assignment / name

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["JUPYTER_CONFIG_PATH"] = str(self.autograder)
        env["EMLAB_COURSE_ROOT"] = str(self.root)
        env["PYTHONPATH"] = os.pathsep.join([str(self.autograder), str(self.root)])
        # nbgrader's gradebook runs `alembic` from PATH: this interpreter's bin first
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        # nbgrader_config.py reads it: on sqlite, with a busy timeout (parallel workers wait
        # for the database lock rather than fail)
        env["EMLAB_GRADEBOOK_URL"] = child_url(self.db_url)
        # submissions are graded side by side, one per slot: one thread each
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.update(extra)
        return env


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

    def to_json(self) -> dict:
        return asdict(self)


def discover(course: Course, assignment: str | None = None, student: str | None = None) -> list[tuple[str, str]]:
    """(student, assignment) pairs with a submission folder, sorted."""
    pairs = []
    if not course.submitted.is_dir():
        return pairs
    for sdir in sorted(p for p in course.submitted.iterdir() if p.is_dir()):
        if student and sdir.name != student:
            continue
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            if assignment and adir.name != assignment:
                continue
            if (course.root / "solutions" / adir.name).is_dir():
                pairs.append((sdir.name, adir.name))
    return pairs


def _nbgrader(course: Course, args: list[str], env: dict, timeout: float | None = None,
              uid: int | None = None) -> tuple[int | None, str, bool]:
    """Run ``nbgrader ARGS`` in a process of its own (forked with nbgrader already imported:
    :mod:`.nbgrader_process`), in its own session, its output in a file (a kernel left
    running must not hold a pipe open). At the time limit the whole group is killed, with
    every process of the sandbox's uid. Returns (exit code, output, timed out)."""
    from . import nbgrader_process

    with tempfile.TemporaryDirectory(prefix="emlab-nbgrader-") as tmp:
        log_path = Path(tmp) / "output.log"
        with _RUNNING_LOCK:
            if STOP.is_set():
                raise Interrupted("the run was interrupted")
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
        if STOP.is_set():
            raise Interrupted("the run was interrupted")
        output = log_path.read_text(errors="replace") if log_path.exists() else ""
        return proc.exitcode, output, timed_out


class Interrupted(Exception):
    """The run is being stopped (Ctrl-C, SIGTERM): this submission is left for the next run."""


STOP = threading.Event()  # set by stop_all(); cleared by the next batch
_RUNNING: dict[int, int | None] = {}  # PID of each nbgrader child -> its sandbox uid
_RUNNING_LOCK = threading.Lock()


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


HARNESS_VERSION = "1"  # bump when grading changes in a way that should regrade everything
DONE_FILE = ".emlab-graded.json"


def submission_fingerprint(course: Course, student: str, assignment: str) -> str:
    """A digest of what a grade depends on: the submitted files, the assignment's source and
    release notebooks, and the harness's version."""
    digest = hashlib.sha256(HARNESS_VERSION.encode())
    folders = [course.submitted / student / assignment, course.root / "solutions" / assignment,
               course.root / "notebooks" / assignment]
    for index, folder in enumerate(folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes() if index == 0 else _course_file(path))
    return digest.hexdigest()


_BY_VERSION: dict[tuple[str, str, int, int], object] = {}


def _by_version(path: Path, what: str, load):
    """``load(path)``, done once per version of the file (path, mtime, size): a batch
    fingerprints, preflights and judges against the same course files for every student."""
    st = path.stat()
    key = (what, str(path), st.st_mtime_ns, st.st_size)
    if key not in _BY_VERSION:
        if len(_BY_VERSION) > 256:
            _BY_VERSION.clear()
        _BY_VERSION[key] = load(path)
    return _BY_VERSION[key]


def _course_file(path: Path) -> bytes:
    """A source or release file's bytes, read once per version."""
    return _by_version(path, "bytes", Path.read_bytes)


def _course_notebook(path: Path) -> nbformat.NotebookNode:
    """A source or release notebook, read and validated once per version; each caller
    gets its own copy."""
    return copy.deepcopy(_by_version(path, "notebook", lambda p: nbformat.read(p, as_version=4)))


def _write_done(course: Course, student: str, assignment: str, fingerprint: str, result: SubmissionResult) -> None:
    """Written last: its presence means this exact submission's grade is in the gradebook."""
    folder = course.autograded / student / assignment
    tmp = folder / (DONE_FILE + ".tmp")
    tmp.write_text(json.dumps({"fingerprint": fingerprint, "result": result.to_json()}, indent=1))
    os.replace(tmp, folder / DONE_FILE)  # atomic: a killed run leaves the old state or the new


def already_graded(course: Course, student: str, assignment: str, gb=None) -> SubmissionResult | None:
    """The stored result when this exact submission was graded completely, else None.
    ``gb``: an open Gradebook to use (one for a whole batch), else one is opened."""
    from nbgrader.api import MissingEntry

    done = course.autograded / student / assignment / DONE_FILE
    try:
        stored = json.loads(done.read_text())
    except (OSError, ValueError):
        return None
    if stored.get("fingerprint") != submission_fingerprint(course, student, assignment):
        return None
    with contextlib.nullcontext(gb) if gb is not None else open_gradebook(course.db_url) as book:
        try:
            book.find_submission(assignment, student)
        except MissingEntry:
            return None
    result = SubmissionResult(**stored["result"])
    result.status = "unchanged"
    return result


def sync_gradebook(course: Course, assignments: list[str]) -> None:
    """Put each assignment's grade cells in the gradebook (trusted: solutions/ only). Under
    the gradebook's writer lock: several grading machines may start at once."""
    with writer_lock(course.db_url), tempfile.TemporaryDirectory(prefix="emlab-sync-") as tmp:
        for assignment in assignments:
            code, out, _ = _nbgrader(course, ["generate_assignment", assignment, "--force", "--log-level=WARN",
                                              f"--CourseDirectory.release_directory={tmp}"], course.env())
            if code != 0:
                raise RuntimeError(f"could not register {assignment} in the gradebook:\n{out[-2000:]}")


MAX_SKIPPED_CELLS = 2
MAX_SIGNS = 5  # tampering signs listed per notebook


def _clear_uid(uid: int, kernel_marker: str) -> int:
    """Kill every process of the sandbox's uid; return how many the submission left running.

    The kernel itself (its command line holds ``kernel_marker``, its runtime folder) may
    still be finishing its shutdown when nbgrader exits: cutting that short loses nothing,
    and it is not counted. Copies of it made by ``os.fork`` share its command line: all but
    one of those are counted."""
    kernels = others = 0
    for pid in uid_processes(uid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone already
        if "ipykernel_launcher" in cmdline and kernel_marker in cmdline:
            kernels += 1
        else:
            others += 1
    kill_uid(uid)
    return others + max(0, kernels - 1)


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


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    if not path.exists():
        return
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, f) for f in files + dirs)]:
            try:
                os.lchown(name, uid, gid)
            except FileNotFoundError:
                pass


def _stage(course: Course, student: str, assignment: str, staging_root: Path, result: SubmissionResult) -> bool:
    """Copy the submission, each notebook checked and repaired, into the staging folder."""
    src_dir = course.submitted / student / assignment
    dest = staging_root / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    for extra in src_dir.iterdir():
        if extra.is_file() and extra.suffix != ".ipynb" and extra.stat().st_size < 1_000_000:
            shutil.copy2(extra, dest / extra.name)
    any_gradable = False
    for source_path in course.source_notebooks(assignment):
        submitted = src_dir / source_path.name
        if not submitted.exists():
            result.reasons.append(f"{source_path.name}: not submitted")
            continue
        release = course.release_notebook(assignment, source_path.name)
        if not release.exists():
            raise FileNotFoundError(f"{release} is missing: run make release")
        checked = preflight(submitted.read_bytes(), _course_notebook(release))
        if not checked.gradable:
            result.reasons.append(f"{source_path.name}: {checked.fatal}; nothing in it could be graded")
            continue
        result.reasons.extend(f"{source_path.name}: {r}" for r in checked.reasons)
        signs = scan_notebook(checked.notebook)
        for sign in signs[:MAX_SIGNS]:
            result.flags.append(f"tampering suspected: {source_path.name}, {sign}")
        if len(signs) > MAX_SIGNS:
            result.flags.append(f"tampering suspected: {len(signs) - MAX_SIGNS} more sign(s) in {source_path.name}")
        nbformat.write(checked.notebook, dest / source_path.name)
        any_gradable = True
    return any_gradable


_INCIDENTS = {
    "KernelDied": None, "CellTimeoutError": None,
    "MemoryError": "ran out of memory (the sandbox's limit)",
    "BlockingIOError": "could not start more processes (the sandbox's process limit: a fork bomb?)",
}


def _incidents(nb) -> list[str]:
    """One line for each cell that hit a limit: a dead or hung kernel, memory, processes,
    an output flood."""
    from .execute import TruncateOutput

    lines = []
    for index, cell in enumerate(nb.cells):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        where = f"cell {index + 1}{f' ({gid})' if gid else ''}"
        for o in cell.get("outputs", []):
            ename = o.get("ename")
            if ename in _INCIDENTS:
                lines.append(f"{where}: {_INCIDENTS[ename] or o.get('evalue') or 'ran past the time limit and was interrupted'}")
            text = o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", "")
            if isinstance(text, str) and TruncateOutput.marker in text:
                lines.append(f"{where}: output truncated (the cell printed more than "
                             f"{TruncateOutput.max_chars // 1000} kB)")
    return list(dict.fromkeys(lines))


def _apply_verdicts(course: Course, student: str, assignment: str, result: SubmissionResult) -> None:
    """Judge each autograded notebook, correct the gradebook, annotate the notebook. Call
    under the gradebook's writer lock."""
    from nbgrader.api import MissingEntry

    out_dir = course.autograded / student / assignment
    judged = {}
    with open_gradebook(course.db_url, write=True) as gb:
        for source_path in course.source_notebooks(assignment):
            path = out_dir / source_path.name
            if not path.exists():
                continue
            notebook_id = source_path.stem
            nb = nbformat.read(path, as_version=4)
            verdicts = judge_notebook(nb, _course_notebook(source_path))
            by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
            records = {}
            for v in verdicts:
                try:
                    grade = gb.find_grade(v.grade_id, notebook_id, assignment, student)
                except MissingEntry:
                    continue
                notebook_score = grade.auto_score if grade.auto_score is not None else 0.0
                if notebook_score != v.score:
                    grade.auto_score = v.score  # committed with the others below: all or none
                    if v.score < notebook_score:
                        what = "; ".join(v.tampering) if v.tampering else "; ".join(v.messages)
                        if v.tampering:
                            result.flags.append(f"tampering suspected in {v.grade_id}: {what}")
                        result.reasons.append(f"{v.grade_id}: notebook gave {notebook_score:g}, judge gave "
                                              f"{v.score:g} ({what})")
                    else:
                        result.reasons.append(f"{v.grade_id}: notebook gave {notebook_score:g}, judge found the "
                                              f"function correct and gave {v.score:g}")
                elif v.tampering:
                    result.flags.append(f"tampering suspected in {v.grade_id}: {'; '.join(v.tampering)}")
                if v.messages:
                    result.messages[v.grade_id] = v.messages
                    if not v.passed and notebook_score == v.score:
                        result.reasons.append(f"{v.grade_id}: {v.messages[0]}")
                cell = by_id.get(v.grade_id)
                if cell is None:
                    continue
                records[v.grade_id] = [o["data"][MIME] for o in cell.get("outputs", [])
                                       if MIME in o.get("data", {})]
                cell.outputs = [o for o in cell.get("outputs", []) if MIME not in o.get("data", {})]
                for o in cell.outputs:  # a traceback quotes the hidden test's source: keep the message
                    if o.get("output_type") == "error":
                        o["traceback"] = [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}"]
                shown = " ".join(str(o.get("evalue", "")) for o in cell.outputs if o.get("output_type") == "error")
                for message in v.messages if not v.passed else []:
                    if message not in shown:
                        cell.outputs.append(nbformat.v4.new_output(
                            "error", ename="HiddenCheckFailed", evalue=message,
                            traceback=[f"HiddenCheckFailed: {message}"]))
            result.reasons.extend(_incidents(nb))
            nbformat.write(nb, path)
            judged[source_path.name] = {"verdicts": [asdict(v) for v in verdicts], "records": records}
        gb.db.commit()  # one transaction: a run killed before it leaves nbgrader's scores and no "done" mark
        try:
            submission = gb.find_submission(assignment, student)
            result.score, result.max_score = float(submission.score), float(submission.max_score)
            for nb_sub in submission.notebooks:
                for grade in nb_sub.grades:
                    result.cells[grade.name] = float(grade.score)
        except MissingEntry:
            result.max_score = float(gb.find_assignment(assignment).max_score)
    if out_dir.is_dir():
        (out_dir / "judge.json").write_text(json.dumps(judged, indent=1, default=str))


def _record_ungradable(course: Course, student: str, assignment: str, result: SubmissionResult) -> None:
    """Nothing could be graded: the student is in the gradebook (no submission: score 0).
    A grade from an earlier, readable version of the submission is kept, and said so."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course.db_url, write=True) as gb:
        gb.update_or_create_student(student)
        result.max_score = float(gb.find_assignment(assignment).max_score)
        try:
            earlier = gb.find_submission(assignment, student)
            result.score = float(earlier.score)
            result.reasons.append(f"the grade of an earlier, readable version ({result.score:g}) is kept")
        except MissingEntry:
            pass


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
    uid = slot_uid(slot) if os.geteuid() == 0 and sandboxed else None
    work = Path(tempfile.mkdtemp(prefix=f"emlab-grade-{slot}-"))
    course.staging.mkdir(parents=True, exist_ok=True)
    staging_root = Path(tempfile.mkdtemp(prefix=f"slot-{slot}-", dir=course.staging))  # never shared
    fingerprint = submission_fingerprint(course, student, assignment)
    try:
        if STOP.is_set():
            raise Interrupted("the run was interrupted")
        if not _stage(course, student, assignment, staging_root, result):
            result.status = "ungradable"
            _record_ungradable(course, student, assignment, result)
            return result  # (the finally clause below still cleans up)
        runtime = work / "runtime"
        runtime.mkdir(mode=0o755)
        if uid is not None:
            os.chown(runtime, uid, uid)
        workdir = course.autograded / student / assignment
        hide = tuple(Path(p) for p in os.environ.get("EMLAB_SANDBOX_HIDE", "").split(os.pathsep) if p)
        fontlist = matplotlib_fontlist(course.staging / "matplotlib")
        argv = kernel_argv(SandboxSpec(course.root, workdir, runtime, uid=uid,
                                       secrets=(course.staging, course.submitted, *hide), fontlist=fontlist),
                           limits, sandboxed=sandboxed)
        if fontlist is not None and not sandboxed:  # the kernel keeps the grader's MPLCONFIGDIR
            (work / "mpl").mkdir()
            shutil.copy2(fontlist, work / "mpl" / fontlist.name)
        data_dir = work / "jupyter-data"
        write_kernelspec(data_dir, argv)
        env = course.env(JUPYTER_DATA_DIR=str(data_dir), JUPYTER_RUNTIME_DIR=str(work / "client-runtime"),
                         IPYTHONDIR=str(work / "ipython"), MPLCONFIGDIR=str(work / "mpl"),
                         EMLAB_HARNESS="1", EMLAB_RECORD="1", EMLAB_SANDBOX_RUNTIME=str(runtime),
                         EMLAB_SANDBOX_UID=str(uid) if uid is not None else "")
        args = ["autograde", assignment, f"--student={student}", "--force",
                f"--CourseDirectory.submitted_directory={os.path.relpath(staging_root, course.root)}"]
        skipped: set[str] = set()
        for attempt in range(1 + MAX_SKIPPED_CELLS):
            code, log, timed_out = _nbgrader(course, args, env, timeout=limits.wall, uid=uid)
            if uid is not None:
                left = _clear_uid(uid, str(runtime))
                if left:
                    result.reasons.append(f"{left} process(es) the submission left running were killed")
                _chown_tree(workdir, os.geteuid(), os.getegid())
            if not timed_out and code == 0:
                break
            what = (f"ran past the {limits.wall} s wall-clock limit" if timed_out else
                    "crashed nbgrader")
            culprit = _last_started_cell(log)
            if culprit and culprit not in skipped and attempt < MAX_SKIPPED_CELLS and \
                    _neutralise(staging_root / student / assignment, culprit, what):
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
            break
        # one harness writer at a time (threads, processes, machines); nbgrader's own writes
        # for this submission are committed by now
        if STOP.is_set():
            raise Interrupted("the run was interrupted")
        _apply_verdicts(course, student, assignment, result)
        if result.status == "graded":
            result.seconds = round(time.monotonic() - started, 2)
            _write_done(course, student, assignment, fingerprint, result)
    except Interrupted:
        result.status = "interrupted"
        result.reasons.append("the run was interrupted before this submission was graded")
    except Exception as exc:  # a harness failure on one submission never stops the batch
        result.status = "failed"
        result.reasons.append(f"grading error: {type(exc).__name__}: {exc}")
    finally:
        if uid is not None:
            kill_uid(uid)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staging_root, ignore_errors=True)
        result.seconds = round(time.monotonic() - started, 2)
        if result.status != "interrupted":
            _store_result(course, result)
    return result


def _store_result(course: Course, result: SubmissionResult) -> None:
    """Keep the outcome (status, reasons, flags, the judge's messages) for the grade report,
    written atomically."""
    try:
        path = course.results / result.assignment / f"{result.student}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(result.to_json(), indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # the gradebook holds the grade; only the report's details are lost


def stored_results(course: Course) -> list[SubmissionResult]:
    """Every submission's last stored outcome, sorted by (assignment, student)."""
    results = []
    for path in sorted(course.results.glob("*/*.json")):
        try:
            results.append(SubmissionResult(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(results, key=lambda r: (r.assignment, r.student))
