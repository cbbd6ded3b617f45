"""Whether a submission needs grading again: its fingerprint, and the mark that it was graded.

One job: digest what a grade depends on (the submitted files, the assignment's source and
release notebooks, the course's grading code, the harness's version), write the "done"
mark beside the graded notebook once a grade is in the gradebook, and say from that mark
whether a submission is unchanged since it was graded completely. It never follows a link
and never opens anything of a submission but a regular file, read bounded and without
blocking (a FIFO, a device, ``/proc/self/pagemap`` behind a link are named and typed,
never read); it never raises for what a submission holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from .course import Course
from .course_files import course_file
from .gradebook import open_gradebook
from .results import SubmissionResult
from .safe_fs import MiB, entry_kind, read_regular, write_atomic

__all__ = ["HARNESS_VERSION", "DONE_FILE", "FINGERPRINT_READ", "GRADING_CODE", "grading_code_digest",
           "submission_fingerprint", "write_done", "already_graded"]

HARNESS_VERSION = "2"  # bump when grading changes in a way that should regrade everything
DONE_FILE = ".emlab-graded.json"

FINGERPRINT_READ = 64 * MiB  # files larger than this are fingerprinted by size and time, unread

# The course's grading code: what decides a grade besides the notebooks (the hidden cases and
# properties, the references and the judge, the helpers the kernel imports, the configuration).
GRADING_CODE = ("autograder/emlab_judge", "autograder/emlab_grader", "emlab", "autograder/nbgrader_config.py")


def _fingerprint_tree(digest, folder: Path, *, trusted: bool) -> None:
    """Feed every entry under ``folder`` into ``digest``, never following a link or
    opening anything but a regular file (a FIFO, a device, ``/proc/self/pagemap`` behind a
    link: named and typed, never read)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            try:
                st = path.lstat()
            except OSError:
                digest.update(b"gone")
                continue
            digest.update(entry_kind(st.st_mode).encode())
            if os.path.islink(path):
                with contextlib.suppress(OSError):
                    digest.update(os.readlink(path).encode("utf-8", "surrogateescape"))
                continue
            if not path.is_file() or st.st_size > FINGERPRINT_READ:
                digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
                continue
            try:
                digest.update(course_file(path) if trusted else read_regular(path, FINGERPRINT_READ,
                                                                             allow_hard_links=True))
            except OSError:
                digest.update(f"unreadable:{st.st_size}:{st.st_mtime_ns}".encode())


def grading_code_digest(course: Course) -> str:
    """A digest of the course's grading code (every ``.py`` file of GRADING_CODE, by path and
    bytes; each file read once per version): a change to a hidden case, a reference or a
    check changes every fingerprint, so the next run grades everyone again."""
    digest = hashlib.sha256()
    for entry in GRADING_CODE:
        path = course.root / entry
        if path.is_file():
            files = [path]
        elif path.is_dir() and not path.is_symlink():
            files = sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts and p.is_file())
        else:
            continue
        for file in files:
            digest.update(str(file.relative_to(course.root)).encode() + b"\0" + course_file(file) + b"\0")
    return digest.hexdigest()


def submission_fingerprint(course: Course, student: str, assignment: str) -> str:
    """A digest of what a grade depends on: the submitted files, the assignment's source and
    release notebooks, the course's grading code and the harness's version. Never raises,
    never blocks."""
    digest = hashlib.sha256(HARNESS_VERSION.encode())
    try:
        digest.update(grading_code_digest(course).encode())
        submitted = course.submitted / student / assignment
        if os.path.islink(course.submitted / student) or os.path.islink(submitted):
            digest.update(b"link")
        else:
            _fingerprint_tree(digest, submitted, trusted=False)
        for folder in (course.root / "solutions" / assignment, course.root / "notebooks" / assignment):
            digest.update(b"\1")
            _fingerprint_tree(digest, folder, trusted=True)
    except Exception as exc:  # whatever happens, a fingerprint (one that matches nothing stored)
        digest.update(f"error:{type(exc).__name__}:{time.time_ns()}".encode())
    return digest.hexdigest()


def write_done(course: Course, student: str, assignment: str, fingerprint: str, result: SubmissionResult) -> None:
    """Written last: its presence means this exact submission's grade is in the gradebook."""
    write_atomic(course.autograded / student / assignment, DONE_FILE,
                 json.dumps({"fingerprint": fingerprint, "result": result.bound().to_json()}, indent=1))


def already_graded(course: Course, student: str, assignment: str, gb=None) -> SubmissionResult | None:
    """The stored result when this exact submission was graded completely, else None.
    ``gb``: an open Gradebook to use (one for a whole batch), else one is opened."""
    from nbgrader.api import MissingEntry

    try:
        stored = json.loads(read_regular(course.autograded / student / assignment / DONE_FILE, 16 * MiB))
        fingerprint, result = stored["fingerprint"], SubmissionResult(**stored["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if fingerprint != submission_fingerprint(course, student, assignment):
        return None
    with contextlib.nullcontext(gb) if gb is not None else open_gradebook(course.db_url) as book:
        try:
            book.find_submission(assignment, student)
        except MissingEntry:
            return None
    result.status = "unchanged"
    return result
