"""The grading trust boundary (issue 15), judged from outside the harness.

Two courses, each a temporary copy, graded by ``python -m emlab_judge autograde`` (the
``make autograde`` path) on lab 03 with a 15 s cell timeout:

- the main batch (--jobs 2): every case of tests/hostile_boundary.py, an honest student
  after each class of attack, run with a secret (PGPASSWORD) in the harness's
  environment; then ``nbgrader generate_feedback``, ``nbgrader export`` and
  ``python -m emlab_judge grades``;
- the re-run course: submissions graded once, then given a special file (links to
  /proc/self/pagemap, /proc/self/mem, /dev/zero, a FIFO, a 10 GB sparse file) and graded
  again, by default and with --force.

What is asserted comes from outside the harness wherever it can: scores from the
gradebook, files compared by hash, mode and owner before and after, the graded notebooks'
and feedback files' bytes, the wall time and the grader's peak memory measured by polling
/proc, processes left running, nbgrader's own CSV export. The harness's report is used
only for what only it can say (status, reasons, flags).

The table (class, case, expected, got) is printed and written to
test-artifacts/hostile_boundary.txt.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import re
import resource
import secrets
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

import hostile_boundary as B
from grading_support import REPO, run_nbgrader, scores_from_gradebook, solution_sources, temporary_course

ARTIFACT = REPO / "test-artifacts" / "hostile_boundary.txt"
MiB = 1024 ** 2
GiB = B.GiB
CELL_TIMEOUT = B.CELL_TIMEOUT  # EMLAB_CELL_TIMEOUT
WALL_LIMIT = 150  # EMLAB_WALL_LIMIT, per submission
JOBS = 2
# The main batch must end within BOUND_BASE s plus, per grading slot, twice an honest
# submission's time for every submission (at least BOUND_PER_SUBMISSION s: the machine may be
# shared) and the time its runaway cells and probes take by design (Case.takes): about 4
# minutes for the 42 submissions on an idle machine, against 150 s x 42 for the sum of the
# wall limits. No submission may take longer than twice an honest one, plus what its cells
# take by design, plus SUBMISSION_SLACK s (a cell timeout and a kernel restart is more).
BOUND_BASE, BOUND_PER_SUBMISSION, SUBMISSION_SLACK = 60, 5, 10
# A run is stopped when no submission has been reported for this long (three times the
# wall limit, as a submission may be graded again after a cell that hung) or after HARD_STOP.
STALL, HARD_STOP = 3 * WALL_LIMIT + 60, 3600
GRADER_MEMORY = 1 * GiB  # peak resident memory of any grader process (kernels not counted)
NOTEBOOK_MAX = 25 * MiB  # a graded notebook
FOLDER_MAX = 25 * MiB  # a student's autograded or feedback folder
FILL_MAX = 1 * GiB  # what a kernel may write into /tmp or its working folder
REPORT_MAX = 5 * MiB  # results.json, report.md, report.html
# A guard for the shared machine, not a limit under test: the harness process (and so
# everything it starts) gets this much address space, so that a harness that reads a
# 10 GB sparse file or a special file whole fails instead of filling the memory.
HARNESS_ADDRESS_SPACE = 4 * GiB
SECRET = "sekrit-" + secrets.token_hex(8)
FULL = {g: float(p) for g, p in B.POINTS.items()}


# --------------------------------------------------------------------------- processes

def _stat(pid: int):
    """(ppid, start time, state) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            tail = fh.read().rpartition(b")")[2].split()
        return int(tail[1]), int(tail[19]), tail[0].decode()
    except (OSError, IndexError, ValueError):
        return None


def _status(pid: int) -> dict:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return {}


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read(2000).replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class ProcessWatch(threading.Thread):
    """Every process under the harness, seen by polling /proc: the peak resident memory
    (VmHWM) of the grader's own processes (what runs in the sandbox, or as another uid,
    left out), and which of them outlive the harness."""

    def __init__(self, root: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.seen: dict[tuple[int, int], dict] = {}
        self.grader_peak_kb, self.grader_peak_cmd = 0, ""
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.poll()
            self.done.wait(self.interval)

    def poll(self):
        stats, children = {}, defaultdict(list)
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (st := _stat(int(entry))):
                stats[int(entry)] = st
                children[st[0]].append(int(entry))
        stack = [(self.root, False)]
        while stack:
            pid, parent_sandboxed = stack.pop()
            if pid not in stats:
                continue
            key = (pid, stats[pid][1])
            info = self.seen.setdefault(key, {"sandboxed": False, "cmd": ""})
            cmd, status = _cmdline(pid), _status(pid)
            uid = int(status.get("Uid", "-1").split()[0]) if status.get("Uid") else -1
            argv0 = os.path.basename(cmd.split(" ")[0]) if cmd else ""
            info["cmd"] = cmd or info["cmd"]
            info["sandboxed"] |= parent_sandboxed or (uid not in (-1, os.getuid())) or argv0 == "bwrap" \
                or "ipykernel_launcher" in cmd
            if not info["sandboxed"]:
                hwm = int(status.get("VmHWM", "0 kB").split()[0]) if status.get("VmHWM") else 0
                if hwm > self.grader_peak_kb:
                    self.grader_peak_kb, self.grader_peak_cmd = hwm, cmd[:160]
            stack.extend((child, info["sandboxed"]) for child in children.get(pid, []))

    def stop(self):
        self.done.set()
        self.join(10)

    def alive(self) -> list[tuple[int, int, str]]:
        out = []
        for (pid, start), info in self.seen.items():
            st = _stat(pid)
            if st and st[1] == start and st[2] not in ("Z", "X"):
                out.append((pid, start, info["cmd"]))
        return out

    def kill_leftovers(self) -> list[str]:
        """SIGKILL, by PID, every process of this harness run still alive (checked by its
        start time, so no other process that got the PID since is touched)."""
        left = self.alive()
        for pid, start, _ in left:
            st = _stat(pid)
            if st and st[1] == start:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        return [cmd[:120] for _, _, cmd in left]


def _guard():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = HARNESS_ADDRESS_SPACE if hard == resource.RLIM_INFINITY else min(hard, HARNESS_ADDRESS_SPACE)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@dataclass
class Run:
    code: int | None  # None: stopped by the test (see stopped)
    seconds: float
    log: str
    grader_peak: int  # bytes
    grader_peak_cmd: str
    left_running: list[str]
    stopped: str = ""  # why the test stopped it


def _reported(course) -> int:
    folder = course.autograder / "report" / "submissions" / B.ASSIGNMENT
    return len(os.listdir(folder)) if folder.is_dir() else 0


def run_harness(course, env: dict, *args: str, log: Path) -> Run:
    """Run the harness, watching its processes; stop it (SIGKILL to its process group, then
    to every process of the run still alive) when it reports nothing for STALL seconds."""
    cmd = [sys.executable, "-m", "emlab_judge", "autograde", "--root", str(course.root), "--jobs", str(JOBS), *args]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=course.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_guard)
    watch = ProcessWatch(proc.pid)
    watch.start()
    stopped, reported, last = "", _reported(course), time.monotonic()
    while proc.poll() is None:
        time.sleep(2)
        if (now := _reported(course)) != reported:
            reported, last = now, time.monotonic()
        if time.monotonic() - last > STALL or time.monotonic() - started > HARD_STOP:
            stopped = (f"nothing reported for {time.monotonic() - last:.0f} s" if time.monotonic() - last > STALL
                       else f"still running after {HARD_STOP} s")
            os.killpg(proc.pid, signal.SIGKILL)  # the harness we started, by its group leader's PID
            break
    code = None if stopped else proc.returncode
    proc.wait(60)
    seconds = time.monotonic() - started
    time.sleep(1.0)  # what the harness killed on its way out is gone by now
    watch.stop()
    left = watch.kill_leftovers()
    return Run(code, round(seconds, 1), log.read_text(errors="replace"), watch.grader_peak_kb * 1024,
               watch.grader_peak_cmd, left, stopped)


# --------------------------------------------------------------------------- files

def _kind(mode: int) -> str:
    return {stat.S_IFREG: "file", stat.S_IFDIR: "folder", stat.S_IFLNK: "link", stat.S_IFIFO: "FIFO",
            stat.S_IFSOCK: "socket", stat.S_IFCHR: "device", stat.S_IFBLK: "device"}.get(stat.S_IFMT(mode), "?")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _entries(top: Path):
    """top and everything under it, links not followed."""
    if not os.path.lexists(top):
        return
    yield top
    if top.is_dir() and not top.is_symlink():
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                yield Path(folder) / name


def snapshot(tops) -> dict[str, tuple]:
    """{path: (kind, mode, uid, gid, content)}: content a sha256 (size and mtime for files
    over 64 MB), a link's target, or nothing."""
    out = {}
    for top in tops:
        for path in _entries(Path(top)):
            if "__pycache__" in path.parts:
                continue
            st = os.lstat(path)
            kind = _kind(st.st_mode)
            if kind == "file":
                content = _sha256(path) if st.st_size <= 64 * MiB else f"{st.st_size} bytes, mtime {st.st_mtime_ns}"
            elif kind == "link":
                content = "-> " + os.readlink(path)
            else:
                content = ""
            out[str(path)] = (kind, oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, content)
    return out


def changed(before: dict, after: dict) -> list[str]:
    lines = []
    for path, was in before.items():
        now = after.get(path)
        if now != was:
            lines.append(f"{path}: {was[:4]} -> {now[:4] if now else 'missing'}"
                         + (" (content changed)" if now and now[4] != was[4] else ""))
    return lines


def _regular_bytes(path: Path, limit: int) -> bytes | None:
    """A regular file's first ``limit`` bytes, never following a link or opening a FIFO."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read(limit)


def contains(path: Path, needles: list[bytes]) -> list[bytes]:
    """Which needles a regular file holds (read in chunks, links not followed)."""
    found = set()
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return []
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return []
    overlap = max(len(n) for n in needles)
    with os.fdopen(fd, "rb") as fh:
        tail = b""
        while chunk := fh.read(16 * MiB):
            window = tail + chunk
            found.update(n for n in needles if n in window)
            tail = window[-overlap:]
    return sorted(found)


def special_entries(top: Path) -> list[str]:
    """Anything under top that is not a regular file or a folder."""
    return [f"{p} ({_kind(os.lstat(p).st_mode)})" for p in _entries(top)
            if _kind(os.lstat(p).st_mode) not in ("file", "folder")]


def tree_size(top: Path) -> int:
    return sum(os.lstat(p).st_size for p in _entries(top) if _kind(os.lstat(p).st_mode) == "file")


def graded_notebook(course, student: str):
    """(notebook or None, what is at its path)."""
    path = course.autograder / "autograded" / student / B.ASSIGNMENT / B.NOTEBOOK
    try:
        st = os.lstat(path)
    except OSError:
        return None, "no graded notebook"
    if not stat.S_ISREG(st.st_mode):
        return None, f"the graded notebook is a {_kind(st.st_mode)}"
    if st.st_size > 400 * MiB:
        return None, f"the graded notebook is {st.st_size / MiB:.0f} MB"
    try:
        return nbformat.reads(_regular_bytes(path, st.st_size + 1).decode(), as_version=4), f"{st.st_size} bytes"
    except Exception as exc:
        return None, f"the graded notebook does not parse: {type(exc).__name__}"


def _output_text(output) -> str:
    parts = [output.get("text", ""), output.get("ename", ""), str(output.get("evalue", ""))]
    parts += output.get("traceback", []) or []
    for value in (output.get("data") or {}).values():
        parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def outputs_text(nb) -> str:
    return "\n".join(_output_text(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _probe_json(nb, tag: str):
    """The last ``<tag> {json}`` line a probe cell printed in graded notebook ``nb``, parsed;
    None when the notebook is missing or no such line was printed."""
    found = re.findall(tag + r" (\{.*\})", outputs_text(nb)) if nb is not None else []
    return json.loads(found[-1]) if found else None


# --------------------------------------------------------------------------- the gradebook

@dataclass
class GradebookState:
    error: str = ""
    students: frozenset = frozenset()
    scores: dict = dataclasses.field(default_factory=dict)  # {student: {grade_id: score, "total": ...}}


def gradebook_state(course) -> GradebookState:
    db = course.autograder / "gradebook.db"
    try:
        st = os.lstat(db)
        if not stat.S_ISREG(st.st_mode):
            return GradebookState(error=f"the gradebook is a {_kind(st.st_mode)}")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            check = con.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            return GradebookState(error=f"integrity check: {check}")
        from nbgrader.api import Gradebook

        with Gradebook(course.db_url) as gb:
            students = frozenset(s.id for s in gb.students)
        return GradebookState(students=students, scores=scores_from_gradebook(course, B.ASSIGNMENT))
    except Exception as exc:
        return GradebookState(error=f"{type(exc).__name__}: {exc}"[:300])


def load_results(course) -> tuple[dict, str]:
    """The harness's outcome per student: results.json, or, when the run ended without
    writing it, the per-submission files it writes as each is graded."""
    report = course.autograder / "report"
    data = _regular_bytes(report / "results.json", 200 * MiB)
    if data is not None:
        return {r["student"]: r for r in json.loads(data)}, "results.json"
    out = {}
    for path in sorted((report / "submissions" / B.ASSIGNMENT).glob("*.json")):
        try:
            r = json.loads(_regular_bytes(path, 200 * MiB) or b"{}")
            out[r["student"]] = r
        except (ValueError, KeyError):
            continue
    return out, "per-submission files only (no results.json)"


def export_rows(course) -> tuple[dict, str]:
    out = course.scratch / f"export-{time.monotonic_ns()}.csv"
    try:
        run_nbgrader(course, "export", "--to", str(out), timeout=300)
        from emlab_judge.export import from_inert  # an id like -c00_probe_a is written '-c00_probe_a

        with out.open(newline="") as fh:
            return {from_inert(r["student_id"]): r for r in csv.DictReader(fh)}, ""
    except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyError) as exc:
        return {}, str(exc)[-600:]


# --------------------------------------------------------------------------- the batches

def _sandbox_or_skip():
    sys.path.insert(0, str(REPO / "autograder"))
    from emlab_judge.sandbox import sandbox_status

    ok, why = sandbox_status()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"the grading sandbox must run in CI: {why} (make test installs bubblewrap)")
        pytest.skip(f"bubblewrap sandbox unavailable here: {why}")


def _env(course) -> dict:
    hide = os.pathsep.join(str(REPO / p) for p in ("solutions", "autograder", "tests", ".git", "notebooks"))
    return {**course.env, "EMLAB_CELL_TIMEOUT": str(CELL_TIMEOUT), "EMLAB_WALL_LIMIT": str(WALL_LIMIT),
            "EMLAB_SANDBOX_HIDE": hide, "PGPASSWORD": SECRET}


def _start(course):
    release = nbformat.read(course.release_notebook(B.ASSIGNMENT, B.NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(B.ASSIGNMENT, B.NOTEBOOK), B.ANSWERS)
    return release, good


@dataclass
class Batch:
    """The main batch, graded, and what was seen outside the harness before and after."""

    course: object
    where: B.Where
    run: Run
    bound: float
    results: dict
    results_source: str
    unbuilt: dict
    before: dict
    after: dict
    gradebook: GradebookState
    export: dict
    export_error: str
    feedback_error: str
    grades: subprocess.CompletedProcess | None
    tmp: Path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Every case of tests/hostile_boundary.py graded in one run (--jobs 2), beside a 0600
    file outside the course and a graded notebook of last term's; then feedback for kinds
    1 to 5, make grades and nbgrader's export."""
    _sandbox_or_skip()
    tmp = tmp_path_factory.mktemp("boundary")
    course = temporary_course(tmp, [B.ASSIGNMENT])
    release, good = _start(course)
    outside = tmp / "outside" / "private.txt"
    outside.parent.mkdir()
    outside.write_text(f"{B.OUTSIDE_MARKER}\n")
    outside.chmod(0o600)
    where = B.Where(course.root, outside, SECRET)
    last_term = nbformat.v4.new_notebook(metadata={"marker": B.LAST_TERM_MARKER})
    B.write(where.graded(B.LAST_TERM).parent, last_term)
    where.graded(B.LAST_TERM).chmod(0o644)

    unbuilt = {}
    for case in B.CASES:
        folder = course.autograder / "submitted" / case.student / B.ASSIGNMENT
        try:
            case.build(folder, release, good, where)
        except OSError as exc:  # a hard link where the filesystem refuses one
            unbuilt[case.student] = f"{type(exc).__name__}: {exc}"
            if not (folder / B.NOTEBOOK).exists():
                B.write(folder, B.honest(release, good))
    watched = [course.root / "solutions", course.root / "notebooks", course.autograder / "emlab_judge",
               course.autograder / "emlab_grader", course.autograder / "nbgrader_config.py",
               course.autograder / "submitted", outside.parent, where.graded(B.LAST_TERM).parent]
    before = snapshot(watched)

    run = run_harness(course, _env(course), log=course.scratch / "autograde.log")
    results, source = load_results(course)
    bound = batch_bound(results)

    # make feedback for the classes that put files beside the notebook or in its folder
    feedback_course = dataclasses.replace(course, env={**course.env, "PGPASSWORD": SECRET})
    try:
        run_nbgrader(feedback_course, "generate_feedback", B.ASSIGNMENT, "--student=c0[1-5]_*", "--force",
                     timeout=900)
        feedback_error = ""
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        feedback_error = str(exc)[-1500:]
    try:
        grades = subprocess.run([sys.executable, "-m", "emlab_judge", "grades", "--root", str(course.root)],
                                cwd=course.root, env=feedback_course.env, capture_output=True, text=True,
                                timeout=600)
    except subprocess.TimeoutExpired:
        grades = None
    export, export_error = export_rows(course)
    after = snapshot(watched)
    yield Batch(course, where, run, bound, results, source, unbuilt, before, after, gradebook_state(course),
                export, export_error, feedback_error, grades, tmp)
    _remove_large_files(tmp)


def per_submission(results: dict) -> float:
    """Twice the median time of an honest submission in this run (at least
    BOUND_PER_SUBMISSION): the unit of the time bounds, as the machine may be shared."""
    honest = sorted(r["seconds"] for s, r in results.items() if s in {c.student for c in B.CASES if c.kind == 0})
    return max(BOUND_PER_SUBMISSION, 2 * honest[len(honest) // 2] if honest else 0)


def batch_bound(results: dict) -> float:
    """The main batch's time bound (see BOUND_BASE)."""
    return BOUND_BASE + (per_submission(results) * len(B.CASES) + sum(c.takes for c in B.CASES)) / JOBS


def _remove_large_files(top: Path):
    """The fills and the sparse file: not kept among pytest's temporary folders."""
    for path in _entries(top):
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_size > 50 * MiB:
                path.unlink()
        except OSError:
            pass


@dataclass
class Rerun:
    """The re-run course: each run's outcome, gradebook and export."""

    course: object
    runs: dict  # label -> (Run, results, gradebook, export)


@pytest.fixture(scope="module")
def rerun(tmp_path_factory):
    """Submissions graded once, given special files, then graded by default and with
    --force."""
    _sandbox_or_skip()
    tmp = tmp_path_factory.mktemp("boundary-rerun")
    course = temporary_course(tmp, [B.ASSIGNMENT])
    release, good = _start(course)
    students = [c.student for c in B.RERUN_CASES] + [B.RERUN_HONEST]
    for student in students:
        B.write(course.autograder / "submitted" / student / B.ASSIGNMENT, B.honest(release, good))
    runs = {}

    def grade(label, *args):
        run = run_harness(course, _env(course), *args, log=course.scratch / f"{label}.log")
        runs[label] = (run, load_results(course)[0], gradebook_state(course), export_rows(course)[0])

    grade("first run")
    for case in B.RERUN_CASES:
        case.add(course.autograder / "submitted" / case.student / B.ASSIGNMENT)
    grade("default re-run")
    grade("--force re-run", "--force")
    yield Rerun(course, runs)
    _remove_large_files(tmp)


# --------------------------------------------------------------------------- evaluation

@dataclass
class Row:
    """One line of the table: a case or a check of the whole run."""

    kind: int
    case: str
    expected: str
    got: str
    ok: bool
    detail: str = ""


def _cells(scores: dict | None) -> dict:
    return {g: float((scores or {}).get(g, 0.0)) for g in B.POINTS}


def _shown(cells: dict) -> str:
    return ", ".join(f"{g.removeprefix('test_')} {cells[g]:g}" for g in B.POINTS)


def _real_flags(result: dict) -> list[str]:
    return [f for f in result.get("flags", []) if not f.startswith("UNSANDBOXED")]


# Each probe returns (problems, what it saw).

def _probe_leak(case, b: Batch, nb, note):
    if nb is None:
        return [note], ""
    text = outputs_text(nb)
    markers = [B.SOLUTION_MARKER, B.REFERENCE_MARKER, B.GRADEBOOK_MARKER, B.PEER_MARKER, B.OUTSIDE_MARKER,
               B.LAST_TERM_MARKER, SECRET]
    found = [m for m in markers if m in text]
    files = len(re.findall(r"^FILE ", text, re.M))
    return ([f"its outputs show what a link pointed at: {found}"] if found else []), f"{files} file(s) readable beside it"


def _probe_markers(case, b: Batch, nb, note):
    seen = _probe_json(nb, "PROBE4")
    if seen is None:
        return [f"the probe cell printed nothing ({note})"], ""
    problems = []
    if seen["markers"]:
        problems.append(f"ran before the cells: {sorted({os.path.basename(m) for m in seen['markers']})}")
    if seen["numpy patched"] or not seen["allclose honest"]:
        problems.append(f"numpy was patched by {seen['numpy patched']}")
    if seen["modules from cwd"]:
        problems.append(f"modules imported from the working folder: {seen['modules from cwd']}")
    if not seen["emlab_grader"]:
        problems.append("emlab_grader came from the working folder")
    return problems, "probe: no marker, numpy and emlab_grader the real ones" if not problems else ""


def _probe_procs(case, b: Batch, nb, note):
    seen = _probe_json(nb, "PROBE6")
    if seen is None:
        return [f"the probe cell printed nothing ({note})"], ""
    problems = []
    if seen["foreign"]:
        problems.append(f"sees the other probe: {seen['foreign'][:2]}")
    if seen["not own count"]:
        problems.append(f"sees {seen['not own count']} process(es) not of its sandbox, e.g. {seen['not own'][:3]}")
    if not seen["pids"]:
        problems.append("saw no process at all")
    return problems, f"saw {seen['pids']} pid(s), {seen['not own count']} not its own"


def _probe_fill(case, b: Batch, nb, note):
    found = re.findall(r"FILLED (\w+) (\d+)", outputs_text(nb)) if nb is not None else []
    if not found:
        return [f"the fill cell reported nothing ({note})"], ""
    info = ", ".join(f"wrote {int(n) / MiB:.0f} MiB into {where}" for where, n in found)
    return [f"{info} (each must stay under {FILL_MAX / GiB:g} GiB)"] if any(int(n) >= FILL_MAX for _, n in found) \
        else [], info


def _probe_small(case, b: Batch, nb, note):
    problems, sizes = [], []
    path = b.course.autograder / "autograded" / case.student / B.ASSIGNMENT
    for label, top in [("autograded", path), ("feedback", b.course.autograder / "feedback" / case.student)]:
        size = tree_size(top)
        sizes.append(f"{label} {size / MiB:.1f} MB")
        if size >= FOLDER_MAX:
            problems.append(f"{label} folder {size / MiB:.0f} MB")
    if os.path.lexists(path / B.NOTEBOOK):
        if (size := os.lstat(path / B.NOTEBOOK).st_size) >= NOTEBOOK_MAX:
            problems.append(f"graded notebook {size / MiB:.0f} MB")
    else:
        problems.append("no graded notebook")
    return problems, ", ".join(sizes)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _probe_interrupt(case, b: Batch, nb, note):
    if nb is None:
        return [note], ""
    before, after = _probe_json(nb, "TOKEN-BEFORE"), _probe_json(nb, "TOKEN-AFTER")
    problems = []
    if not before or not after:
        return [f"the cells around the runaway one printed nothing (before {bool(before)}, after {bool(after)})"], ""
    if after["token"] != before["token"] or after["pid"] != before["pid"]:
        problems.append(f"the kernel was restarted (pid {before['pid']} -> {after['pid']})")
    took = after["t"] - before["t"]
    if took > CELL_TIMEOUT + 6:
        problems.append(f"the runaway cell cost {took:.0f} s (the cell timeout is {CELL_TIMEOUT} s)")
    runaway = [c for c in nb.cells if c.cell_type == "code" and ("while True" in c.source or "sleep(3600)" in c.source)]
    errors = [o for c in runaway for o in c.get("outputs", []) if o.get("output_type") == "error"]
    said = " ".join(_ANSI.sub("", f"{o.get('ename', '')}: {o.get('evalue', '')} {' '.join(o.get('traceback', []))}")
                    for o in errors)
    if not (re.search(r"time limit", said, re.I) and re.search(r"interrupt", said, re.I)) or \
            re.search(r"ignor|restart", said, re.I):
        shown = "; ".join(f"{o.get('ename', '')}: {o.get('evalue', '')} "
                          f"[{_ANSI.sub('', (o.get('traceback') or [''])[-1]).strip()[:80]}]" for o in errors)
        problems.append(f"its error does not say it ran past the time limit and was interrupted: {shown!r}")
    return problems, f"the runaway cell took {took:.0f} s" + ("" if after["pid"] != before["pid"] else ", same kernel")


PROBES = {"leak": _probe_leak, "markers": _probe_markers, "procs": _probe_procs, "fill": _probe_fill,
          "small": _probe_small, "interrupt": _probe_interrupt}


def case_row(case: B.Case, b: Batch) -> Row:
    result = b.results.get(case.student)
    status = result["status"] if result else "not reported"
    text = " | ".join((result or {}).get("flags", []) + (result or {}).get("reasons", []))
    cells = _cells(b.gradebook.scores.get(case.student))
    if result is None:
        return Row(case.kind, f"{case.student}: {case.title}", "reported", f"{_shown(cells)}; not reported", False)
    problems = []
    if b.gradebook.error:
        problems.append(f"gradebook: {b.gradebook.error}")
    elif case.student not in b.gradebook.students:
        problems.append("not in the gradebook")
    if case.student in b.unbuilt:
        return Row(case.kind, case.title, "(built)", f"not built: {b.unbuilt[case.student]}",
                   case.student == "c01_hardlink")
    odd = "odd id" in case.probe
    if case.ungradable:
        expected = "ungradable with a reason, 0"
        if status != "ungradable":
            problems.append(f"status {status}")
        if any(cells.values()):
            problems.append("scored")
    elif case.loses:
        expected = f"0 on {', '.join(g.removeprefix('test_') for g in case.loses)}" + (", flagged" if case.flagged else "")
        problems += [f"keeps {cells[g]:g} on {g}" for g in case.loses if cells[g] != 0.0]
        if case.flagged and not _real_flags(result or {}):
            problems.append("not flagged")
    elif odd:
        expected = "graded in full, or ungradable with a reason"
        if not ((status == "graded" and cells == FULL) or (status == "ungradable" and result and result["reasons"])):
            problems.append(f"status {status}, {_shown(cells)}")
    else:
        expected = "full marks"
        if cells != FULL:
            problems.append(f"{_shown(cells)} in the gradebook")
        if status != "graded":
            problems.append(f"status {status}")
        if case.kind == 0 and any(f.startswith("tampering") for f in (result or {}).get("flags", [])):
            problems.append("flagged as tampering")
    if case.says:
        expected += f"; reasons name {', '.join('/' + s + '/' for s in case.says)}"
        unnamed = [s for s in case.says if not re.search(s, text, re.I)]
        if unnamed:
            problems.append(f"reasons do not name {unnamed}")
    nb, note = graded_notebook(b.course, case.student) if case.probe else (None, "")
    seen = []
    for probe in case.probe:
        if probe in PROBES:
            expected += f"; {probe} probe clean"
            found, info = PROBES[probe](case, b, nb, note)
            problems += found
            seen += [info] if info and not found else []
    limit = per_submission(b.results) + case.takes + SUBMISSION_SLACK
    if result["seconds"] > limit:
        problems.append(f"took {result['seconds']:.0f} s (over {limit:.0f} s)")
    if b.gradebook.error:  # what the harness says it gave, for the reader
        problems.append(f"harness says {_shown(_cells(result.get('cells')))}")
    got = f"{_shown(cells)}; {status}" + "".join(f"; {x}" for x in problems + seen)
    return Row(case.kind, f"{case.student}: {case.title}", expected, got, not problems, text[:240])


def batch_rows(b: Batch) -> list[Row]:
    rows = []
    course, auto = b.course, b.course.autograder
    students = {c.student for c in B.CASES}
    run = b.run

    # kind 3: the batch is bounded and complete
    finished = run.code is not None and run.seconds <= b.bound
    rows.append(Row(3, "the batch ends, exit 0, within its bound", f"exit 0 in <= {b.bound:.0f} s",
                    f"exit {run.code} after {run.seconds:.0f} s" + (f" (stopped: {run.stopped})" if run.stopped else ""),
                    finished and run.code == 0, run.log[-600:] if not finished or run.code else ""))
    missing = sorted(students - set(b.results))
    rows.append(Row(3, "every submission is reported", "all in results.json",
                    f"{len(students) - len(missing)}/{len(students)} from {b.results_source}"
                    + (f"; missing {missing[:8]}" if missing else ""),
                    not missing and b.results_source == "results.json"))
    rows.append(Row(3, "no process of the batch outlives it", "none left running",
                    f"{len(run.left_running)} left" + (f": {run.left_running[:3]}" if run.left_running else ""),
                    not run.left_running))

    # kind 1: nothing linked reaches the graded notebooks, feedback or reports
    needles = [SECRET.encode()]
    leaked = [f"{p.relative_to(auto)}" for top in (auto / "autograded", auto / "feedback", auto / "report")
              for p in _entries(top) if contains(p, needles)]
    rows.append(Row(1, "the grader's secret (PGPASSWORD) appears nowhere", "in no graded notebook, feedback, report",
                    f"found in {leaked[:5]}" if leaked else "nowhere", not leaked))
    markers = [m.encode() for m in (B.SOLUTION_MARKER, B.REFERENCE_MARKER, B.GRADEBOOK_MARKER, B.OUTSIDE_MARKER,
                                    B.LAST_TERM_MARKER)]
    found = []
    for p in _entries(auto / "feedback"):
        hits = contains(p, markers + ([] if B.PEER in p.parts else [B.PEER_MARKER.encode()]))
        if hits:
            found.append(f"{p.relative_to(auto / 'feedback')}: {[h.decode() for h in hits]}")
    specials = special_entries(auto / "feedback")
    made = sorted(os.listdir(auto / "feedback")) if (auto / "feedback").is_dir() else []
    rows.append(Row(1, "feedback holds no link and no linked content", "regular files only, no markers",
                    f"{len(made)} feedback folders; " + ("; ".join(found[:3] + specials[:3]) or "clean"),
                    bool(made) and not found and not specials, b.feedback_error[-300:]))
    rows.append(Row(1, "nbgrader generate_feedback runs on these students", "exit 0", b.feedback_error[-200:] or "exit 0",
                    not b.feedback_error))
    diff = [line for line in changed(b.before, b.after) if str(b.where.outside.parent) not in line
            and B.LAST_TERM not in line]
    rows.append(Row(1, "course files and submissions unchanged", "same hash, mode, owner",
                    f"{len(diff)} changed: {diff[:3]}" if diff else "unchanged", not diff))

    # kind 2: what planted links point at
    for label, top in [("the 0600 file outside the course", str(b.where.outside.parent)),
                       ("last term's graded notebook", B.LAST_TERM)]:
        diff = [line for line in changed(b.before, b.after) if top in line]
        rows.append(Row(2, f"{label} unchanged", "same bytes, mode, owner",
                        "; ".join(diff[:2]) or "unchanged", not diff))
    peer, note = graded_notebook(course, B.PEER)
    intact = peer is not None and B.PEER_MARKER in "".join(c.source for c in peer.cells)
    rows.append(Row(2, "the peer's graded notebook is its own", "a notebook with the peer's answers",
                    "intact" if intact else note, intact))
    gb = b.gradebook
    absent = sorted(students - gb.students) if not gb.error else []
    rows.append(Row(2, "the gradebook opens, intact, with every student", "integrity ok, all students",
                    gb.error or (f"missing {absent[:6]}" if absent else f"{len(gb.students)} students"),
                    not gb.error and not absent))
    grades = b.grades
    rows.append(Row(2, "python -m emlab_judge grades (make grades)", "exit 0",
                    "timed out" if grades is None else f"exit {grades.returncode}",
                    grades is not None and grades.returncode == 0,
                    "" if grades is None else grades.stderr[-300:]))
    specials = special_entries(auto / "autograded") + special_entries(auto / "feedback")
    rows.append(Row(2, "autograded/ and feedback/ hold no link, FIFO or device", "regular files and folders",
                    f"{len(specials)}: {specials[:4]}" if specials else "none", not specials))

    # kind 5: the grader's memory and the report
    rows.append(Row(5, "the grader's peak memory (polled /proc, kernels left out)",
                    f"< {GRADER_MEMORY / GiB:g} GiB", f"{run.grader_peak / MiB:.0f} MiB ({run.grader_peak_cmd[:60]})",
                    run.grader_peak < GRADER_MEMORY))
    sizes = {n: os.lstat(auto / "report" / n).st_size for n in ("results.json", "report.md", "report.html")
             if os.path.lexists(auto / "report" / n)}
    rows.append(Row(5, "the run's report stays small", f"each < {REPORT_MAX / MiB:g} MB",
                    ", ".join(f"{n} {s / MiB:.1f} MB" for n, s in sizes.items()) or "no report",
                    bool(sizes) and all(s < REPORT_MAX for s in sizes.values())))

    # kind 6: the probes ran at the same time
    probes = []
    for student in B.PROBES:
        nb, _ = graded_notebook(course, student)
        probes.append(_probe_json(nb, "PROBE6"))
    overlap = all(probes) and min(p["end"] for p in probes) > max(p["start"] for p in probes)
    rows.append(Row(6, "the two probes ran side by side", "their 36 s windows overlap",
                    "overlapped" if overlap else f"no overlap: {[p and (p['start'], p['end']) for p in probes]}",
                    bool(overlap)))

    # kind 10: every student in nbgrader's export; no id reached a shell
    absent = sorted(students - set(b.export))
    wrong = [s for s, r in b.export.items() if s in gb.scores and
             abs(float(r["score"]) - gb.scores[s]["total"]) > 1e-6]
    rows.append(Row(10, "nbgrader export lists every student with the gradebook's score", "all, same scores",
                    b.export_error[-200:] or (f"missing {absent[:6]}; wrong {wrong[:4]}" if absent or wrong
                                              else f"{len(b.export)} rows"),
                    not b.export_error and not absent and not wrong))
    pwned = [str(p) for p in _entries(b.tmp) if p.name in B.PWNED] + \
        [str(REPO / n) for n in B.PWNED if os.path.lexists(REPO / n)]
    rows.append(Row(10, "no student id reached a shell", f"no file {B.PWNED}", f"found {pwned}" if pwned else "none",
                    not pwned))
    return rows


def rerun_rows(r: Rerun) -> list[Row]:
    rows = []
    students = {c.student for c in B.RERUN_CASES} | {B.RERUN_HONEST}
    for label, (run, results, gb, export) in r.runs.items():
        problems = []
        if run.code != 0:
            problems.append(f"exit {run.code} after {run.seconds:.0f} s" + (f" ({run.stopped})" if run.stopped else ""))
        if missing := sorted(students - set(results)):
            problems.append(f"not reported: {missing}")
        if gb.error:
            problems.append(f"gradebook: {gb.error}")
        for student in sorted(students & set(results)):
            res = results[student]
            cells = _cells(gb.scores.get(student))
            if res["status"] not in ("graded", "unchanged") or cells != FULL:
                problems.append(f"{student}: {res['status']}, {_shown(cells)}: {' | '.join(res['reasons'])[:120]}")
        if missing := sorted(students - set(export)):
            problems.append(f"not in nbgrader export: {missing}")
        if label == "--force re-run":
            for case in B.RERUN_CASES:
                reasons = " | ".join(results.get(case.student, {}).get("reasons", []))
                folder = r.course.autograder / "submitted" / case.student / B.ASSIGNMENT
                unnamed = [f for f in case.files if os.path.lexists(folder / f)
                           and not re.search(rf"(?<![\w.]){re.escape(f)}(?![\w.])", reasons)]
                if unnamed:
                    problems.append(f"{case.student}: reasons do not name {unnamed}")
        rows.append(Row(10, f"re-run course, {label}" + ("" if label == "first run" else
                                                         ": after " + ", ".join(c.title for c in B.RERUN_CASES)),
                        "exit 0, everyone graded in full" + (", reasons name each file" if "force" in label else ""),
                        "; ".join(problems) or f"exit 0 in {run.seconds:.0f} s, everyone graded", not problems,
                        run.log[-400:] if problems else ""))
    return rows


def format_table(rows: list[Row]) -> str:
    width = min(90, max(len(r.case) for r in rows))
    lines = []
    for r in rows:
        lines.append(f"{'ok' if r.ok else 'FAIL':4}  k{r.kind:<2}  {r.case[:width]:{width}}  expected: {r.expected}")
        lines.append(f"{'':10}{'':{width}}  got: {r.got}")
        if r.detail and not r.ok:
            lines.append(f"{'':10}{'':{width}}  ({r.detail[:300]!r})")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def table(batch, rerun) -> list[Row]:
    """Every row, printed and written to ARTIFACT."""
    rows = [case_row(case, batch) for case in B.CASES] + batch_rows(batch) + rerun_rows(rerun)
    rows.sort(key=lambda r: r.kind)
    runs = [("main batch", batch.run)] + [(f"re-run course, {k}", v[0]) for k, v in rerun.runs.items()]
    header = "\n".join(f"{label}: exit {run.code}, {run.seconds:.0f} s, grader peak {run.grader_peak / MiB:.0f} MiB"
                       for label, run in runs)
    text = (f"issue 15, the grading trust boundary: {sum(r.ok for r in rows)}/{len(rows)} ok\n{header}\n\n"
            + format_table(rows))
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(text + "\n")
    print("\n" + text)
    return rows


def _assert_kind(rows: list[Row], *kinds: int):
    failures = [r for r in rows if r.kind in kinds and not r.ok]
    assert not failures, "\n".join(f"{r.case}: expected {r.expected}; got {r.got}" for r in failures)


# --------------------------------------------------------------------------- tests

def test_loot_answers_score_when_a_link_is_followed(tmp_path, monkeypatch):
    """The kind-1 answer cells are a real attack: given a regular copy of the solution
    notebook, or of reference.py, beside them, they compute the right answers."""
    import shutil

    import numpy as np
    from emlab_judge import reference

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    mu, Sigma, pi = rng.normal(size=(2, 2)), np.stack([np.eye(2), 2 * np.eye(2)]), np.array([0.3, 0.7])
    gamma = reference.e_step(X, mu, Sigma, pi)
    for name, source in [("sol.txt", REPO / "solutions" / B.ASSIGNMENT / B.NOTEBOOK),
                         ("hard_reference.py", REPO / "autograder" / "emlab_judge" / "reference.py")]:
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(source, folder / name)
        monkeypatch.chdir(folder)
        ns = {"__name__": "__main__"}
        exec("import numpy as np\nfrom scipy.special import logsumexp\nfrom scipy.stats import multivariate_normal",
             ns)
        for answer in B.LOOT_ANSWERS.values():
            exec(answer, ns)
        assert np.allclose(ns["e_step"](X, mu, Sigma, pi), gamma), name
        assert np.allclose(ns["loglik"](X, mu, Sigma, pi), reference.loglik(X, mu, Sigma, pi)), name
        for got, want in zip(ns["m_step"](X, gamma), reference.m_step(X, gamma)):
            assert np.allclose(got, want), name
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    ns = {"np": np}
    exec(B.LOOT_ANSWERS["loglik"], ns)
    assert ns["loglik"](X, mu, Sigma, pi) == -1.0, "without a link the answers are wrong"


def test_links_beside_the_notebook_are_not_followed(table):
    """Kind 1: links (relative, absolute, to a folder, /proc/self/...), hard links, the
    notebook itself a link, a FIFO or a folder; nothing they point at reaches the kernel,
    the graded notebook, the feedback or the report."""
    _assert_kind(table, 1)


def test_links_planted_by_the_kernel_redirect_no_write(table):
    """Kind 2: links the kernel plants where the grader writes leave their targets, the
    gradebook and `make grades` intact."""
    _assert_kind(table, 2)


def test_verdicts_fail_closed_and_the_batch_is_bounded(table):
    """Kind 3: a notebook deleted or replaced (folder, FIFO), by a cell or by a process it
    left running, and hidden checks that record nothing: the wrong cells score 0, flagged;
    the batch ends in bounded time and grades everyone after them."""
    _assert_kind(table, 3)


def test_code_beside_the_notebook_runs_nothing(table):
    """Kind 4: ipykernel_launcher.py, sitecustomize.py, ipython_kernel_config.py, numpy.py,
    emlab_grader.py beside the notebook: nothing runs before the cells, nothing shadows
    what the hidden tests import, the honest answers keep full marks."""
    _assert_kind(table, 4)


def test_limits_have_no_gaps(table):
    """Kind 5: /tmp and the working folder capped well under 1 GiB; outputs of every MIME
    type and error messages truncated; the grader's memory bounded."""
    _assert_kind(table, 5)


def test_kernel_sees_only_its_own_processes(table):
    """Kind 6: two kernels graded side by side see neither each other nor the grader."""
    _assert_kind(table, 6)


def test_runaway_cell_is_interrupted_not_restarted(table):
    """Kind 7: a runaway cell is interrupted at the cell timeout, in the same kernel."""
    _assert_kind(table, 7)


def test_odd_input_is_graded_and_exported(table):
    """Kind 10: odd student ids, a 10 GB sparse file, special files added to a folder
    graded before (re-run with and without --force): everyone graded or reported
    ungradable, everyone in the gradebook and in nbgrader's export."""
    _assert_kind(table, 10)


def test_honest_students_after_each_class_keep_full_marks(table):
    _assert_kind(table, 0)
