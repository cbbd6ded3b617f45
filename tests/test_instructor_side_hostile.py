"""What make feedback, make grades' similarity hint and the manual-grade keeper read of a
submission, attacked: a link, a FIFO, a folder or a huge file where a small file or a
notebook should be. Each step must finish (no hang on a FIFO), read nothing through a link,
write nothing outside the course, and name what it refused; checked from outside."""

from __future__ import annotations

import json
import os
import threading

import pytest

from emlab_judge import feedback as fb
from emlab_judge.course import Course
from emlab_judge.manual_grades import _answers
from emlab_judge.results import SubmissionResult, store_result
from emlab_judge.similarity import similar_pairs

LAB, NB = "03-old-faithful", "old_faithful.ipynb"
SECRET = "the grader's secret: do not show"


def _within(seconds, func, *args, **kwargs):
    """Run ``func``; fail if it has not returned after ``seconds`` (a FIFO read would block)."""
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("out", func(*args, **kwargs)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{func.__name__} hung (a FIFO or a huge file was read)"
    return box.get("out")


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.delenv("EMLAB_AUTOGRADER_DIR", raising=False)
    root = tmp_path / "course"
    (root / "solutions" / LAB).mkdir(parents=True)
    (root / "solutions" / LAB / NB).write_text(json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5,
                                                           "metadata": {}}))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    return Course(root), outside


def test_feedback_reads_no_link_fifo_or_huge_file_beside_the_submission(course, monkeypatch):
    course, outside = course
    monkeypatch.setattr(fb, "run_nbgrader", lambda *a, **k: (0, "", False))
    for student, make in {
        "link": lambda f: (os.symlink(outside / "secret.txt", f / "timestamp.txt"),
                           os.symlink(outside / "secret.txt", f / "submission_secret.txt")),
        "fifo": lambda f: (os.mkfifo(f / "timestamp.txt"), os.mkfifo(f / "submission_secret.txt")),
        "dirs": lambda f: ((f / "timestamp.txt").mkdir(), (f / "submission_secret.txt").mkdir()),
        "huge": lambda f: ((f / "timestamp.txt").write_text("2026-01-01 " + "9" * 5_000_000),
                           (f / "submission_secret.txt").write_text("ab" * 3_000_000)),
    }.items():
        folder = course.submitted / student / LAB
        folder.mkdir(parents=True)
        make(folder)
        store_result(course, SubmissionResult(student, LAB, status="ungradable", reasons=["not valid JSON"]))
    run = _within(60, fb.make_feedback, course)
    assert sorted(s for s, _ in run.pages) == ["dirs", "fifo", "huge", "link"]
    for student in ("dirs", "fifo", "huge", "link"):
        folder = course.autograder / "feedback" / student / LAB
        for name in ("timestamp.txt", "submission_secret.txt"):
            text = (folder / name).read_text()
            assert SECRET not in text and len(text) < 1000, (student, name)
            assert not (folder / name).is_symlink()
    assert os.listdir(outside) == ["secret.txt"] and (outside / "secret.txt").read_text() == SECRET


def test_similarity_and_manual_grades_read_no_link_fifo_folder_or_huge_notebook(course):
    course, outside = course
    (outside / NB).write_text(json.dumps({"cells": [{"cell_type": "code", "source": "x = 1\n" * 200,
                                                     "metadata": {"nbgrader": {"solution": True}}}]}))
    for student, make in {
        "link": lambda p: os.symlink(outside / NB, p),
        "fifo": lambda p: os.mkfifo(p),
        "dirs": lambda p: p.mkdir(),
        "huge": lambda p: p.write_text('{"cells": [' + " " * (70 * 2 ** 20) + "]}"),
    }.items():
        folder = course.autograded / student / LAB
        folder.mkdir(parents=True)
        make(folder / NB)
    os.symlink(outside, course.autograded / "linked_student")
    notes: list[str] = []
    pairs = _within(120, similar_pairs, course, LAB, notes=notes)
    assert pairs == []
    assert sorted(n.split(":")[0] for n in notes) == ["dirs", "fifo", "huge", "link"], notes
    for student in ("link", "fifo", "dirs", "huge"):
        assert _within(60, _answers, course.autograded / student / LAB / NB) is None, student
