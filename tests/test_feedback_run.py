"""make feedback (emlab_judge.feedback) without grading anything: which labs get nbgrader's
feedback, which are skipped, and the page an ungradable submission gets; a student id or a
reason carrying HTML, and a feedback folder planted as a link, change nothing outside."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO
from emlab_judge import feedback as fb
from emlab_judge.course import Course
from emlab_judge.results import SubmissionResult, store_result


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.delenv("EMLAB_AUTOGRADER_DIR", raising=False)
    root = tmp_path / "course"
    for lab in ("01-two-means", "02-lower-bound", "03-old-faithful"):
        (root / "solutions" / lab).mkdir(parents=True)
        (root / "solutions" / lab / f"{lab[3:].replace('-', '_')}.ipynb").write_text("{}")
    (root / "autograder" / "autograded" / "ada" / "01-two-means").mkdir(parents=True)
    return Course(root)


def _fake_nbgrader(calls, code=0):
    def run(course, args, env, timeout=None):
        calls.append(args)
        return code, "nbgrader output", False
    return run


def test_only_labs_with_graded_work_get_nbgrader_feedback(course, monkeypatch):
    calls = []
    monkeypatch.setattr(fb, "run_nbgrader", _fake_nbgrader(calls))
    run = fb.make_feedback(course)
    assert [c[:2] for c in calls] == [["generate_feedback", "01-two-means"]]
    assert run.labs["01-two-means"].startswith("made")
    assert run.labs["02-lower-bound"] == run.labs["03-old-faithful"] == "skipped: no graded submissions yet"
    assert run.ok


def test_one_lab_failing_does_not_stop_the_next(course, monkeypatch):
    (course.autograded / "ada" / "03-old-faithful").mkdir()
    calls = []
    monkeypatch.setattr(fb, "run_nbgrader", _fake_nbgrader(calls, code=1))
    run = fb.make_feedback(course)
    assert [c[1] for c in calls] == ["01-two-means", "03-old-faithful"]
    assert run.labs["01-two-means"].startswith("failed") and not run.ok


def test_an_ungradable_submission_gets_a_page_with_its_reasons_escaped(course, monkeypatch):
    monkeypatch.setattr(fb, "run_nbgrader", _fake_nbgrader([]))
    evil = 'bob<img src=x onerror=alert(1)>'
    store_result(course, SubmissionResult("bob", "02-lower-bound", status="ungradable",
                                          reasons=[f"the notebook is not valid JSON: {evil}"]))
    store_result(course, SubmissionResult("cy", "02-lower-bound", status="graded", score=3.0, max_score=12.0))
    submitted = course.submitted / "bob" / "02-lower-bound"
    submitted.mkdir(parents=True)
    (submitted / "timestamp.txt").write_text("2026-03-01 09:00:00.000000 UTC")
    (submitted / "submission_secret.txt").write_text("ab" * 64)
    run = fb.make_feedback(course)
    assert run.pages == [("bob", "02-lower-bound")]
    folder = course.autograder / "feedback" / "bob" / "02-lower-bound"
    page = (folder / "lower_bound.html").read_text()
    assert "could not be graded" in page and "not valid JSON" in page
    assert "<img" not in page and "&lt;img" in page
    assert (folder / "timestamp.txt").read_text() == "2026-03-01 09:00:00.000000 UTC"
    assert (folder / "submission_secret.txt").read_text() == "ab" * 64
    assert not (course.autograder / "feedback" / "cy").exists()


def test_a_planted_link_is_never_written_through(course, monkeypatch, tmp_path):
    monkeypatch.setattr(fb, "run_nbgrader", _fake_nbgrader([]))
    outside = tmp_path / "outside"
    outside.mkdir()
    (course.autograder / "feedback").mkdir(parents=True)
    os.symlink(outside, course.autograder / "feedback" / "eve")
    store_result(course, SubmissionResult("eve", "01-two-means", status="ungradable", reasons=["broken"]))
    (course.submitted / "eve" / "01-two-means").mkdir(parents=True)
    for bad in ("..", "a/b"):
        store_result(course, SubmissionResult(bad, "01-two-means", status="ungradable", reasons=["broken"]))
    run = fb.make_feedback(course)
    assert list(outside.iterdir()) == []
    assert any("eve" in p for p in run.problems)
    assert not run.ok


def test_make_feedback_runs_the_harness_command():
    """The Makefile's feedback target is the harness's feedback command (not a loop that stops
    at the first lab without graded work)."""
    makefile = (REPO / "Makefile").read_text()
    target = makefile.split("\nfeedback:", 1)[1].split("\n\n", 1)[0]
    assert "-m emlab_judge feedback" in target and "generate_feedback" not in target
    done = subprocess.run([sys.executable, "-m", "emlab_judge", "feedback", "--help"], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "autograder")})
    assert done.returncode == 0 and "--assignment" in done.stdout


def test_the_page_tells_students_what_they_can_act_on_and_release_never_stops(course, monkeypatch):
    """The grader's own failures (its exceptions, nbgrader's log) become one plain sentence; a
    missing or malformed submission_secret.txt becomes a fresh random secret (nbgrader's
    release_feedback stops on an empty one); a stored outcome with no submitted folder gets no
    page."""
    monkeypatch.setattr(fb, "run_nbgrader", _fake_nbgrader([]))
    store_result(course, SubmissionResult("gil", "01-two-means", status="failed", reasons=[
        "grading error: OSError: /srv/course/autograder/.staging/3 is busy",
        "nbgrader could not grade it: [AutogradeApp | ERROR] Traceback ..."]))
    store_result(course, SubmissionResult("ghost", "01-two-means", status="failed", reasons=["unreadable"]))
    submitted = course.submitted / "gil" / "01-two-means"
    submitted.mkdir(parents=True)
    (submitted / "submission_secret.txt").write_text("")
    run = fb.make_feedback(course)
    assert run.pages == [("gil", "01-two-means")]
    folder = course.autograder / "feedback" / "gil" / "01-two-means"
    page = (folder / "two_means.html").read_text()
    assert "the grader itself failed" in page and "OSError" not in page and "AutogradeApp" not in page
    assert re.fullmatch(r"[0-9a-f]{128}", (folder / "submission_secret.txt").read_text())
