"""When a submission was handed in, from a time the student cannot write where one exists.

nbgrader's lateness comes from ``timestamp.txt`` in the submission folder, and the
student writes that file. How nbgrader 0.9.6 moves a submission:

- ``nbgrader submit`` runs on the student's side: it copies the assignment to
  ``<exchange>/<course>/inbound/<student>+<assignment>+<timestamp>[+<random>]``, writes
  ``timestamp.txt`` there from the student's clock and makes the folder world-writable.
  The folder's name and ``timestamp.txt`` both hold the student's time; a student can
  write either (or the whole folder) by hand.
- ``nbgrader collect`` runs on the instructor's side: per student it takes the inbound
  folder whose *name* holds the latest time and copies it with ``shutil.copytree`` into
  ``autograder/submitted/<student>/<assignment>/``. The copy keeps the files' modification
  times (which the student sets: ``touch -d``, ``os.utime``); its change times are the
  moment of the copy.

What the student cannot set is the *change time* (ctime) of the inbound copy's inodes:
``utime``/``touch -d`` set the access and modification times and set the ctime to now, and
so do every write, rename, link and chmod; only the clock of the machine holding the
exchange sets it. The latest ctime over the inbound folder and everything in it (read with
``lstat``, no link followed) is therefore no earlier than the last change to what was
collected: a late submission cannot look on time. It can look later than it was (a change
after submitting moves it later, and nbgrader leaves the folder world-writable), never
earlier.

Collect loses that time (its copy's ctimes are the collect time), so
:class:`RecordingCollect`, nbgrader's collect with one step added, records it as the copy
is made: ``autograder/collect_records/<assignment>.json`` (beside ``submitted/``, which a
student never writes), one :class:`CollectRecord` per student with a digest of the files
collected. Turn it on in ``nbgrader_config.py``::

    c.ExchangeFactory.collect = "emlab_judge.lateness.RecordingCollect"

(``nbgrader collect`` and the formgrader's *Collect* button both go through it).

:func:`trusted_timestamp` gives a submission's :class:`TrustedTime`: the recorded change
time when the record's digest matches the submitted files (or, given the inbound copy
itself, its change time read now, when it holds the submitted files); otherwise the
student's own ``timestamp.txt``, said to be so. :func:`stage_timestamp` is the grading
harness's one call: it writes that time as the ``timestamp.txt`` of the staged copy nbgrader
grades (so nbgrader's late penalty uses it), or removes the file when there is no time.
ngshare's collect is not recorded here: its submissions get the student's own time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

from .safe_fs import UnsafeFile, read_regular, write_atomic

__all__ = ["TrustedTime", "CollectRecord", "trusted_timestamp", "stage_timestamp", "submission_timing", "change_time", "folder_digest",
           "record_collect", "load_record", "records_file", "RecordingCollect", "STUDENT_SOURCE", "RECORD_SOURCE",
           "INBOUND_SOURCE"]

UTC = dt.timezone.utc
STUDENT_SOURCE = "student's own timestamp.txt (not verified)"
RECORD_SOURCE = "the exchange: last change of the inbound copy, recorded at collect"
INBOUND_SOURCE = "the exchange: last change of the inbound copy, read at grading"
NO_SOURCE = "no submission time (no collect record, no readable timestamp.txt)"
RECORDS_DIR = "collect_records"  # beside submitted/
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's (Exchange.timestamp_format)

MAX_ENTRIES = 100_000        # files and folders looked at in one submission
MAX_DEPTH = 64
MAX_HASHED = 2 * 1024 ** 3   # bytes read for one digest
MAX_RECORDS_FILE = 64 * 1024 ** 2
SKIPPED = {".ipynb_checkpoints", "__pycache__"}  # written by Jupyter and Python, not the student

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


@dataclass(frozen=True)
class TrustedTime:
    """When a submission was handed in (UTC, or None when nothing says), where that time
    comes from (``source``: one of the ``*_SOURCE`` texts), whether the student could have
    written it (``trusted`` False), and a ``note`` on why a trusted time was not used."""

    when: dt.datetime | None
    source: str
    trusted: bool = False
    note: str = ""

    def timestamp_txt(self) -> str:
        """The time as nbgrader writes ``timestamp.txt`` (its default format, UTC)."""
        if self.when is None:
            raise ValueError("no time to write")
        return self.when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)

    def describe(self) -> str:
        """One line for a report: the time and what it rests on."""
        when = self.when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if self.when else "no time"
        return f"submitted {when}, from {self.source}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class CollectRecord:
    """What :class:`RecordingCollect` saw when it collected one submission: the inbound
    copy's folder name, its last change (``changed``, ISO UTC), when it was collected, and
    the digest of the files it put in ``submitted/`` (None if they could not all be read)."""

    student: str
    assignment: str
    inbound: str
    changed: str
    collected: str
    digest: str | None

    @property
    def changed_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.changed)


# ---------------------------------------------------------------- reading a folder, no link followed

def _survey(folder, *, hashes: bool) -> tuple[int, dict[bytes, str]] | None:
    """(latest ctime in ns over the folder and everything in it, {relative path: what it
    is, with a content hash for regular files when ``hashes``}), through no link; None when
    the folder is not a folder or cannot be read whole within the limits."""
    try:
        top = os.open(folder, _DIR_FLAGS)
    except OSError:
        return None
    fds = [top]
    entries: dict[bytes, str] = {}
    budget = MAX_HASHED
    try:
        latest = os.fstat(top).st_ctime_ns
        stack = [(top, b"", 0)]
        while stack:
            dfd, rel, depth = stack.pop()
            with os.scandir(dfd) as listing:
                names = [(e.name, e.stat(follow_symlinks=False)) for e in listing]
            for name, st in names:
                if name in SKIPPED:
                    continue
                if len(entries) >= MAX_ENTRIES:
                    return None
                path = rel + os.fsencode(name)
                latest = max(latest, st.st_ctime_ns)
                mode = st.st_mode
                if stat.S_ISDIR(mode):
                    if depth >= MAX_DEPTH:
                        return None
                    sub = os.open(name, _DIR_FLAGS, dir_fd=dfd)
                    fds.append(sub)
                    latest = max(latest, os.fstat(sub).st_ctime_ns)
                    entries[path] = "folder"
                    stack.append((sub, path + b"/", depth + 1))
                elif stat.S_ISLNK(mode):
                    entries[path] = "link " + os.readlink(name, dir_fd=dfd).encode(errors="surrogateescape").hex()
                elif stat.S_ISREG(mode) and hashes:
                    fd = os.open(name, _FILE_FLAGS, dir_fd=dfd)
                    try:
                        fst = os.fstat(fd)
                        if not stat.S_ISREG(fst.st_mode):
                            return None  # replaced while being read
                        latest = max(latest, fst.st_ctime_ns)
                        digest = hashlib.sha256()
                        while chunk := os.read(fd, 1 << 20):
                            budget -= len(chunk)
                            if budget < 0:
                                return None
                            digest.update(chunk)
                        entries[path] = "file " + digest.hexdigest()
                    finally:
                        os.close(fd)
                else:
                    entries[path] = "file" if stat.S_ISREG(mode) else f"special {stat.S_IFMT(mode):o}"
        return latest, entries
    except OSError:
        return None
    finally:
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass


def _utc(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns / 1e9, UTC)


def change_time(folder) -> dt.datetime | None:
    """The latest change time (ctime, UTC) of ``folder`` and everything in it, read with
    ``lstat`` (no link followed); None if it cannot all be read."""
    survey = _survey(folder, hashes=False)
    return _utc(survey[0]) if survey else None


def folder_digest(folder) -> str | None:
    """A digest of what ``folder`` holds (names, kinds, file contents, link targets; no
    link followed); None if it cannot all be read within the limits."""
    survey = _survey(folder, hashes=True)
    return None if survey is None else _digest(survey[1])


def _digest(entries: dict[bytes, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(entries):
        digest.update(path.hex().encode() + b" " + entries[path].encode() + b"\n")
    return digest.hexdigest()


# ---------------------------------------------------------------- the collect record

def records_file(submission_dir, assignment: str | None = None) -> Path:
    """Where the collect records of ``submission_dir``'s assignment are kept:
    ``<submitted>/../collect_records/<assignment>.json``."""
    submission_dir = Path(submission_dir)
    return submission_dir.parent.parent.parent / RECORDS_DIR / f"{assignment or submission_dir.name}.json"


def _read_records(path: Path) -> dict:
    try:
        data = json.loads(read_regular(path, MAX_RECORDS_FILE))
    except (UnsafeFile, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_collect(inbound, submission_dir, student: str, assignment: str) -> CollectRecord:
    """Record, just after nbgrader copied the inbound copy ``inbound`` into
    ``submission_dir``, the inbound copy's last change and the digest of what was copied."""
    changed = change_time(inbound)  # read after the copy: nothing copied changed later than this
    if changed is None:
        raise OSError(f"the inbound copy {Path(inbound).name} cannot be read whole")
    record = CollectRecord(student=student, assignment=assignment, inbound=Path(inbound).name,
                           changed=changed.isoformat(), collected=dt.datetime.now(UTC).isoformat(),
                           digest=folder_digest(submission_dir))
    path = records_file(submission_dir, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = _read_records(path)
    records[student] = asdict(record)
    write_atomic(path.parent, path.name, json.dumps(records, indent=1, sort_keys=True))
    return record


def load_record(submission_dir) -> CollectRecord | None:
    """The collect record of the submission in ``submission_dir``
    (``<submitted>/<student>/<assignment>``), if :class:`RecordingCollect` left one."""
    submission_dir = Path(submission_dir)
    raw = _read_records(records_file(submission_dir)).get(submission_dir.parent.name)
    try:
        record = CollectRecord(**raw)
        record.changed_at  # noqa: B018  (a time it can read)
    except (TypeError, ValueError):
        return None
    if (record.student, record.assignment) != (submission_dir.parent.name, submission_dir.name):
        return None
    return record


class RecordingCollect(ExchangeCollect):
    """nbgrader's ``collect`` (the shared-folder exchange), recording each submission's
    :class:`CollectRecord` as it is copied. Configure with
    ``c.ExchangeFactory.collect = "emlab_judge.lateness.RecordingCollect"``."""

    def do_copy(self, src, dest, log=None):
        super().do_copy(src, dest, log)
        student = self._path_to_record(src)["username"]
        try:
            record = record_collect(src, dest, student, self.coursedir.assignment_id)
            self.log.info("Recorded the exchange's time for %s: %s", student, record.changed)
        except (OSError, ValueError) as exc:
            self.log.warning("No collect record for %s (the student's own timestamp will be used): %s", student, exc)


# ---------------------------------------------------------------- the time

def _student_time(submission_dir: Path, note: str) -> TrustedTime:
    from nbgrader.utils import parse_utc

    try:
        text = read_regular(submission_dir / "timestamp.txt", 4096).decode("utf-8").strip()
        when = parse_utc(text).replace(tzinfo=UTC)
    except Exception:  # noqa: BLE001  (missing, a link, a FIFO, garbage: no time)
        return TrustedTime(None, NO_SOURCE, False, note)
    return TrustedTime(when, STUDENT_SOURCE, False, note)


def _inbound_holds(inbound, submission_dir) -> bool:
    """Whether every file of ``submission_dir`` is in the inbound copy, the same."""
    ours, theirs = _survey(submission_dir, hashes=True), _survey(inbound, hashes=True)
    if ours is None or theirs is None:
        return False
    return all(theirs[1].get(path) == what for path, what in ours[1].items())


def trusted_timestamp(submission_dir, exchange_record=None) -> TrustedTime:
    """When the submission in ``submission_dir`` (``<submitted>/<student>/<assignment>``)
    was handed in, from a time the student cannot write where one exists.

    ``exchange_record``: a :class:`CollectRecord`, or the path of the submission's inbound
    copy on the exchange (its change time is read now, if it holds the submitted files), or
    None: the record :class:`RecordingCollect` left in ``collect_records/``, if any.
    Otherwise the student's own ``timestamp.txt`` (``source`` says so), or no time.
    Never raises for what the folder holds."""
    submission_dir = Path(submission_dir)
    if isinstance(exchange_record, (str, os.PathLike)):
        if not _inbound_holds(exchange_record, submission_dir):
            return _student_time(submission_dir, "the inbound copy does not hold the submitted files")
        changed = change_time(exchange_record)
        if changed is None:
            return _student_time(submission_dir, "the inbound copy cannot be read whole")
        return TrustedTime(changed, INBOUND_SOURCE, True)
    record = exchange_record if isinstance(exchange_record, CollectRecord) else load_record(submission_dir)
    if record is None:
        return _student_time(submission_dir, "")
    if record.digest is None:
        return _student_time(submission_dir, "the collected files could not be read whole at collect")
    if record.digest != folder_digest(submission_dir):
        return _student_time(submission_dir, "the collect record does not match the submitted files")
    return TrustedTime(record.changed_at, RECORD_SOURCE, True)


def stage_timestamp(submission_dir, staged_dir, exchange_record=None) -> TrustedTime:
    """Write the submission's time (:func:`trusted_timestamp`) as ``staged_dir/timestamp.txt``,
    the file nbgrader reads for lateness, replacing whatever is there (a link at that name
    is replaced, never followed); remove it when there is no time. Returns the time."""
    stamp = trusted_timestamp(submission_dir, exchange_record)
    path = Path(staged_dir) / "timestamp.txt"
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)  # never follows a link
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    if stamp.when is not None:
        write_atomic(staged_dir, "timestamp.txt", stamp.timestamp_txt())
    return stamp


def submission_timing(submitted_root, student: str, assignment: str, gradebook_time: dt.datetime | None,
                      duedate: dt.datetime | None) -> dict:
    """The late or on-time verdict of one submission for the grade report, and what it rests
    on: the trusted time of ``<submitted_root>/<student>/<assignment>`` where there is one,
    else nbgrader's time in the gradebook (``gradebook_time``, naive UTC, as nbgrader
    stores it: from the student's ``timestamp.txt`` unless the harness staged a trusted one).

    Keys: ``timestamp`` (UTC, to the minute), ``verdict`` ("late", "on time", "no due date"
    or "no time"), ``late_by_hours``, ``source``, ``trusted``, ``note``."""
    stamp = None
    folder = Path(submitted_root) / student / assignment
    if student not in {"", ".", ".."} and "/" not in student and "\0" not in student:
        try:
            if stat.S_ISDIR(os.lstat(folder).st_mode):
                stamp = trusted_timestamp(folder)
        except (OSError, ValueError):
            stamp = None
    recorded = gradebook_time.replace(tzinfo=UTC) if gradebook_time is not None else None
    note = ""
    if stamp is not None and stamp.trusted:
        when, source, trusted = stamp.when, stamp.source, True
        if recorded is not None and abs((recorded - when).total_seconds()) > 1:
            note = (f"the gradebook has {recorded:%Y-%m-%d %H:%M} UTC, which nbgrader's late penalty used: "
                    "grade again to apply this time")
    else:
        when = recorded if recorded is not None else (stamp.when if stamp else None)
        source, trusted = (STUDENT_SOURCE if when is not None else NO_SOURCE), False
        note = stamp.note if stamp is not None else ""
    due = duedate.replace(tzinfo=UTC) if duedate is not None else None
    late_by = (when - due).total_seconds() / 3600 if when is not None and due is not None else None
    verdict = ("no time" if when is None else "no due date" if due is None else "late" if late_by > 0 else "on time")
    return {"timestamp": when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else None, "verdict": verdict,
            "late_by_hours": round(late_by, 2) if late_by is not None and late_by > 0 else 0.0,
            "source": source, "trusted": trusted, "note": note}
