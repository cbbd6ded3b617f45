"""A PostgreSQL gradebook: the harness unchanged, only EMLAB_GRADEBOOK_URL set.

A throw-away PostgreSQL server (initdb in a temporary folder, listening on a free loopback
port, run as an unprivileged user when the tests run as root) holds the gradebook; a
batch of lab-03 submissions (correct, buggy, unreadable, one late) is graded by
``python -m emlab_judge autograde --jobs 2``; every grade is checked in the database,
then ``python -m emlab_judge grades`` makes grades.csv, lms.csv and the report from it.
The server is stopped by its PID.

``make test`` installs Debian's postgresql when missing; elsewhere the test is skipped
with the reason, and with CI=true it fails instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import hostile_lab03 as H
from grading_support import REPO, solution_sources, split_functions, temporary_course

NOTEBOOK = "old_faithful.ipynb"
ANSWERS = ("e_step", "m_step", "loglik")
BANK = REPO / "tests" / "banks" / "lab03"
FULL = {g: float(p) for g, p in H.POINTS.items()}
DUE = dt.datetime(2026, 3, 1, 9, 0)
# student -> (answers: "model" or a bank module, cells expected below full points (partial credit
# keeps the hidden cases a bug does not touch), timestamp or None)
BATCH = {
    "ada": ("model", set(), DUE - dt.timedelta(hours=2)),
    "ben": ("correct_cholesky", set(), None),
    "cai": ("buggy_pi_uniform", {"test_m_step"}, DUE + dt.timedelta(hours=5)),  # late
    "dee": ("buggy_loglik_no_pi", {"test_loglik"}, None),
    "eve": ("buggy_estep_no_pi", {"test_e_step"}, None),
    "fay": ("unreadable", None, None),  # half a notebook: ungradable
}


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """(SQLAlchemy URL, server PID) of a throw-away server; stopped by its PID afterwards."""
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL must be installed in CI (make test installs Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed (as root: apt-get install postgresql; make test does it)")
    psycopg = pytest.importorskip("psycopg")
    base = Path(tempfile.mkdtemp(prefix="emlab-pg-"))  # not under pytest's 0700 root-owned folder
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: an unprivileged user owns the server
        user = pwd.getpwnam("nobody")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": str(base)}
    data = base / "data"
    init = subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "emlab", "--auth=trust",
                           "--encoding=UTF8", "--locale=C", "--no-sync"],
                          capture_output=True, text=True, env=env, timeout=180)
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stdout[-1500:]}{init.stderr[-1500:]}")
    port = _free_port()
    log = (base / "server.log").open("w")
    server = subprocess.Popen([*prefix, str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                               "-p", str(port), "-k", str(base), "-c", "fsync=off", "-c", "max_connections=40"],
                              stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=port, user="emlab", dbname="postgres",
                                     autocommit=True, connect_timeout=2) as conn:
                    conn.execute("CREATE DATABASE gradebook")
                break
            except psycopg.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: " + (base / "server.log").read_text()[-2000:])
                time.sleep(0.2)
        yield f"postgresql+psycopg://emlab@127.0.0.1:{port}/gradebook", server.pid
    finally:
        # setpriv execs postgres: this PID is the postmaster's. SIGINT: fast shutdown.
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def _answers(kind: str, good: dict) -> dict:
    if kind == "model":
        return good
    return split_functions((BANK / f"{kind}.py").read_text(), ANSWERS)


@pytest.fixture(scope="module")
def graded(postgres, tmp_path_factory):
    url, _ = postgres
    course = temporary_course(tmp_path_factory.mktemp("pg"), [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ANSWERS)
    for student, (kind, _, when) in BATCH.items():
        dest = course.submission_path(student, H.ASSIGNMENT, NOTEBOOK)
        dest.parent.mkdir(parents=True)
        if kind == "unreadable":
            text = json.dumps(H.honest(release, good))
            dest.write_text(text[: len(text) // 2])
        else:
            nbformat.write(H.honest(release, _answers(kind, good)), dest)
        if when:  # as nbgrader's collect writes it
            (dest.parent / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="emlab") as gb:  # the instructor sets a due date
        gb.update_or_create_assignment(H.ASSIGNMENT, duedate=DUE)
    env = {**course.env, "EMLAB_GRADEBOOK_URL": url, "EMLAB_SANDBOX": os.environ.get("EMLAB_SANDBOX", "")}
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "autograde", "--root", str(course.root),
                          "--jobs", "2"], cwd=course.root, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-4000:]
    return course, url, env, run


def test_every_grade_is_in_the_postgresql_gradebook(graded):
    from nbgrader.api import Gradebook, MissingEntry

    course, url, _, run = graded
    assert not (course.autograder / "gradebook.db").exists(), "nothing may go to the sqlite default"
    with Gradebook(url, course_id="emlab") as gb:
        for student, (kind, zero, _) in BATCH.items():
            if zero is None:
                with pytest.raises(MissingEntry):
                    gb.find_submission(H.ASSIGNMENT, student)
                gb.find_student(student)  # in the gradebook, with no submission: 0
                continue
            cells = {g: gb.find_grade(g, "old_faithful", H.ASSIGNMENT, student).score for g in FULL}
            assert {g: c for g, c in cells.items() if g not in zero} == {g: p for g, p in FULL.items() if g not in zero}
            assert all(0.0 <= cells[g] < FULL[g] for g in zero), (student, kind, cells)
            submission = gb.find_submission(H.ASSIGNMENT, student)
            assert submission.score == pytest.approx(sum(cells.values()))
    # the same scores as the harness's own results, read back from the gradebook's server
    results = {r["student"]: r for r in json.loads((course.autograder / "report" / "results.json").read_text())}
    with Gradebook(url, course_id="emlab") as gb:
        for student, (kind, zero, _) in BATCH.items():
            if zero is not None:
                assert results[student]["score"] == pytest.approx(gb.find_submission(H.ASSIGNMENT, student).score)
    results = {r["student"]: r for r in json.loads((course.autograder / "report" / "results.json").read_text())}
    assert {s: r["status"] for s, r in results.items()} == {s: "ungradable" if k == "unreadable" else "graded"
                                                           for s, (k, _, _) in BATCH.items()}
    # progress bar (done / total, time left, rate) and the summary line
    assert re.search(r"6/6 done \[[\d:]+ elapsed, [\d:?]+ left,\s+(?:[\d.]+s/submission|[\d.]+submission/s)",
                     run.stderr), run.stderr[-2000:]
    assert re.search(r"graded 6 submission\(s\) in \d+ s, [\d.]+/min on 2 job\(s\), kept 0 unchanged: 0 flagged, "
                     r"1 not fully graded", run.stderr), run.stderr[-2000:]


def test_rerun_against_postgresql_keeps_every_grade(graded):
    course, url, env, _ = graded
    rerun = subprocess.run([sys.executable, "-m", "emlab_judge", "autograde", "--root", str(course.root),
                            "--jobs", "2"], cwd=course.root, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "kept 5 unchanged" in rerun.stderr, rerun.stderr[-2000:]  # the unreadable one is tried again


def test_grades_and_report_from_postgresql(graded):
    course, url, env, _ = graded
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "grades", "--root", str(course.root)],
                         cwd=course.root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="emlab") as gb:  # what the PostgreSQL server holds
        expected = {s: 0.0 if zero is None else float(gb.find_submission(H.ASSIGNMENT, s).score)
                    for s, (_, zero, _) in BATCH.items()}
    assert all(expected[s] < sum(FULL.values()) for s, (_, zero, _) in BATCH.items() if zero)
    rows = list(csv.DictReader((course.autograder / "grades.csv").open()))
    assert {r["student_id"]: float(r["score"]) for r in rows} == pytest.approx(expected)
    lms = list(csv.reader((course.autograder / "lms.csv").open()))
    assert {r[0]: float(r[2]) for r in lms[2:]} == pytest.approx(expected)   # past the due date: 0, not empty
    assert {r[0]: r[3] for r in lms[2:]}["fay"] == "ungradable"
    [stats] = json.loads((course.autograder / "report" / "grades.json").read_text())
    assert stats["late"] == [{"student": "cai", "timestamp": "2026-03-01 14:00", "late_by_hours": 5.0,
                              "late_by": "5.0 h"}]
    assert [u["student"] for u in stats["ungradable"]] == ["fay"]
    questions = {q["name"]: q for q in stats["questions"]}
    for g in FULL:
        below = sum(1 for _, z, _ in BATCH.values() if z is not None and g in z)
        assert questions[g]["full"] == 5 - below and questions[g]["partial"] + questions[g]["zero"] == below, g
        # every submission below full points counts under at least one failure (one per distinct reason)
        failing = sum(n for _, n in questions[g]["failures"])
        assert (failing >= below if below else failing == 0), (g, questions[g]["failures"])
    assert (course.autograder / "report" / "figures" / f"{H.ASSIGNMENT}-scores.png").stat().st_size > 5000


@pytest.fixture
def empty_database(postgres):
    """A second database on the same server, for the concurrency checks."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(postgres[0])
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS stress")
        conn.execute("CREATE DATABASE stress")
    return url.set(database="stress").render_as_string(hide_password=False)


def test_postgresql_concurrent_writers(empty_database):
    from test_harness_gradebook import concurrent_writes_are_all_kept

    concurrent_writes_are_all_kept(empty_database)


def test_postgresql_writer_lock_is_exclusive(empty_database, tmp_path):
    from test_harness_gradebook import lock_is_exclusive_across_processes

    lock_is_exclusive_across_processes(empty_database, tmp_path / "log.txt")
