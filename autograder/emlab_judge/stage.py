"""Stage a submission: the grader's own copy of it, checked, before any kernel sees it.

One job: copy ``submitted/<student>/<assignment>/`` into a staging folder of the grader's
(:mod:`.safe_fs`): each notebook read bounded and checked and repaired against the release
(:mod:`.preflight`), its code scanned for signs of tampering (:mod:`.tamper`, for flags
only), the regular files beside it copied within size limits, the time lateness is computed
from staged (:mod:`.lateness`); anything refused is said in the result's reasons. It never
follows a link (a link, FIFO, device, hard link or folder in place of a notebook is
refused), never modifies the student's files, and never runs the student's code.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from .course import Course
from .course_files import course_notebook
from .lateness import stage_timestamp
from .preflight import preflight
from .results import SubmissionResult
from .safe_fs import MiB, UnsafeFile, copy_submission, entry_kind, read_regular, write_atomic
from .tamper import scan

__all__ = ["MAX_NOTEBOOK", "MAX_EXTRA_FILE", "MAX_EXTRAS", "MAX_SIGNS", "stage"]

MAX_NOTEBOOK = 256 * MiB    # a submitted notebook larger than this is not read (stored outputs are dropped)
MAX_EXTRA_FILE = 20 * MiB   # one file beside the notebook
MAX_EXTRAS = 100 * MiB      # all files beside the notebook
MAX_SIGNS = 5  # tampering signs listed per notebook


def stage(course: Course, student: str, assignment: str, staging_root: Path, result: SubmissionResult) -> list[str]:
    """Copy the submission into the staging folder, never through a link: each notebook
    checked and repaired, the regular files beside it within the size limits. What is
    refused is said in the result's reasons. Returns the names of the notebooks staged
    (those that can be graded)."""
    src_dir = course.submitted / student / assignment
    dest = staging_root / student / assignment
    dest.mkdir(parents=True)
    for folder, what in ((course.submitted / student, "the student's folder"), (src_dir, "the submission folder")):
        try:
            st = folder.lstat()
        except OSError:
            result.reasons.append(f"{what} is missing")
            return []
        if os.path.islink(folder) or not os.path.isdir(folder):
            result.reasons.append(f"{what} is a {entry_kind(st.st_mode)}, not a folder: refused")
            return []
    notebooks = {p.name for p in course.source_notebooks(assignment)}
    copied = copy_submission(src_dir, dest, skip=lambda rel: rel in notebooks or rel == "timestamp.txt",
                             max_file=MAX_EXTRA_FILE, max_total=MAX_EXTRAS)
    result.reasons.extend(f"file beside the notebook refused: {r}" for r in copied.refused)
    stamp = stage_timestamp(src_dir, dest)  # the time nbgrader's lateness is computed from
    if stamp.when is not None and not stamp.trusted:
        result.reasons.append(stamp.describe())
    staged = []
    for source_path in course.source_notebooks(assignment):
        name = source_path.name
        try:
            raw = read_regular(src_dir / name, MAX_NOTEBOOK)
        except UnsafeFile as exc:
            missing = not os.path.lexists(src_dir / name)
            result.reasons.append(f"{name}: not submitted" if missing else
                                  f"{name}: {exc}; refused, nothing in it could be graded")
            continue
        release = course.release_notebook(assignment, name)
        if not release.exists():
            raise FileNotFoundError(f"{release} is missing: run make release")
        checked = preflight(raw, course_notebook(release))
        if not checked.gradable:
            result.reasons.append(f"{name}: {checked.fatal}; nothing in it could be graded")
            continue
        result.reasons.extend(f"{name}: {r}" for r in checked.reasons)
        try:
            scanned = scan(checked.notebook)
            signs = scanned.signs
            result.reasons.extend(f"{name}: {u}" for u in scanned.unscanned)
        except Exception as exc:  # the verdict never depends on the scan
            signs = []
            result.reasons.append(f"{name}: the code could not be scanned for tampering ({type(exc).__name__})")
        for sign in signs[:MAX_SIGNS]:
            result.flags.append(f"tampering suspected: {name}, {sign}")
        if len(signs) > MAX_SIGNS:
            result.flags.append(f"tampering suspected: {len(signs) - MAX_SIGNS} more sign(s) in {name}")
        write_atomic(dest, name, nbformat.writes(checked.notebook))
        staged.append(name)
    return staged
