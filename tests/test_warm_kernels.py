"""Warm kernels (autograder/emlab_judge/kernel_forkserver.py): a kernel forked from the fork
server into a submission's sandbox must be exactly as confined as a kernel started cold in it,
must really be warm, must share nothing with the other kernels forked from the same server,
and must fall back to a cold start when the server cannot serve.

Every fact is read from inside the kernels by probe cells of the submissions themselves and
compared between a batch graded warm and the same batch graded cold (EMLAB_WARM_KERNELS=off).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

import hostile_lab03 as H
from grading_support import REPO, solution_sources, temporary_course

sys.path.insert(0, str(REPO / "autograder"))

from emlab_judge import kernel_forkserver  # noqa: E402

NOTEBOOK = "old_faithful.ipynb"
STUDENTS = ("ada", "ben")

# first cell: what was already imported before any cell ran, and unseeded random draws
FIRST = r'''
import sys as _sys, os as _os, random as _random
_preloaded = sorted(m for m in ("numpy", "scipy.stats", "matplotlib.pyplot", "sklearn.mixture") if m in _sys.modules)
print("FIRST " + __import__("json").dumps({"preloaded": _preloaded, "random": _random.random(),
      "numpy": __import__("numpy").random.random(), "pid_in_sandbox": _os.getpid()}))
'''

# last cell: the sandbox as the kernel sees it
LAST = r'''
import json, os, resource, socket, sys
def _status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
def _net():
    try:
        socket.create_connection(("10.0.0.1", 80), timeout=1).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__
_fds = {}
for _fd in os.listdir("/proc/self/fd"):
    try:
        _target = os.readlink("/proc/self/fd/" + _fd)
    except OSError:
        continue
    _kind = _target.split(":")[0] if ":" in _target and not _target.startswith("/") else "path"
    _fds.setdefault(_kind, []).append(_target if _kind == "path" else "")
_own = {os.getpid()}
_procs = {}
for _e in os.listdir("/proc"):
    if _e.isdigit():
        try:
            with open("/proc/%s/stat" % _e, "rb") as _fh:
                _ppid = int(_fh.read().rpartition(b")")[2].split()[1])
            with open("/proc/%s/cmdline" % _e, "rb") as _fh:
                _procs[int(_e)] = (_ppid, _fh.read(300).replace(b"\0", b" ").decode().strip())
        except (OSError, ValueError):
            pass
for _ in range(6):
    _own |= {p for p, (pp, _c) in _procs.items() if pp in _own}
# a file opened now stays open when matplotlib's font caches are emptied (no object left
# from the fork server's warm-up holds a descriptor number the kernel reuses)
_probe_files = [open("/tmp/work/_probe_%d.txt" % i, "w+") for i in range(4)]
for _i, _fh in enumerate(_probe_files):
    _fh.write(str(_i)); _fh.flush()
import gc, matplotlib.mathtext, matplotlib.font_manager
for _cache in (matplotlib.mathtext.MathTextParser._parse_cached, getattr(matplotlib.font_manager, "_get_font", None)):
    if hasattr(_cache, "cache_clear"):
        _cache.cache_clear()
gc.collect()
_intact = []
for _i, _fh in enumerate(_probe_files):
    try:
        _fh.seek(0); _intact.append(_fh.read() == str(_i))
    except OSError:
        _intact.append(False)
print("LAST " + json.dumps({
    "files_intact": all(_intact),
    "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()],
    "no_new_privs": _status("NoNewPrivs"), "cap_eff": _status("CapEff"), "cap_prm": _status("CapPrm"),
    "cap_amb": _status("CapAmb"), "seccomp": _status("Seccomp"),
    "cwd": os.getcwd(), "hostname": socket.gethostname(), "network": _net(),
    "root": sorted(os.listdir("/")),
    "tmp": sorted("emlab-grade-*" if n.startswith("emlab-grade-") else n for n in os.listdir("/tmp")),
    "env": dict(sorted((k, v) for k, v in os.environ.items() if not k.startswith(("JPY_", "PYDEVD", "CLICOLOR",
                                                                             "PAGER", "GIT_PAGER", "TERM")))),
    "rlimits": {n: resource.getrlimit(getattr(resource, "RLIMIT_" + n)) for n in ("AS", "CPU", "NPROC", "FSIZE", "CORE")},
    "fd_paths": sorted(p for p in _fds.get("path", []) if not p.startswith(("/dev/", "/proc/"))),
    "cgroup": open("/proc/self/cgroup").read(),
    "trusted_modules": sorted(m for m in sys.modules if m.startswith("emlab_judge") or "kernel_forkserver" in m),
    "trusted_files": sorted(k + ": " + str(getattr(m, "__file__", "") or "") for k, m in list(sys.modules.items())
                            if "emlab_judge" in str(getattr(m, "__file__", "") or "")),
    "sys_path_last": sys.path[-1], "sys_path_has_cwd": "" in sys.path or "." in sys.path,
    "umask": os.umask(0o022),
    "other_processes": sorted(c for p, (pp, c) in _procs.items() if p not in _own and pp != 0),
    "course_visible": [p for p in ("solutions", "autograder/gradebook.db", "autograder/autograded", "autograder/emlab_judge") if os.path.exists(os.path.join(@COURSE@, p))],
}))
'''


def _sandbox_and_root_or_skip():
    from emlab_judge.sandbox import sandbox_status

    ok, why = sandbox_status()
    if ok and not kernel_forkserver.usable():
        why, ok = "warm kernels need root, unshare and pidfds", False
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"warm kernels must be tested in CI: {why} (make test runs as root with bubblewrap)")
        pytest.skip(f"warm kernels cannot run here: {why}")


CALL = r'''
import json, sys
from emlab_judge.batch import grade_folder
run = grade_folder(sys.argv[1], jobs=2, sandbox=True, force=True, progress=False, report=False)
print(json.dumps([r.to_json() for r in run.results]))
'''


def _grade(course, warm: bool) -> tuple[list[dict], dict]:
    env = {**course.env, "EMLAB_WARM_KERNELS": "on" if warm else "off"}
    proc = subprocess.run([sys.executable, "-c", CALL, str(course.root)], cwd=course.root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    seen = {}
    for student in STUDENTS:
        nb = nbformat.read(course.autograder / "autograded" / student / H.ASSIGNMENT / NOTEBOOK, as_version=4)
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
        first, last = re.search(r"FIRST (\{.*\})", text), re.search(r"LAST (\{.*\})", text)
        assert first and last, f"the probes did not run for {student}: {text[-2000:]}"
        seen[student] = {"first": json.loads(first.group(1)), "last": json.loads(last.group(1))}
    return results, seen


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    _sandbox_and_root_or_skip()
    course = temporary_course(tmp_path_factory.mktemp("warm"), [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ("e_step", "m_step", "loglik"))
    for student in STUDENTS:
        nb = H.honest(release, good)
        nb.cells.insert(0, nbformat.v4.new_code_cell(FIRST))
        nb.cells.append(nbformat.v4.new_code_cell(LAST.replace("@COURSE@", repr(str(course.root)))))
        dest = course.submission_path(student, H.ASSIGNMENT, NOTEBOOK)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    return course, _grade(course, warm=True), _grade(course, warm=False)


def test_warm_kernels_are_warm_and_grade_in_full(graded):
    _, (warm_results, warm), (cold_results, cold) = graded
    for results in (warm_results, cold_results):
        assert [(r["student"], r["status"], r["score"]) for r in results] == \
            [(s, "graded", sum(H.POINTS.values())) for s in STUDENTS]
        assert all(r["sandboxed"] for r in results)
    for student in STUDENTS:
        # the scientific stack was there before the first cell: the kernel was forked warm
        assert warm[student]["first"]["preloaded"] == ["matplotlib.pyplot", "numpy", "scipy.stats", "sklearn.mixture"], (warm, cold)
        assert "sklearn.mixture" not in cold[student]["first"]["preloaded"]


def test_a_warm_kernel_is_as_confined_as_a_cold_one(graded):
    course, (_, warm), (_, cold) = graded
    for student in STUDENTS:
        w, c = warm[student]["last"], cold[student]["last"]
        # the slot's uid is whichever this machine had free for each run: the same shape
        assert len(set(w["ids"][:4])) == 1 and len(set(c["ids"][:4])) == 1 and w["ids"][4] == c["ids"][4]
        for key in ("no_new_privs", "cap_eff", "cap_prm", "cap_amb", "seccomp", "cwd", "hostname", "network",
                    "root", "tmp", "env", "fd_paths", "files_intact", "cgroup", "sys_path_last", "sys_path_has_cwd",
                    "umask", "course_visible", "trusted_modules", "trusted_files"):
            assert w[key] == c[key], f"{student}: {key} differs warm {w[key]!r} / cold {c[key]!r}"
        # the same limits, but for the address space: a warm kernel's is raised by what the
        # fork server's imports took, so a student's arrays have at least a cold kernel's room
        assert {k: v for k, v in w["rlimits"].items() if k != "AS"} == \
            {k: v for k, v in c["rlimits"].items() if k != "AS"}
        assert c["rlimits"]["AS"][0] < w["rlimits"]["AS"][0] < c["rlimits"]["AS"][0] + 2 * 1024 ** 3
        assert w["files_intact"] is True
        if os.geteuid() == 0:
            assert w["ids"][0] != 0 and w["ids"][4] == [], "the kernel must run as the slot's own uid, no groups"
        assert w["no_new_privs"] == "1" and int(w["cap_eff"], 16) == 0 and int(w["cap_prm"], 16) == 0
        assert w["network"] != "connected" and w["course_visible"] == []
        assert w["trusted_modules"] == [] and w["trusted_files"] == []
        assert w["sys_path_has_cwd"] is False and w["sys_path_last"] == "/tmp/work"
        # its own PID namespace: besides its own processes only the sandbox's init and the
        # process that holds the sandbox open for it
        assert set(w["other_processes"]) <= {"sleep infinity"} and all(
            "emlab" not in p and "python" not in p for p in w["other_processes"]), w["other_processes"]


def test_warm_kernels_share_no_random_state(graded):
    _, (_, warm), _ = graded
    a, b = (warm[s]["first"] for s in STUDENTS)
    assert a["random"] != b["random"] and a["numpy"] != b["numpy"]


def test_a_request_for_the_servers_own_namespaces_is_refused():
    """Never a kernel outside a sandbox: namespaces shared with the server are refused."""
    me = os.getpid()
    fd = os.pidfd_open(me)
    try:
        with pytest.raises(PermissionError, match="shares this process's"):
            kernel_forkserver._sandbox_namespaces(me, fd)
    finally:
        os.close(fd)


def test_a_dead_server_means_a_cold_kernel_in_the_same_sandbox(tmp_path):
    """The launcher falls back to the cold argv when the server's socket answers nothing."""
    marker = tmp_path / "cold-ran"
    spec = {"socket": str(tmp_path / "no-server"), "holder": ["/bin/sh", "-c", "exit 0"],
            "cold": ["/bin/sh", "-c", f"echo @CONNECTION_FILE@ > {marker}"], "request": {"argv": []}}
    import base64

    encoded = base64.b64encode(json.dumps(spec).encode()).decode()
    proc = subprocess.run([sys.executable, "-P", kernel_forkserver.__file__, "launch", encoded, "/conn.json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text().strip() == "/conn.json"


GOOD_REQUEST = {"uid": 61000, "module": "emlab_grader.kernel", "pid": 4242, "argv": ["-f", "/c.json"], "env": {},
                "rlimits": {"as": 1}, "cgroups": ["/sys/fs/cgroup/pids/emlab-61000/cgroup.procs"]}


@pytest.mark.parametrize("change, why", [
    ({"uid": 0}, "unprivileged"), ({"uid": None}, "unprivileged"), ({"uid": True}, "unprivileged"),
    ({"uid": "61000"}, "unprivileged"), ({"module": "emlab_judge.reference"}, "only emlab_grader.kernel"),
    ({"pid": 1}, "no sandbox"), ({"pid": "4242"}, "no sandbox"),
    ({"cgroups": ["/etc/passwd"]}, "grader's own"),
    ({"cgroups": ["/sys/fs/cgroup/emlab-1/../../../etc/cgroup.procs"]}, "grader's own"),
    ({"argv": "-f /c.json"}, "malformed"), ({"env": None}, "malformed"),
])
def test_the_fork_server_refuses_a_request_that_would_not_confine_the_kernel(change, why):
    assert kernel_forkserver._valid_request(GOOD_REQUEST) is None
    assert why in kernel_forkserver._valid_request({**GOOD_REQUEST, **change})


def test_a_warm_kernel_is_recognised_by_the_servers_command_line():
    server = f"/venv/bin/python -P {REPO}/autograder/emlab_judge/kernel_forkserver.py serve 7"
    assert kernel_forkserver.is_server(server)
    assert not kernel_forkserver.is_server("python -c serve 7")
    assert not kernel_forkserver.is_server("sleep infinity")
