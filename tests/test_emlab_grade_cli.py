"""emlab-grade finds the course the way an instructor expects and a student cannot steer:
the outermost folder holding a trusted autograder/nbgrader_config.py, never a submission's own
``autograder/`` folder inside the course, never a config someone else could write."""

from __future__ import annotations

import os

import pytest

from emlab_course.cli import course_env, course_root


def _course(folder):
    (folder / "autograder").mkdir(parents=True)
    (folder / "autograder" / "nbgrader_config.py").write_text("c = get_config()\n")
    os.chmod(folder / "autograder" / "nbgrader_config.py", 0o644)
    return folder


def test_a_submission_folder_with_its_own_config_is_not_the_course(tmp_path):
    course = _course(tmp_path / "course")
    planted = _course(course / "autograder" / "submitted" / "bob" / "03-old-faithful")
    assert course_root(planted) == course.resolve()
    assert course_root(planted / "autograder") == course.resolve()


def test_a_config_others_may_write_is_not_trusted(tmp_path):
    course = _course(tmp_path / "course")
    inner = _course(course / "sub")
    os.chmod(course / "autograder" / "nbgrader_config.py", 0o666)
    assert course_root(inner / "autograder") == inner.resolve()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_config_of_another_user_is_not_trusted(tmp_path):
    course = _course(tmp_path / "course")
    inner = _course(course / "sub")
    os.chown(course / "autograder" / "nbgrader_config.py", 23999, 23999)
    assert course_root(inner) == inner.resolve()


def test_the_environment_points_at_the_course(tmp_path):
    course = _course(tmp_path / "course")
    env = course_env(course, {"PATH": "/usr/bin", "PYTHONPATH": "/elsewhere"})
    assert env["JUPYTER_CONFIG_PATH"] == str(course / "autograder")
    assert env["PYTHONPATH"].split(os.pathsep) == [str(course / "autograder"), "/elsewhere"]
