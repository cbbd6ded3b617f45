"""Grade submissions one at a time, each in its own sandbox, with verdicts judged outside.

For each ``autograder/submitted/<student>/<assignment>/``:

1. the submission is copied into a staging folder of the grader's, never through a link
   (:mod:`.safe_fs`): each notebook checked and repaired by :mod:`.preflight`, the regular
   files beside it copied within size limits, anything else (a link, FIFO, device,
   folder in place of the notebook, hard link) refused with a reason;
2. real ``nbgrader autograde`` grades that copy in a process of its own (forked with
   nbgrader already imported: :mod:`.nbgrader_process`), with the kernel in the sandbox of
   :mod:`.sandbox`: its working folder a throw-away copy on the sandbox's capped ``/tmp``,
   so nothing the kernel does touches a folder of the grader's;
   :class:`.execute.ResilientExecute` survives dead or hung kernels and caps outputs as
   they arrive; the process has a wall-clock limit, and every process of the sandbox's uid
   is killed when it ends;
3. inside that nbgrader run, :class:`.judge_step.JudgeVerdicts` judges the executed
   notebook *in memory* against the reference before ``SaveAutoGrades`` records any score,
   and leaves its verdicts in a folder of the grader's;
4. the harness turns those verdicts into the submission's reasons and flags and keeps
   them (``.emlab-judge.json``, which feedback leaves out) beside the graded notebook,
   written without following links.

Nothing one submission does stops another from being graded: every failure becomes a
one-line reason in the report. A judged cell without a valid verdict scores 0.
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

from .cgroup import slot_group
from .gradebook import child_url, open_gradebook, writer_lock
from .lateness import stage_timestamp
from .preflight import preflight
from .safe_fs import MiB, UnsafeFile, copy_submission, entry_kind, read_regular, write_atomic
from . import kernel_forkserver
from .sandbox import (HOLDER_COMMAND, Limits, SandboxSpec, kernel_argv, kernel_env, kill_uid, matplotlib_fontlist, sandbox_env,
                      sandbox_status, uid_processes, write_kernelspec)
from .tamper import scan

__all__ = ["Course", "SubmissionResult", "grade_submission", "discover", "sync_gradebook", "already_graded",
           "submission_fingerprint", "grading_code_digest", "stored_results", "stored_result_path", "slot_uid"]

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
    # where the seconds went: stage (copy and checks), nbgrader (its process, kernel
    # included), kernel_start and execute (inside it: starting kernels; every cell), judge,
    # verdicts (scores and reasons written)
    phases: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    def bound(self) -> "SubmissionResult":
        """Keep what the result quotes within reports' reach, in place: at most MAX_LINES
        reasons, flags and messages per check (then one line saying how many more), each at
        most MAX_LINE characters, every string valid UTF-8 (a lone surrogate, which a hand-made
        kernel message can carry, as a backslash escape). The ids are left as they are (they
        name files and gradebook rows). Returns the result."""
        self.reasons = _bounded_lines(self.reasons, "reason")
        self.flags = _bounded_lines(self.flags, "flag")
        self.messages = {_clean_text(k, MAX_LINE): _bounded_lines(v, "message")
                         for k, v in list(self.messages.items())[:MAX_LINES]}
        return self


MAX_LINES = 100   # reasons, flags, or messages of one check, kept per submission
MAX_LINE = 2_000  # characters of one


def _clean_text(value, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[:cut if cut > limit // 2 else limit] + " …"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bounded_lines(lines, what: str) -> list[str]:
    lines = list(lines) if isinstance(lines, (list, tuple)) else [lines]
    kept = [_clean_text(line, MAX_LINE) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        kept.append(f"... and {len(lines) - MAX_LINES:,} more {what}(s) not shown")
    return kept


def _subdirs(folder: Path) -> list[Path]:
    """The entries of ``folder`` that are real folders or links (a link is listed, and
    refused with a reason when staged; it is never followed here)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name == ".ipynb_checkpoints":
            continue
        try:
            if entry.is_dir(follow_symlinks=False) or entry.is_symlink():
                out.append(Path(entry.path))
        except OSError:
            continue
    return out


def discover(course: Course, assignment: str | None = None, student: str | None = None) -> list[tuple[str, str]]:
    """(student, assignment) pairs with a submission folder, sorted. Ids are matched
    exactly (a student id may hold glob or shell characters, or start with a dot). A
    student folder that is a link is listed under every assignment asked for (or every
    assignment of the course), so that it is reported, refused, rather than left out."""
    assignments = sorted(p.name for p in (course.root / "solutions").iterdir() if p.is_dir()) \
        if (course.root / "solutions").is_dir() else []
    pairs = []
    for sdir in _subdirs(course.submitted):
        if student and sdir.name != student:
            continue
        if sdir.is_symlink():
            pairs.extend((sdir.name, a) for a in assignments if not assignment or a == assignment)
            continue
        for adir in _subdirs(sdir):
            if assignment and adir.name != assignment:
                continue
            if adir.name in assignments:
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
        try:
            with open(log_path, "rb") as fh:  # nbgrader's own log (no kernel writes to it): its tail
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - LOG_TAIL))
                output = fh.read(LOG_TAIL).decode("utf-8", "replace")
        except OSError:
            output = ""
        return proc.exitcode, output, timed_out


LOG_TAIL = 1024 ** 2  # bytes of nbgrader's log read back


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


HARNESS_VERSION = "2"  # bump when grading changes in a way that should regrade everything
DONE_FILE = ".emlab-graded.json"
JUDGE_FILE = ".emlab-judge.json"  # the verdicts and records (a dot file: nbgrader copies none into feedback)


FINGERPRINT_READ = 64 * MiB  # files larger than this are fingerprinted by size and time, unread


def _fingerprint_tree(digest, folder: Path, *, trusted: bool) -> None:
    """Feed every entry under ``folder`` into ``digest``, never following a link or
    opening anything but a regular file (a FIFO, a device, ``/proc/self/pagemap`` behind a
    link: named and typed, never read)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            try:
                st = path.lstat()
            except OSError:
                digest.update(b"gone")
                continue
            digest.update(entry_kind(st.st_mode).encode())
            if os.path.islink(path):
                with contextlib.suppress(OSError):
                    digest.update(os.readlink(path).encode("utf-8", "surrogateescape"))
                continue
            if not path.is_file() or st.st_size > FINGERPRINT_READ:
                digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
                continue
            try:
                digest.update(_course_file(path) if trusted else read_regular(path, FINGERPRINT_READ,
                                                                              allow_hard_links=True))
            except OSError:
                digest.update(f"unreadable:{st.st_size}:{st.st_mtime_ns}".encode())


# The course's grading code: what decides a grade besides the notebooks (the hidden cases and
# properties, the references and the judge, the helpers the kernel imports, the configuration).
GRADING_CODE = ("autograder/emlab_judge", "autograder/emlab_grader", "emlab", "autograder/nbgrader_config.py")


def grading_code_digest(course: Course) -> str:
    """A digest of the course's grading code (every ``.py`` file of GRADING_CODE, by path and
    bytes; each file read once per version): a change to a hidden case, a reference or a
    check changes every fingerprint, so the next run grades everyone again."""
    digest = hashlib.sha256()
    for entry in GRADING_CODE:
        path = course.root / entry
        if path.is_file():
            files = [path]
        elif path.is_dir() and not path.is_symlink():
            files = sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts and p.is_file())
        else:
            continue
        for file in files:
            digest.update(str(file.relative_to(course.root)).encode() + b"\0" + _course_file(file) + b"\0")
    return digest.hexdigest()


def submission_fingerprint(course: Course, student: str, assignment: str) -> str:
    """A digest of what a grade depends on: the submitted files, the assignment's source and
    release notebooks, the course's grading code and the harness's version. Never raises,
    never blocks."""
    digest = hashlib.sha256(HARNESS_VERSION.encode())
    try:
        digest.update(grading_code_digest(course).encode())
        submitted = course.submitted / student / assignment
        if os.path.islink(course.submitted / student) or os.path.islink(submitted):
            digest.update(b"link")
        else:
            _fingerprint_tree(digest, submitted, trusted=False)
        for folder in (course.root / "solutions" / assignment, course.root / "notebooks" / assignment):
            digest.update(b"\1")
            _fingerprint_tree(digest, folder, trusted=True)
    except Exception as exc:  # whatever happens, a fingerprint (one that matches nothing stored)
        digest.update(f"error:{type(exc).__name__}:{time.time_ns()}".encode())
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
    write_atomic(course.autograded / student / assignment, DONE_FILE,
                 json.dumps({"fingerprint": fingerprint, "result": result.bound().to_json()}, indent=1))


def already_graded(course: Course, student: str, assignment: str, gb=None) -> SubmissionResult | None:
    """The stored result when this exact submission was graded completely, else None.
    ``gb``: an open Gradebook to use (one for a whole batch), else one is opened."""
    from nbgrader.api import MissingEntry

    try:
        stored = json.loads(read_regular(course.autograded / student / assignment / DONE_FILE, 16 * MiB))
        fingerprint, result = stored["fingerprint"], SubmissionResult(**stored["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if fingerprint != submission_fingerprint(course, student, assignment):
        return None
    with contextlib.nullcontext(gb) if gb is not None else open_gradebook(course.db_url) as book:
        try:
            book.find_submission(assignment, student)
        except MissingEntry:
            return None
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


MAX_NOTEBOOK = 256 * MiB    # a submitted notebook larger than this is not read (stored outputs are dropped)
MAX_EXTRA_FILE = 20 * MiB   # one file beside the notebook
MAX_EXTRAS = 100 * MiB      # all files beside the notebook


def _stage(course: Course, student: str, assignment: str, staging_root: Path, result: SubmissionResult) -> list[str]:
    """Copy the submission into the staging folder, never through a link: each notebook
    checked and repaired, the regular files beside it within the size limits. What is
    refused is said in the result's reasons. Returns the names of the notebooks staged
    (those that can be graded)."""
    src_dir = course.submitted / student / assignment
    dest = staging_root / student / assignment
    dest.mkdir(parents=True)
    for folder, what in ((course.submitted / student, "the student's folder"), (src_dir, "the submission folder")):
        try:
            st = folder.lstat()
        except OSError:
            result.reasons.append(f"{what} is missing")
            return []
        if os.path.islink(folder) or not os.path.isdir(folder):
            result.reasons.append(f"{what} is a {entry_kind(st.st_mode)}, not a folder: refused")
            return []
    notebooks = {p.name for p in course.source_notebooks(assignment)}
    copied = copy_submission(src_dir, dest, skip=lambda rel: rel in notebooks or rel == "timestamp.txt",
                             max_file=MAX_EXTRA_FILE, max_total=MAX_EXTRAS)
    result.reasons.extend(f"file beside the notebook refused: {r}" for r in copied.refused)
    stamp = stage_timestamp(src_dir, dest)  # the time nbgrader's lateness is computed from
    if stamp.when is not None and not stamp.trusted:
        result.reasons.append(stamp.describe())
    staged = []
    for source_path in course.source_notebooks(assignment):
        name = source_path.name
        try:
            raw = read_regular(src_dir / name, MAX_NOTEBOOK)
        except UnsafeFile as exc:
            missing = not os.path.lexists(src_dir / name)
            result.reasons.append(f"{name}: not submitted" if missing else
                                  f"{name}: {exc}; refused, nothing in it could be graded")
            continue
        release = course.release_notebook(assignment, name)
        if not release.exists():
            raise FileNotFoundError(f"{release} is missing: run make release")
        checked = preflight(raw, _course_notebook(release))
        if not checked.gradable:
            result.reasons.append(f"{name}: {checked.fatal}; nothing in it could be graded")
            continue
        result.reasons.extend(f"{name}: {r}" for r in checked.reasons)
        try:
            scanned = scan(checked.notebook)
            signs = scanned.signs
            result.reasons.extend(f"{name}: {u}" for u in scanned.unscanned)
        except Exception as exc:  # the verdict never depends on the scan
            signs = []
            result.reasons.append(f"{name}: the code could not be scanned for tampering ({type(exc).__name__})")
        for sign in signs[:MAX_SIGNS]:
            result.flags.append(f"tampering suspected: {name}, {sign}")
        if len(signs) > MAX_SIGNS:
            result.flags.append(f"tampering suspected: {len(signs) - MAX_SIGNS} more sign(s) in {name}")
        write_atomic(dest, name, nbformat.writes(checked.notebook))
        staged.append(name)
    return staged


MAX_VERDICTS_FILE = 64 * MiB


def _apply_verdicts(course: Course, student: str, assignment: str, result: SubmissionResult, judge_out: Path,
                    staged: list[str], nbgrader_ok: bool) -> None:
    """Turn the judge's verdicts (left by :class:`.judge_step.JudgeVerdicts` in
    ``judge_out``, a folder of the grader's) into the result's reasons, flags and scores,
    and keep them as ``.emlab-judge.json`` beside the graded notebook. A notebook that nbgrader
    graded but that left no verdicts fails closed: its judged cells get 0, flagged.
    Call under the gradebook's writer lock."""
    from nbgrader.api import MissingEntry

    judged = {}
    with open_gradebook(course.db_url, write=True) as gb:
        for source_path in course.source_notebooks(assignment):
            if source_path.name not in staged:
                continue
            notebook_id = source_path.stem
            try:
                found = json.loads(read_regular(judge_out / f"{notebook_id}.json", MAX_VERDICTS_FILE))
                verdicts = list(found["verdicts"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                if nbgrader_ok:
                    _fail_closed(gb, course, assignment, notebook_id, student, result, exc)
                continue
            for v in verdicts:
                _explain(v, result)
            timing = found.get("timing")
            for key, value in (timing.items() if isinstance(timing, dict) else ()):
                if key in {"kernel_start", "execute", "judge"} and isinstance(value, (int, float)):
                    result.phases[key] = round(result.phases.get(key, 0.0) + float(value), 3)
            result.reasons.extend(str(line) for line in found.get("incidents", []))
            judged[source_path.name] = found
        gb.db.commit()
        try:
            submission = gb.find_submission(assignment, student)
            result.score, result.max_score = float(submission.score), float(submission.max_score)
            for nb_sub in submission.notebooks:
                for grade in nb_sub.grades:
                    result.cells[grade.name] = float(grade.score)
        except MissingEntry:
            result.max_score = float(gb.find_assignment(assignment).max_score)
    out_dir = course.autograded / student / assignment
    if os.path.isdir(out_dir) and not os.path.islink(out_dir):
        write_atomic(out_dir, JUDGE_FILE, json.dumps(judged, indent=1, default=str))


def _explain(v: dict, result: SubmissionResult) -> None:
    """One verdict's reasons and flags: where the kernel's own verdict and the judge's
    differ, and what the judge said."""
    notebook_score, score = float(v.get("notebook_score") or 0.0), float(v.get("score") or 0.0)
    messages, tampering = list(v.get("messages") or []), list(v.get("tampering") or [])
    gid = str(v.get("grade_id"))
    passed = score == float(v.get("points") or 0.0)
    if notebook_score != score:
        if score < notebook_score:
            what = "; ".join(tampering) if tampering else "; ".join(messages)
            if tampering:
                result.flags.append(f"tampering suspected in {gid}: {what}")
            result.reasons.append(f"{gid}: notebook gave {notebook_score:g}, judge gave {score:g} ({what})")
        elif passed:
            result.reasons.append(f"{gid}: notebook gave {notebook_score:g}, judge found the function correct "
                                  f"and gave {score:g}")
        else:
            result.reasons.append(f"{gid}: partial credit, {score:g} of {float(v.get('points') or 0.0):g} "
                                  f"({_cases_right(v)}): {messages[0] if messages else 'some hidden cases failed'}")
    elif tampering:
        result.flags.append(f"tampering suspected in {gid}: {'; '.join(tampering)}")
    if messages:
        result.messages[gid] = messages
        if not passed and notebook_score == score:
            result.reasons.append(f"{gid}: {messages[0]}")


def _cases_right(v: dict) -> str:
    """"e_step 5 of 6 hidden cases right" from a verdict's per-function counts."""
    cases = v.get("cases") if isinstance(v.get("cases"), dict) else {}
    return "; ".join(f"{name} {counts[0]} of {counts[1]} hidden cases right" for name, counts in cases.items()
                     if isinstance(counts, (list, tuple)) and len(counts) == 2) or "some hidden cases right"


def _fail_closed(gb, course: Course, assignment: str, notebook_id: str, student: str, result: SubmissionResult,
                 why: Exception) -> None:
    """No verdicts for a notebook nbgrader graded: every judged cell of it scores 0."""
    from nbgrader.api import MissingEntry

    from .verdicts import checked_functions

    source = _course_notebook(course.root / "solutions" / assignment / f"{notebook_id}.ipynb")
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and cell.cell_type == "code" and checked_functions(cell)):
            continue
        try:
            grade = gb.find_grade(meta["grade_id"], notebook_id, assignment, student)
        except MissingEntry:
            continue
        grade.auto_score = 0.0
    result.flags.append(f"{notebook_id}: the judge's verdicts are missing; its judged cells score 0")
    result.reasons.append(f"{notebook_id}: no verdict could be had from the graded notebook "
                          f"({type(why).__name__}); its judged cells score 0")


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
    work = Path(tempfile.mkdtemp(prefix=f"emlab-grade-{slot}-"))  # the grader's own: no kernel sees it
    course.staging.mkdir(parents=True, exist_ok=True)
    staging_root = Path(tempfile.mkdtemp(prefix=f"slot-{slot}-", dir=course.staging))  # never shared
    fingerprint = submission_fingerprint(course, student, assignment)
    group = None
    try:
        if STOP.is_set():
            raise Interrupted("the run was interrupted")
        mark = time.monotonic()
        staged = _stage(course, student, assignment, staging_root, result)
        result.phases["stage"] = round(time.monotonic() - mark, 3)
        if not staged:
            result.status = "ungradable"
            _record_ungradable(course, student, assignment, result)
            return result  # (the finally clause below still cleans up)
        runtime, sockets, judge_out = work / "runtime", work / "sockets", work / "judge"
        runtime.mkdir(mode=0o755)
        judge_out.mkdir(mode=0o700)
        hide = tuple(Path(p) for p in os.environ.get("EMLAB_SANDBOX_HIDE", "").split(os.pathsep) if p)
        fontlist = matplotlib_fontlist(course.staging / "matplotlib")
        group = slot_group(str(uid), limits.memory + limits.disk, limits.nproc + 16) if uid is not None else None
        spec = SandboxSpec(course.root, files=staging_root / student / assignment, runtime_dir=runtime,
                           socket_dir=sockets, scratch=work / "kernel", uid=uid,
                           secrets=(course.staging, course.submitted, course.autograded, *hide), fontlist=fontlist,
                           cgroup=group)
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
        env = course.env(JUPYTER_DATA_DIR=str(data_dir), JUPYTER_RUNTIME_DIR=str(work / "client-runtime"),
                         IPYTHONDIR=str(work / "ipython"), MPLCONFIGDIR=str(work / "mpl"),
                         EMLAB_HARNESS="1", EMLAB_RECORD="1", EMLAB_SANDBOX_RUNTIME=str(runtime),
                         EMLAB_SANDBOX_SOCKETS=str(sockets), EMLAB_JUDGE_OUT=str(judge_out),
                         EMLAB_SANDBOX_UID=str(uid) if uid is not None else "", EMLAB_STUDENT_ID=student)
        # The student is named through EMLAB_STUDENT_ID, which nbgrader_config.py hands to
        # nbgrader as a value (glob-escaped): a command-line value would be parsed (a leading
        # ~ expanded to a home folder, quotes stripped).
        args = ["autograde", assignment, "--force",
                f"--CourseDirectory.submitted_directory={os.path.relpath(staging_root, course.root)}"]
        skipped: set[str] = set()
        nbgrader_ok = False
        deadline = started + limits.wall  # one wall-clock limit for every attempt together
        mark = time.monotonic()
        for attempt in range(1 + MAX_SKIPPED_CELLS):
            for stale in judge_out.iterdir():
                stale.unlink()
            code, log, timed_out = _nbgrader(course, args, env, timeout=max(1.0, deadline - time.monotonic()),
                                             uid=uid)
            if uid is not None:
                left = _clear_uid(uid, str(runtime))
                if left:
                    result.reasons.append(f"{left} process(es) the submission left running were killed")
            if not timed_out and code == 0:
                nbgrader_ok = True
                break
            what = (f"ran past the {limits.wall} s wall-clock limit" if timed_out else
                    "crashed nbgrader")
            culprit = _last_started_cell(log)
            if culprit and culprit not in skipped and attempt < MAX_SKIPPED_CELLS and \
                    deadline - time.monotonic() > 5 and \
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
        result.phases["nbgrader"] = round(time.monotonic() - mark, 3)
        if STOP.is_set():
            raise Interrupted("the run was interrupted")
        mark = time.monotonic()
        _apply_verdicts(course, student, assignment, result, judge_out, staged, nbgrader_ok)
        result.phases["verdicts"] = round(time.monotonic() - mark, 3)
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
        if group is not None:
            group.remove()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staging_root, ignore_errors=True)
        result.seconds = round(time.monotonic() - started, 2)
        result.bound()
        if result.status != "interrupted":
            _store_result(course, result)
    return result


def _result_name(student: str) -> str:
    """The file name of a student's stored result: the id made safe for a file name (any
    character, a slash or a leading dot included), with a digest against collisions."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in student)[:80]
    return f"{safe}-{hashlib.sha256(student.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}.json"


def stored_result_path(course: Course, student: str, assignment: str) -> Path:
    """Where a submission's outcome is kept (assignment ids are the course's own folder
    names; student ids are made safe by :func:`_result_name`)."""
    return course.results / assignment / _result_name(student)


def _store_result(course: Course, result: SubmissionResult) -> None:
    """Keep the outcome (status, reasons, flags, the judge's messages) for the grade report,
    written atomically, never through a link."""
    try:
        path = stored_result_path(course, result.student, result.assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path.parent, path.name, json.dumps(result.to_json(), indent=1))
    except OSError:
        pass  # the gradebook holds the grade; only the report's details are lost


def stored_results(course: Course) -> list[SubmissionResult]:
    """Every submission's last stored outcome, sorted by (assignment, student)."""
    results = []
    if not course.results.is_dir():
        return results
    for folder in sorted(course.results.iterdir()):
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.suffix != ".json":
                continue  # a write in progress (or left by a killed run): not an outcome
            try:
                results.append(SubmissionResult(**json.loads(read_regular(path, 16 * MiB))).bound())
            except (OSError, ValueError, TypeError) as exc:  # shown, never silently left out
                results.append(SubmissionResult(
                    student=path.stem, assignment=folder.name, status="failed",
                    reasons=[f"the stored outcome {path.name} could not be read ({type(exc).__name__}): "
                             "grade this submission again"]).bound())
    return sorted(results, key=lambda r: (r.assignment, r.student))
