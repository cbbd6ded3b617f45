"""make autograde is crash-safe and idempotent: killing a run midway (SIGKILL) loses no grade
already written and leaves the gradebook consistent; a re-run grades only what is missing or
changed (a changed submission, a changed source notebook), unless --force; progress bar and
summary line."""

from __future__ import annotations

import json
import os
import re
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
    # a progress bar (done / total, time left, rate) and a summary line
    missing = len(STUDENTS) - len(finished)
    assert re.search(rf"{missing}/{missing} done \[[\d:]+ elapsed, [\d:?]+ left,\s+"
                     r"(?:[\d.]+s/submission|[\d.]+submission/s)",
                     rerun.stderr), rerun.stderr[-2000:]
    assert re.search(rf"graded {missing} submission\(s\) in \d+ s, [\d.]+/min on 2 job\(s\), kept "
                     rf"{len(finished)} unchanged: 0 flagged, 0 not fully graded", rerun.stderr), rerun.stderr[-2000:]
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

    # a changed source notebook: its submissions are graded again (only ben's run here, to be short)
    source = course.source_notebook(H.ASSIGNMENT, NOTEBOOK)
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A clarification added by the instructor."))
    nbformat.write(nb, source)
    subprocess.run(harness(course, "--jobs", "2", "--student", "ben"), cwd=course.root, env=env,
                   capture_output=True, timeout=900, check=True)
    assert {s: r["status"] for s, r in results(course).items()} == {"ben": "graded"}
    assert {g: results(course)["ben"]["cells"][g] for g in FULL} == FULL

    subprocess.run(harness(course, "--jobs", "2", "--force"), cwd=course.root, env=env, capture_output=True,
                   timeout=900, check=True)
    assert {r["status"] for r in results(course).values()} == {"graded"}


def _processes_in(folder) -> list[str]:
    """Processes whose working folder is inside ``folder`` (a grader or kernel left behind)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd == str(folder) or cwd.startswith(str(folder) + os.sep):
            found.append(f"{entry}: {cmd[:200]}")
    return found


def test_ctrl_c_stops_the_run_at_once_and_keeps_what_is_written(course):
    env = {**course.env, "EMLAB_SANDBOX": os.environ.get("EMLAB_SANDBOX", "")}
    log = course.scratch / "run.log"
    proc = subprocess.Popen(harness(course, "--jobs", "2"), cwd=course.root, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        deadline = time.monotonic() + 600
        while not done(course):
            assert proc.poll() is None, "the run ended early: " + log.read_text()[-3000:]
            assert time.monotonic() < deadline, "grading made no progress"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)  # Ctrl-C, to the harness by its PID
        assert proc.wait(timeout=60) == 130, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    assert "interrupted:" in log.read_text()
    deadline = time.monotonic() + 15
    while _processes_in(course.root) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _processes_in(course.root), "a grader or kernel outlived the run"

    finished = done(course)
    assert 1 <= len(finished) < len(STUDENTS)
    db = course.autograder / "gradebook.db"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{db}") as gb:
        for student in finished:
            assert gb.find_submission(H.ASSIGNMENT, student).score == sum(FULL.values())
    # the interrupted ones left no outcome behind; one of them grades normally next time
    stored = {json.loads(p.read_text())["student"]
              for p in (course.autograder / "report" / "submissions" / H.ASSIGNMENT).glob("*.json")}
    assert stored == set(finished)
    left = sorted(set(STUDENTS) - set(finished))[0]
    subprocess.run(harness(course, "--jobs", "1", "--student", left), cwd=course.root, env=env,
                   capture_output=True, timeout=900, check=True)
    got = results(course)[left]
    assert got["status"] == "graded" and {g: got["cells"][g] for g in FULL} == FULL


@pytest.mark.parametrize("changed", ["autograder/emlab_grader/labs/lab03.py", "autograder/emlab_judge/judge.py",
                                     "autograder/nbgrader_config.py"])
def test_a_change_to_the_grading_code_changes_every_fingerprint(course, changed):
    """A changed hidden case, reference, check or configuration grades everyone again (the
    fingerprint that decides what is kept covers the grading code); bytecode caches do not."""
    from emlab_judge.course import Course
    from emlab_judge.fingerprint import submission_fingerprint

    grader = Course(course.root)
    before = {s: submission_fingerprint(grader, s, H.ASSIGNMENT) for s in STUDENTS}
    cache = course.root / "autograder" / "emlab_grader" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "lab03.cpython-311.pyc").write_bytes(b"not source")
    assert {s: submission_fingerprint(grader, s, H.ASSIGNMENT) for s in STUDENTS} == before
    path = course.root / changed
    path.write_text(path.read_text() + "\n# changed\n")
    after = {s: submission_fingerprint(grader, s, H.ASSIGNMENT) for s in STUDENTS}
    assert all(after[s] != before[s] for s in STUDENTS)


def test_a_regrade_keeps_a_standing_manual_grade_and_reviews_a_changed_answer(course):
    """nbgrader's autograde puts every manually graded cell back to "needs manual grade"; the
    harness keeps a manual grade standing when the answer it graded is unchanged (a forced
    regrade), and leaves it for review when the student's answer changed."""
    from nbgrader.api import Gradebook

    env = {**course.env, "EMLAB_SANDBOX": os.environ.get("EMLAB_SANDBOX", "")}
    nb_id, question = NOTEBOOK.removesuffix(".ipynb"), "q_generative"

    def grade(*extra):
        done_ = subprocess.run(harness(course, "--student", "ada", *extra), cwd=course.root, env=env,
                               capture_output=True, text=True, timeout=900)
        assert done_.returncode == 0, done_.stderr[-3000:]

    def state():
        with Gradebook(course.db_url, course_id="emlab") as gb:
            g = gb.find_grade(question, nb_id, H.ASSIGNMENT, "ada")
            return g.manual_score, g.needs_manual_grade

    grade()
    with Gradebook(course.db_url, course_id="emlab") as gb:   # the instructor grades the written answer
        g = gb.find_grade(question, nb_id, H.ASSIGNMENT, "ada")
        g.manual_score, g.needs_manual_grade = 1.5, False
        gb.db.commit()
    grade("--force")
    assert state() == (1.5, False), "a forced regrade sent a standing manual grade back to the queue"
    path = course.submission_path("ada", H.ASSIGNMENT, NOTEBOOK)
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == question]
    cell.source += "\n\nOn second thoughts: the latent variable picks the component."
    nbformat.write(nb, path)
    grade()
    assert state() == (1.5, True), "a changed answer must be reviewed again"
