"""The formgrader's submission-file handler (patched by emlab_judge.nbgrader_fixes) serves
only files inside the submission's own graded folder, through no link, with headers that
keep anything served inert (no script runs with the instructor's session)."""

from __future__ import annotations

import os
import types

import pytest
from tornado import web

from emlab_judge import nbgrader_fixes
from emlab_judge.nbgrader_fixes import INERT_HEADERS, submission_file_path


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    graded = root / "autograder" / "autograded" / "ada" / "03-old-faithful"
    graded.mkdir(parents=True)
    (graded / "old_faithful.ipynb").write_text("{}")
    (graded / "data").mkdir()
    (graded / "data" / "points.csv").write_text("1,2\n")
    (root / "solutions" / "03-old-faithful").mkdir(parents=True)
    (root / "solutions" / "03-old-faithful" / "old_faithful.ipynb").write_text("SOLUTION")
    (root / "autograder" / "submitted" / "ada" / "03-old-faithful").mkdir(parents=True)
    (root / "autograder" / "submitted" / "ada" / "03-old-faithful" / "x.html").write_text("<script>")
    os.symlink(root / "solutions", graded / "sol")
    return root, graded


@pytest.mark.parametrize("path", ["../../../../solutions/03-old-faithful/old_faithful.ipynb",
                                  "../../../submitted/ada/03-old-faithful/x.html", "data/../../../bob/x", "..",
                                  "", ".", "sol/03-old-faithful/old_faithful.ipynb", "/etc/passwd"])
def test_paths_outside_the_submission_or_through_a_link_are_not_found(course, path):
    root, graded = course
    assert submission_file_path(str(graded), path) is None


@pytest.mark.parametrize("path", ["old_faithful.ipynb", "data/points.csv", "data/./points.csv", "data/x/../points.csv"])
def test_the_submissions_own_files_are_found(course, path):
    root, graded = course
    assert submission_file_path(str(graded), path) == os.path.normpath(os.path.join(graded, path))


def _handler(root, students=("ada",)):
    """A stand-in with what the patched methods use: a gradebook and nbgrader's CourseDirectory."""
    from nbgrader.api import MissingEntry
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(root), autograded_directory="autograder/autograded")
    coursedir.assignment_id = "03-old-faithful"

    def find(submission_id):
        if submission_id not in students:
            raise MissingEntry()
        return types.SimpleNamespace(assignment=types.SimpleNamespace(assignment=types.SimpleNamespace(
            name="03-old-faithful")), student=types.SimpleNamespace(id=submission_id))

    headers = {}
    return types.SimpleNamespace(gradebook=types.SimpleNamespace(find_submission_notebook_by_id=find),
                                 coursedir=coursedir, headers=headers,
                                 set_header=lambda name, value: headers.__setitem__(name, value))


def test_the_patched_handler_refuses_what_nbgrader_served(course):
    root, graded = course
    fake = _handler(root)
    patched = nbgrader_fixes._submission_files_parse_url_path
    for path in ["ada/../../../../solutions/03-old-faithful/old_faithful.ipynb", "ada/sol/x", "nobody/x", "ada"]:
        with pytest.raises(web.HTTPError) as err:
            patched(fake, path)
        assert err.value.status_code == 404
    assert patched(fake, "ada/data/points.csv") == str(graded / "data" / "points.csv")
    nbgrader_fixes._inert_headers(fake, "x.html")
    assert fake.headers == INERT_HEADERS


def test_install_patches_the_formgrader_once_it_is_loaded():
    from nbgrader.server_extensions.formgrader import handlers

    nbgrader_fixes.install()
    assert handlers.SubmissionFilesHandler.parse_url_path is nbgrader_fixes._submission_files_parse_url_path
    assert handlers.SubmissionFilesHandler.set_extra_headers is nbgrader_fixes._inert_headers
