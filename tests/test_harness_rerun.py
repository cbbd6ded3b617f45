"""make autograde is crash-safe and idempotent: killing a run midway (SIGKILL) loses no grade
already written and leaves the gradebook consistent; a re-run grades only what is missing or
changed, unless --force."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import nbformat
import pytest

import hostile_lab03 as H
from grading_support import solution_sources, temporary_course

NOTEBOOK = "old_faithful.ipynb"
STUDENTS = ["ada", "ben", "cai", "dee"]
FULL = {g: float(p) for g, p in H.POINTS.items()}


def harness(course, *extra, **popen):
    return [sys.executable, "-m", "emlab_judge", "autograde", "--root", str(course.root), *extra]


def results(course) -> dict:
    return {r["student"]: r for r in json.loads((course.autograder / "report" / "results.json").read_text())}


def done(course) -> list[str]:
    return [s for s in STUDENTS if (course.autograder / "autograded" / s / H.ASSIGNMENT / ".emlab-graded.json").exists()]


@pytest.fixture
def course(tmp_path):
    course = temporary_course(tmp_path, [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ("e_step", "m_step", "loglik"))
    for student in STUDENTS:
        dest = course.submission_path(student, H.ASSIGNMENT, NOTEBOOK)
        dest.parent.mkdir(parents=True)
        nbformat.write(H.honest(release, good), dest)
    return course


def test_killed_run_keeps_its_grades_and_a_rerun_grades_only_what_is_missing(course):
    env = {**course.env, "EMLAB_SANDBOX": os.environ.get("EMLAB_SANDBOX", "")}
    proc = subprocess.Popen(harness(course, "--jobs", "1"), cwd=course.root, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=(course.scratch / "run.log").open("w"))
    try:
        deadline = time.monotonic() + 600
        while len(done(course)) < 2:
            assert proc.poll() is None, "the run ended early: " + (course.scratch / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "grading made no progress"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run we started, by its group leader's PID
        proc.wait(timeout=60)
    finished = done(course)
    assert 2 <= len(finished) < len(STUDENTS)

    db = course.autograder / "gradebook.db"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{db}") as gb:
        for student in finished:
            assert gb.find_submission(H.ASSIGNMENT, student).score == sum(FULL.values())

    rerun = subprocess.run(harness(course, "--jobs", "2"), cwd=course.root, env=env, capture_output=True,
                           text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    got = results(course)
    assert {s for s, r in got.items() if r["status"] == "unchanged"} == set(finished)
    assert {s for s, r in got.items() if r["status"] == "graded"} == set(STUDENTS) - set(finished)
    for student in STUDENTS:
        assert {g: got[student]["cells"][g] for g in FULL} == FULL, student

    # a changed submission is graded again, and only it
    path = course.submission_path("ada", H.ASSIGNMENT, NOTEBOOK)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A note added after the deadline."))
    nbformat.write(nb, path)
    subprocess.run(harness(course, "--jobs", "2"), cwd=course.root, env=env, capture_output=True, timeout=900,
                   check=True)
    assert {s for s, r in results(course).items() if r["status"] == "graded"} == {"ada"}

    subprocess.run(harness(course, "--jobs", "2", "--force"), cwd=course.root, env=env, capture_output=True,
                   timeout=900, check=True)
    assert {r["status"] for r in results(course).values()} == {"graded"}
