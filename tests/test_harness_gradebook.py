"""Parallel workers write to one gradebook safely (sqlite here; PostgreSQL in
test_postgres_gradebook.py with the same checks).

- nbgrader's own writes (each worker's ``nbgrader autograde`` child adds its submission and
  scores) from several processes at once: none fails with "database is locked", none is lost;
- the harness's writes (the judge's scores) are serialised by ``writer_lock`` across
  processes: no two holders at once.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grading_support import REPO

sys.path.insert(0, str(REPO / "autograder"))

from emlab_judge.gradebook import SQLITE_TIMEOUT, child_url, writer_lock  # noqa: E402

A, NB, CELLS = "03-old-faithful", "old_faithful", {"test_e_step": 4.0, "test_m_step": 4.0, "test_loglik": 2.0}
WORKERS, PER_WORKER = 3, 4

WRITER = r'''
import sys, time
from nbgrader.api import Gradebook
from emlab_judge.gradebook import child_url, open_gradebook
url, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cells = {"test_e_step": 4.0, "test_m_step": 4.0, "test_loglik": 2.0}
for i in range(n):
    student = f"w{worker}s{i}"
    # as an nbgrader autograde child: its own connection, no harness lock
    with Gradebook(child_url(url), course_id="emlab") as gb:
        gb.update_or_create_student(student)
        gb.add_submission("03-old-faithful", student)
        for name in cells:
            gb.find_grade(name, "old_faithful", "03-old-faithful", student).auto_score = 0.0
        gb.db.commit()
    # as the harness: the judge's scores, under the writer lock
    with open_gradebook(url, write=True) as gb:
        for name, points in cells.items():
            gb.find_grade(name, "old_faithful", "03-old-faithful", student).auto_score = points
            gb.db.commit()
'''

LOCKER = r'''
import os, sys, time
from emlab_judge.gradebook import writer_lock
url, log = sys.argv[1], sys.argv[2]
for _ in range(5):
    with writer_lock(url):
        with open(log, "a") as fh:
            fh.write(f"begin {os.getpid()}\n")
        time.sleep(0.03)
        with open(log, "a") as fh:
            fh.write(f"end {os.getpid()}\n")
'''


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO / "autograder")}


def prepare(url: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(child_url(url), course_id="emlab") as gb:
        gb.update_or_create_assignment(A)
        gb.add_notebook(NB, A)
        for name, points in CELLS.items():
            gb.add_grade_cell(name, NB, A, max_score=points, cell_type="code")


def concurrent_writes_are_all_kept(url: str) -> None:
    """WORKERS processes each add PER_WORKER submissions at once; every score is there."""
    from nbgrader.api import Gradebook

    prepare(url)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, str(w), str(PER_WORKER)], env=_env(),
                              stderr=subprocess.PIPE, text=True) for w in range(WORKERS)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(e[-1500:] for e in errors)
    with Gradebook(child_url(url), course_id="emlab") as gb:
        scores = {s.student.id: s.score for s in gb.find_assignment(A).submissions}
    assert scores == {f"w{w}s{i}": sum(CELLS.values()) for w in range(WORKERS) for i in range(PER_WORKER)}


def lock_is_exclusive_across_processes(url: str, log: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", LOCKER, url, str(log)], env=_env(), stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(e[-1500:] for e in errors)
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 3 * 5 * 2
    for begin, end in zip(lines[::2], lines[1::2]):  # every holder ends before the next begins
        assert begin.startswith("begin ") and end == "end " + begin.split()[1], lines


def test_child_url_gives_sqlite_a_busy_timeout():
    assert child_url("sqlite:////x/gradebook.db") == f"sqlite:////x/gradebook.db?timeout={SQLITE_TIMEOUT}"
    assert child_url("sqlite:////x/gradebook.db?timeout=5") == "sqlite:////x/gradebook.db?timeout=5"
    pg = "postgresql+psycopg://grader:s3cret@db.example:5432/emlab"
    assert child_url(pg) == pg


def test_sqlite_concurrent_writers(tmp_path):
    db = tmp_path / "gradebook.db"
    concurrent_writes_are_all_kept(f"sqlite:///{db}")
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sqlite_writer_lock_is_exclusive(tmp_path):
    lock_is_exclusive_across_processes(f"sqlite:///{tmp_path / 'gradebook.db'}", tmp_path / "log.txt")


def test_writer_lock_is_reentrant_in_a_thread(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with writer_lock(url), writer_lock(url):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
