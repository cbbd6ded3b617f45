"""The course and its folders, and which submissions are in them.

One job: say where the course keeps things (solutions, releases, submissions, graded
copies, the staging area, stored results, the gradebook's URL, the environment of an
nbgrader process) and list the (student, assignment) folders there are to grade. It reads
folder listings only, never a file of a submission, and never follows a link: a student
folder that is a link is listed (so that staging refuses it with a reason), never entered.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .gradebook import child_url

__all__ = ["Course", "discover"]


@dataclass(frozen=True)
class Course:
    """Where the course lives. Paths follow autograder/nbgrader_config.py; ``submitted_dir``
    grades submissions from another folder (same layout: <student>/<assignment>/)."""

    root: Path
    submitted_dir: Path | None = None

    @property
    def autograder(self) -> Path:
        return Path(os.environ.get("EMLAB_AUTOGRADER_DIR", self.root / "autograder"))

    @property
    def submitted(self) -> Path:
        return Path(self.submitted_dir) if self.submitted_dir else self.autograder / "submitted"

    @property
    def autograded(self) -> Path:
        return self.autograder / "autograded"

    @property
    def staging(self) -> Path:
        return self.autograder / ".staging"

    @property
    def results(self) -> Path:
        """One JSON per submission graded (whatever the outcome): what the grade report reads."""
        return self.autograder / "report" / "submissions"

    @property
    def db_url(self) -> str:
        return os.environ.get("EMLAB_GRADEBOOK_URL", f"sqlite:///{self.autograder / 'gradebook.db'}")

    @property
    def exchange(self) -> Path:
        """nbgrader's exchange root, as autograder/nbgrader_config.py sets it."""
        return Path(os.environ.get("EMLAB_EXCHANGE", self.autograder / "exchange"))

    @property
    def assignments(self) -> list[str]:
        """The labs of the course: the folders of solutions/, sorted."""
        solutions = self.root / "solutions"
        return sorted(p.name for p in solutions.iterdir() if p.is_dir()) if solutions.is_dir() else []

    def graded_students(self, assignment: str) -> list[str]:
        """Students with an autograded folder for ``assignment`` (a real folder, not a link),
        sorted: what nbgrader's feedback and the similarity hint read."""
        return sorted(s.name for s in _subdirs(self.autograded) if not s.is_symlink()
                      and (s / assignment).is_dir() and not (s / assignment).is_symlink())

    def source_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.root / "solutions" / assignment).glob("*.ipynb"))

    def release_notebook(self, assignment: str, name: str) -> Path:
        return self.root / "notebooks" / assignment / name

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["JUPYTER_CONFIG_PATH"] = str(self.autograder)
        env["EMLAB_COURSE_ROOT"] = str(self.root)
        env["PYTHONPATH"] = os.pathsep.join([str(self.autograder), str(self.root)])
        # nbgrader's gradebook runs `alembic` from PATH: this interpreter's bin first
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        # nbgrader_config.py reads it: on sqlite, with a busy timeout (parallel workers wait
        # for the database lock rather than fail)
        env["EMLAB_GRADEBOOK_URL"] = child_url(self.db_url)
        # submissions are graded side by side, one per slot: one thread each
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.update(extra)
        return env


def _subdirs(folder: Path) -> list[Path]:
    """The entries of ``folder`` that are real folders or links (a link is listed, and
    refused with a reason when staged; it is never followed here)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name == ".ipynb_checkpoints":
            continue
        try:
            if entry.is_dir(follow_symlinks=False) or entry.is_symlink():
                out.append(Path(entry.path))
        except OSError:
            continue
    return out


def discover(course: Course, assignment: str | None = None, student: str | None = None) -> list[tuple[str, str]]:
    """(student, assignment) pairs with a submission folder, sorted. Ids are matched
    exactly (a student id may hold glob or shell characters, or start with a dot). A
    student folder that is a link is listed under every assignment asked for (or every
    assignment of the course), so that it is reported, refused, rather than left out."""
    assignments = course.assignments
    pairs = []
    for sdir in _subdirs(course.submitted):
        if student and sdir.name != student:
            continue
        if sdir.is_symlink():
            pairs.extend((sdir.name, a) for a in assignments if not assignment or a == assignment)
            continue
        for adir in _subdirs(sdir):
            if assignment and adir.name != assignment:
                continue
            if adir.name in assignments:
                pairs.append((sdir.name, adir.name))
    return pairs
