"""The course's own files (``solutions/``, ``notebooks/``, the grading code), read once per version.

One job: hand out a trusted course file's bytes, or a course notebook, reading each version
of the file (path, modification time, size) once per process: a batch fingerprints,
preflights and judges against the same course files for every student. Only for files of
the course, which no student or kernel can write; never for anything of a submission
(those are read through :mod:`.safe_fs`, bounded and without following links).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

__all__ = ["course_file", "course_notebook"]

_BY_VERSION: dict[tuple[str, str, int, int], object] = {}


def _by_version(path: Path, what: str, load):
    """``load(path)``, done once per version of the file (path, mtime, size): a batch
    fingerprints, preflights and judges against the same course files for every student."""
    st = path.stat()
    key = (what, str(path), st.st_mtime_ns, st.st_size)
    if key not in _BY_VERSION:
        if len(_BY_VERSION) > 256:
            _BY_VERSION.clear()
        _BY_VERSION[key] = load(path)
    return _BY_VERSION[key]


def course_file(path: Path) -> bytes:
    """A source or release file's bytes, read once per version."""
    return _by_version(path, "bytes", Path.read_bytes)


def course_notebook(path: Path) -> nbformat.NotebookNode:
    """A source or release notebook, read and validated once per version; each caller
    gets its own copy."""
    return copy.deepcopy(_by_version(path, "notebook", lambda p: nbformat.read(p, as_version=4)))
