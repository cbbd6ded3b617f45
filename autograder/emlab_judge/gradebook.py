"""The gradebook, safe to write from parallel workers: sqlite by default, PostgreSQL for a
large course or several grading machines at once.

The URL comes from ``EMLAB_GRADEBOOK_URL`` (read by :class:`.harness.Course` and by
``autograder/nbgrader_config.py``), e.g. ``postgresql+psycopg://grader@db.example:5432/emlab``;
without it, ``sqlite:///<course>/autograder/gradebook.db``.

Who writes, and how they are kept apart:

- every grading worker's ``nbgrader autograde`` child writes its own submission (one
  student, one assignment: no row is shared between workers). On sqlite the database
  file is locked while one of them commits; :func:`child_url` gives the children a long
  busy timeout (``?timeout=``) so that a worker waits for the lock instead of failing with
  "database is locked". PostgreSQL takes concurrent writers as they come;
- the harness's own writes (the judge's scores, an ungradable submission's student row,
  registering an assignment's grade cells) are serialised by :func:`writer_lock`, across
  threads, processes and machines: a file lock beside a sqlite gradebook, a PostgreSQL
  advisory lock (held by a connection of its own) on a PostgreSQL one;
- every write is a transaction: a worker killed midway leaves the rows it committed and
  none of the others (sqlite's journal, PostgreSQL's WAL), never a half-written grade.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import make_url

__all__ = ["COURSE_ID", "SQLITE_TIMEOUT", "child_url", "is_sqlite", "open_gradebook", "writer_lock"]

COURSE_ID = "emlab"  # c.CourseDirectory.course_id in nbgrader_config.py
SQLITE_TIMEOUT = 300  # seconds a writer waits for sqlite's lock
ADVISORY_KEY = 0x454D4C6162  # "EMLab": the PostgreSQL advisory lock of the harness's writes

_THREAD_LOCK = threading.RLock()
_HELD = threading.local()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def child_url(url: str) -> str:
    """The URL to give nbgrader: on sqlite, with a busy timeout of SQLITE_TIMEOUT seconds
    (unless the URL sets one); any other URL unchanged."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or "timeout" in parsed.query:
        return url
    return parsed.update_query_dict({"timeout": str(SQLITE_TIMEOUT)}).render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


@contextlib.contextmanager
def writer_lock(url: str) -> Iterator[None]:
    """Hold the gradebook's writer lock: one harness writer at a time, whichever thread,
    process or machine it runs in. Reentrant within a thread."""
    with _THREAD_LOCK:
        if getattr(_HELD, "depth", 0):  # this thread holds it already
            _HELD.depth += 1
            try:
                yield
            finally:
                _HELD.depth -= 1
            return
        _HELD.depth = 1
        try:
            with _process_lock(url):
                yield
        finally:
            _HELD.depth = 0


@contextlib.contextmanager
def _process_lock(url: str) -> Iterator[None]:
    """The lock between processes and machines (the caller holds the thread lock)."""
    if is_sqlite(url):
        path = _sqlite_path(url)
        if path is None:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes (or the process dies)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()
            try:
                yield
            finally:  # also released by the server if this process dies
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                conn.commit()
    finally:
        engine.dispose()


@contextlib.contextmanager
def open_gradebook(url: str, *, write: bool = False):
    """nbgrader's Gradebook for this course (course id "emlab", the one nbgrader's own
    commands use), with the sqlite busy timeout; under :func:`writer_lock` when ``write``."""
    from nbgrader.api import Gradebook

    lock = writer_lock(url) if write else contextlib.nullcontext()
    with lock, Gradebook(child_url(url), course_id=COURSE_ID) as gb:
        yield gb
