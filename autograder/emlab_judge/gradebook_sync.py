"""Register the course's assignments in the gradebook before a batch grades them.

One job: put each assignment's grade cells in the gradebook (``nbgrader
generate_assignment`` into a throw-away release folder), under the gradebook's writer lock
so that several grading machines may start at once. It reads the trusted ``solutions/``
only, never a submission, and writes no grade.
"""

from __future__ import annotations

import tempfile

from .course import Course
from .gradebook import writer_lock
from .nbgrader_run import run_nbgrader

__all__ = ["sync_gradebook"]


def sync_gradebook(course: Course, assignments: list[str]) -> None:
    """Put each assignment's grade cells in the gradebook (trusted: solutions/ only). Under
    the gradebook's writer lock: several grading machines may start at once."""
    with writer_lock(course.db_url), tempfile.TemporaryDirectory(prefix="emlab-sync-") as tmp:
        for assignment in assignments:
            code, out, _ = run_nbgrader(course, ["generate_assignment", assignment, "--force", "--log-level=WARN",
                                                 f"--CourseDirectory.release_directory={tmp}"], course.env())
            if code != 0:
                raise RuntimeError(f"could not register {assignment} in the gradebook:\n{out[-2000:]}")
