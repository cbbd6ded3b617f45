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
:class:`RecordingCollect`, nbgrader's collect made safe, records it as the copy is made:
``autograder/collect_records/<assignment>.json`` (beside ``submitted/``, which a student
never writes), one :class:`CollectRecord` per student with a digest of the files collected.
When the inbound copy cannot be read whole within the limits (folders nested too deep, too
many entries, an unreadable folder), the record holds the collect time instead, never
earlier than the hand-in, and says why (``incomplete``): a student cannot fall back to their
own ``timestamp.txt`` by making the reading fail.

nbgrader's ``shutil.copytree`` follows links: a link in the inbound folder to a solution, the
gradebook, a peer's notebook or ``/dev/zero`` would land in ``submitted/`` as a regular file
holding its target, and a FIFO stops collect for every later student. :func:`copy_inbound`
copies instead: regular files (with one link) and folders only, no link followed, nothing
opened that could block, within nbgrader's size options and this module's limits, under
nbgrader's ``CourseDirectory.ignore`` and ``include`` patterns. What it refuses is logged
(student and file) and kept in the record (``refused``), and each student is collected on
their own: one broken or hostile inbound folder is skipped with an error in the log, and
every other student is collected. Turn it on in ``nbgrader_config.py``::

    c.ExchangeFactory.collect = "emlab_judge.lateness.RecordingCollect"

(``nbgrader collect`` and the formgrader's *Collect* button both go through it).

:func:`trusted_timestamp` gives a submission's :class:`TrustedTime`: the recorded change
time when the record's digest matches the submitted files (or, given the inbound copy
itself, its change time read now, when it holds the submitted files), with a note when the
record says files were refused or the change times could not all be read; otherwise the
student's own ``timestamp.txt``, said to be so. :func:`stage_timestamp` is the grading
harness's one call: it writes that time as the ``timestamp.txt`` of the staged copy nbgrader
grades (so nbgrader's late penalty uses it), or removes the file when there is no time.
ngshare's collect is not recorded here: its submissions get the student's own time.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import os
import shutil
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

from .safe_fs import UnsafeFile, entry_kind, read_regular, write_atomic

__all__ = ["TrustedTime", "CollectRecord", "trusted_timestamp", "stage_timestamp", "submission_timing", "change_time", "folder_digest",
           "record_collect", "load_record", "records_file", "RecordingCollect", "copy_inbound", "CopyRules",
           "unsafe_student_id", "impostor",
           "InboundCopy", "STUDENT_SOURCE", "RECORD_SOURCE", "INBOUND_SOURCE"]

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
MAX_TIMESTAMP_TXT = 4096     # nbgrader writes about 30 bytes; collect --update parses it
MAX_REFUSED_KEPT = 50        # refusals named in the log and the record; the rest counted
SKIPPED = {".ipynb_checkpoints", "__pycache__"}  # written by Jupyter and Python, not the student

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


@dataclass(frozen=True)
class TrustedTime:
    """When a submission was handed in (UTC, or None when nothing says), where that time
    comes from (``source``: one of the ``*_SOURCE`` texts), whether the student could have
    written it (``trusted`` False), and a ``note`` on why a trusted time was not used, or
    on what the collect record says a report should show beside a trusted one."""

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
    copy's folder name, its last change (``changed``, ISO UTC), when it was collected, the
    digest of the files it put in ``submitted/`` (None if they could not all be read), what
    it refused to copy (``refused``: each entry and why), and why the inbound copy's change
    times could not all be read (``incomplete``; then ``changed`` is the collect time), or ""."""

    student: str
    assignment: str
    inbound: str
    changed: str
    collected: str
    digest: str | None
    refused: tuple[str, ...] = ()
    incomplete: str = ""

    @property
    def changed_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.changed)


# ---------------------------------------------------------------- reading a folder, no link followed

@dataclass
class _Survey:
    """What :func:`_survey` read: the latest ctime (ns) found, {relative path: what it is},
    and why it stopped before reading everything (``incomplete``), or ""."""

    latest: int = 0
    entries: dict[bytes, str] = field(default_factory=dict)
    incomplete: str = ""


def _survey(folder, *, hashes: bool) -> _Survey:
    """The latest ctime over the folder and everything in it, and {relative path: what it
    is, with a content hash for regular files when ``hashes``}, through no link. When the
    folder is not a folder or cannot be read whole within the limits, ``incomplete`` says
    why and the rest holds what was read before it stopped."""
    survey = _Survey()
    try:
        top = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        survey.incomplete = f"{Path(folder).name} cannot be opened as a folder ({exc.strerror})"
        return survey
    fds = [top]
    try:
        survey.latest = os.fstat(top).st_ctime_ns
        _survey_tree(top, survey, fds, hashes)
    except OSError as exc:
        survey.incomplete = f"a part of it cannot be read ({exc.strerror or exc})"
    finally:
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
    return survey


class _Stop(Exception):
    """A survey limit was reached: its reason is ``str(exc)``."""


def _survey_tree(top: int, survey: _Survey, fds: list[int], hashes: bool) -> None:
    budget = [MAX_HASHED]
    stack = [(top, b"", 0)]
    try:
        while stack:
            dfd, rel, depth = stack.pop()
            with os.scandir(dfd) as listing:
                names = [(e.name, e.stat(follow_symlinks=False)) for e in listing]
            for name, st in names:
                if name in SKIPPED:
                    continue
                if len(survey.entries) >= MAX_ENTRIES:
                    raise _Stop(f"more than {MAX_ENTRIES} files and folders")
                path = rel + os.fsencode(name)
                survey.latest = max(survey.latest, st.st_ctime_ns)
                if stat.S_ISDIR(st.st_mode):
                    if depth >= MAX_DEPTH:
                        raise _Stop(f"folders nested more than {MAX_DEPTH} deep")
                    sub = os.open(name, _DIR_FLAGS, dir_fd=dfd)
                    fds.append(sub)
                    survey.latest = max(survey.latest, os.fstat(sub).st_ctime_ns)
                    survey.entries[path] = "folder"
                    stack.append((sub, path + b"/", depth + 1))
                else:
                    survey.entries[path] = _describe_entry(dfd, name, st, survey, hashes, budget)
    except _Stop as stop:
        survey.incomplete = str(stop)


def _describe_entry(dfd: int, name: str, st: os.stat_result, survey: _Survey, hashes: bool, budget: list[int]) -> str:
    """What one non-folder entry is: a link (with its target), a file (with its content's
    hash when ``hashes``, read within ``budget``), or a special file (never opened)."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "link " + os.readlink(name, dir_fd=dfd).encode(errors="surrogateescape").hex()
    if not (stat.S_ISREG(mode) and hashes):
        return "file" if stat.S_ISREG(mode) else f"special {stat.S_IFMT(mode):o}"
    fd = os.open(name, _FILE_FLAGS, dir_fd=dfd)
    try:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            raise _Stop(f"{name} was replaced while being read")
        survey.latest = max(survey.latest, fst.st_ctime_ns)
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _Stop(f"more than {MAX_HASHED // 1024 ** 3} GiB of files")
            digest.update(chunk)
        return "file " + digest.hexdigest()
    finally:
        os.close(fd)


def _utc(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns / 1e9, UTC)


def change_time(folder) -> dt.datetime | None:
    """The latest change time (ctime, UTC) of ``folder`` and everything in it, read with
    ``lstat`` (no link followed); None if it cannot all be read."""
    survey = _survey(folder, hashes=False)
    return None if survey.incomplete else _utc(survey.latest)


def folder_digest(folder) -> str | None:
    """A digest of what ``folder`` holds (names, kinds, file contents, link targets; no
    link followed); None if it cannot all be read within the limits."""
    survey = _survey(folder, hashes=True)
    return None if survey.incomplete else _digest(survey.entries)


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


def record_collect(inbound, submission_dir, student: str, assignment: str, refused=()) -> CollectRecord:
    """Record, just after the inbound copy ``inbound`` was copied into ``submission_dir``,
    the inbound copy's last change, the digest of what was copied and what was ``refused``.

    When the inbound copy cannot be read whole within the limits, the time recorded is the
    collect time (taken after the copy and the reading, so never earlier than the hand-in)
    and ``incomplete`` says why: the record is written all the same."""
    survey = _survey(inbound, hashes=False)  # read after the copy: nothing copied changed later than this
    collected = dt.datetime.now(UTC)
    changed = collected if survey.incomplete else _utc(survey.latest)
    record = CollectRecord(student=student, assignment=assignment, inbound=Path(inbound).name,
                           changed=changed.isoformat(), collected=collected.isoformat(),
                           digest=folder_digest(submission_dir), refused=tuple(refused),
                           incomplete=survey.incomplete)
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
        record = CollectRecord(**{**raw, "refused": tuple(raw.get("refused", ()))})
        record.changed_at  # noqa: B018  (a time it can read)
    except (TypeError, ValueError, AttributeError):
        return None
    texts = (record.student, record.assignment, record.incomplete, *record.refused)
    if not all(isinstance(text, str) for text in texts):
        return None
    if (record.student, record.assignment) != (submission_dir.parent.name, submission_dir.name):
        return None
    return record


# ---------------------------------------------------------------- copying an inbound folder, no link followed

@dataclass(frozen=True)
class CopyRules:
    """What :func:`copy_inbound` copies: entries whose name matches none of ``ignore``;
    of those, files whose name matches one of ``include`` (all when empty), of at most
    ``max_file`` bytes, at most ``max_total`` bytes in all; group-writable when
    ``groupshared``."""

    ignore: tuple[str, ...] = ()
    include: tuple[str, ...] = ("*",)
    max_file: int = 100_000_000
    max_total: int = 100_000_000
    groupshared: bool = False

    @classmethod
    def from_coursedir(cls, coursedir) -> CopyRules:
        """nbgrader's options: ``CourseDirectory.ignore``, ``include``, ``max_file_size`` and
        ``max_dir_size`` (both in kilobytes, as nbgrader counts them) and ``groupshared``."""
        return cls(ignore=tuple(coursedir.ignore), include=tuple(coursedir.include),
                   max_file=1000 * coursedir.max_file_size,
                   max_total=min(1000 * coursedir.max_dir_size, MAX_HASHED), groupshared=bool(coursedir.groupshared))

    @property
    def file_mode(self) -> int:
        return 0o664 if self.groupshared else 0o644

    @property
    def folder_mode(self) -> int:
        return 0o2775 if self.groupshared else 0o755


@dataclass
class InboundCopy:
    """What :func:`copy_inbound` did: files and folders copied, bytes copied, and the
    entries it refused (``refused``: the first :data:`MAX_REFUSED_KEPT`, each with why;
    ``more_refused``: how many others)."""

    entries: int = 0
    total_bytes: int = 0
    refused: list[str] = field(default_factory=list)
    more_refused: int = 0
    full: bool = False

    def refuse(self, reason: str) -> None:
        if len(self.refused) < MAX_REFUSED_KEPT:
            self.refused.append(reason)
        else:
            self.more_refused += 1

    def reasons(self) -> list[str]:
        """Every refusal, the ones not named counted in a last line."""
        more = [f"and {self.more_refused} more entries refused"] if self.more_refused else []
        return self.refused + more


def copy_inbound(src, dest, rules: CopyRules = CopyRules()) -> InboundCopy:
    """Copy the inbound folder ``src`` into the new folder ``dest`` as nbgrader's collect
    does (under ``rules``, modification times kept), but only regular files with one link
    and folders, never through a link, never opening a FIFO, device or socket, at most
    :data:`MAX_DEPTH` folders deep and :data:`MAX_ENTRIES` entries. Every entry refused is
    named in the result, with why.

    Raises UnsafeFile when ``src`` is not a folder (a link to one included) and
    RuntimeError when the files exceed ``rules.max_total`` (nbgrader refuses such a folder
    whole); ``dest`` is not left behind then."""
    top = _open_inbound(src)
    report = InboundCopy()
    try:
        os.mkdir(dest, rules.folder_mode)
        try:
            os.chmod(dest, rules.folder_mode)
            _copy_into(top, Path(dest), "", 0, rules, report)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    finally:
        os.close(top)
    return report


def _open_inbound(src) -> int:
    """A file descriptor of the inbound folder ``src`` itself (never what a link there
    points to)."""
    name = Path(src).name
    try:
        mode = os.lstat(src).st_mode
        if not stat.S_ISDIR(mode):
            raise UnsafeFile(f"the inbound folder {name} is a {entry_kind(mode)}, not a folder: not collected")
        return os.open(src, _DIR_FLAGS | os.O_NONBLOCK)
    except UnsafeFile:
        raise
    except OSError as exc:
        raise UnsafeFile(f"the inbound folder {name} cannot be opened ({exc.strerror})") from None


def _copy_into(sfd: int, dest: Path, rel: str, depth: int, rules: CopyRules, report: InboundCopy) -> None:
    """Copy what the folder open as ``sfd`` (``rel`` in the inbound folder) holds into ``dest``."""
    try:
        names = sorted(os.listdir(sfd))
    except OSError as exc:
        report.refuse(f"{rel or 'the inbound folder'} cannot be listed ({exc.strerror}): its contents are not copied")
        return
    for name in names:
        if report.full:
            return
        if any(fnmatch.fnmatch(name, pattern) for pattern in rules.ignore):
            continue
        try:
            st = os.stat(name, dir_fd=sfd, follow_symlinks=False)
        except OSError:
            continue  # gone since the listing
        if report.entries >= MAX_ENTRIES:
            report.full = True
            report.refuse(f"{rel}{name} and the rest: more than {MAX_ENTRIES} files and folders; not copied")
        elif stat.S_ISDIR(st.st_mode):
            _copy_folder(sfd, name, st, dest, rel, depth, rules, report)
        elif rules.include and not any(fnmatch.fnmatch(name, pattern) for pattern in rules.include):
            continue
        elif stat.S_ISREG(st.st_mode):
            _copy_file(sfd, name, st, dest, rel, rules, report)
        else:
            report.refuse(f"{rel}{name} is a {entry_kind(st.st_mode)}: not copied (only regular files and folders are)")


def _copy_folder(sfd: int, name: str, st: os.stat_result, dest: Path, rel: str, depth: int, rules: CopyRules,
                 report: InboundCopy) -> None:
    if depth >= MAX_DEPTH:
        report.refuse(f"{rel}{name}/: folders nested more than {MAX_DEPTH} deep are not copied")
        return
    try:
        sub = os.open(name, _DIR_FLAGS | os.O_NONBLOCK, dir_fd=sfd)
    except OSError as exc:
        report.refuse(f"{rel}{name}/ cannot be opened ({exc.strerror}): not copied")
        return
    try:
        os.mkdir(dest / name, rules.folder_mode)
        os.chmod(dest / name, rules.folder_mode)
        report.entries += 1
        _copy_into(sub, dest / name, f"{rel}{name}/", depth + 1, rules, report)
        os.utime(dest / name, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    finally:
        os.close(sub)


def _copy_file(sfd: int, name: str, st: os.stat_result, dest: Path, rel: str, rules: CopyRules,
               report: InboundCopy) -> None:
    limit = MAX_TIMESTAMP_TXT if (rel, name) == ("", "timestamp.txt") else rules.max_file
    if st.st_size > limit:
        report.refuse(f"{rel}{name}: {st.st_size} bytes, over the limit of {limit}; not copied")
        return
    try:
        data = read_regular(name, limit, dir_fd=sfd)
    except UnsafeFile as exc:
        report.refuse(f"{rel}{name}: not copied ({exc})")
        return
    if report.total_bytes + len(data) > rules.max_total:
        raise RuntimeError(f"Directory size is too big: over {rules.max_total} bytes "
                           "(see CourseDirectory.max_dir_size)")
    fd = os.open(dest / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                 rules.file_mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fchmod(fd, rules.file_mode)
        os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(fd)
    report.entries += 1
    report.total_bytes += len(data)


# ---------------------------------------------------------------- nbgrader's collect, made safe

_UNREADABLE = "emlab_unreadable"  # a key of nbgrader's record of an inbound folder: why it is not collected
NOT_STUDENT_IDS = {"", ".", ".."}
# no account's name holds these: markup and script quotes, path separators, and (first)
# what a spreadsheet reads as a formula
UNSAFE_ID_CHARACTERS = set('<>&"\'`\\/')
FORMULA_STARTS = tuple("=+-@")


def unsafe_student_id(student: str) -> str:
    """Why ``student`` (the first part of an inbound folder's name, which the student
    chose) cannot be a student id, or "": nothing an account's name holds (control or
    invisible formatting characters, markup, quotes, slashes), no leading formula character
    or dot, no surrounding white space."""
    import unicodedata

    if student in NOT_STUDENT_IDS:
        return "not a student id"
    if student != student.strip():
        return "the id begins or ends with white space"
    if student.startswith(FORMULA_STARTS + (".",)):
        return f"the id begins with {student[0]!r}"
    bad = sorted({c for c in student if c in UNSAFE_ID_CHARACTERS or unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"}})
    if bad:
        return "the id holds " + ", ".join(repr(c) if c.isprintable() else f"U+{ord(c):04X}" for c in bad)
    return ""


def impostor(path, student: str) -> str:
    """Why the inbound folder ``path`` was not made by ``student``, or "": when ``student``
    is an account of this machine, the folder must be owned by it (or by root, or by the
    collecting user: an instructor's own test). nbgrader only warns; a student who made a
    folder in another's name with a later time would replace that student's work."""
    import pwd

    try:
        claimed = pwd.getpwnam(student).pw_uid
        owner = os.lstat(path).st_uid
    except (KeyError, OSError, ValueError):
        return ""  # no such account here (or nothing to compare): nbgrader's own warning stands
    if owner in {claimed, 0, os.geteuid()}:
        return ""
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = f"uid {owner}"
    return f"the folder claims to be {student}'s but was made by {name}"


class RecordingCollect(ExchangeCollect):
    """nbgrader's ``collect`` (the shared-folder exchange), copying each submission with
    :func:`copy_inbound` instead of ``shutil.copytree``, one student at a time (a student
    whose inbound folder cannot be collected is skipped with an error in the log; every
    other student is collected), and recording each submission's :class:`CollectRecord`.
    Which inbound folder is taken, and when an existing submission is replaced
    (``--update``, ``--before-duedate``), is nbgrader's. Configure with
    ``c.ExchangeFactory.collect = "emlab_judge.lateness.RecordingCollect"``."""

    def _path_to_record(self, path):
        """nbgrader's record of an inbound folder, with why it is never collected where it
        must not be: a name whose time cannot be read, an id no account could have
        (:func:`unsafe_student_id`), a folder another student's account made
        (:func:`impostor`). The student chose the name of the folder, and so the id."""
        try:
            record = super()._path_to_record(path)
        except Exception as exc:  # noqa: BLE001  (dateutil's errors on a name a student chose)
            filename = os.path.split(path)[1]
            return {"username": filename.rsplit("+", 3)[0], "filename": filename, "timestamp": dt.datetime.min,
                    _UNREADABLE: f"no time can be read from its name ({type(exc).__name__})"}
        why = unsafe_student_id(record["username"]) or impostor(path, record["username"])
        if why:
            record[_UNREADABLE] = why
        return record

    def _sort_by_timestamp(self, records):
        """nbgrader's order (latest first) over the student's inbound folders that can be
        collected; the others only when there is none (then skipped, with why)."""
        readable = [record for record in records if _UNREADABLE not in record]
        return super()._sort_by_timestamp(readable or records)

    def copy_files(self):
        """nbgrader's ``copy_files``, for one student at a time."""
        records = self.src_records
        if not records:
            return super().copy_files()
        try:
            for record in records:
                self.src_records = [record]
                self._collect_one(record)
        finally:
            self.src_records = records

    def _collect_one(self, record) -> None:
        student, filename = record["username"], record["filename"]
        why = record.get(_UNREADABLE) or unsafe_student_id(student)
        if why:
            self.log.error("Not collected: the inbound folder %s (%s)", ascii(filename), why)
            return
        try:
            super().copy_files()
        except Exception as exc:  # noqa: BLE001  (one student's folder never stops the others)
            self.log.error("Could not collect %s's submission from the inbound folder %r (skipped; the other "
                           "students are collected): %s: %s", student, filename, type(exc).__name__, exc)
            self._remove_if_empty(student)

    def _remove_if_empty(self, student: str) -> None:
        """Remove the student's folder in ``submitted/`` that nbgrader made for a copy
        that failed, when it holds nothing."""
        dest = self.coursedir.format_path(self.coursedir.submitted_directory, student, self.coursedir.assignment_id)
        try:
            os.rmdir(os.path.dirname(dest))
        except OSError:
            pass

    def do_copy(self, src, dest, log=None):
        """Copy the inbound folder ``src`` to ``dest`` with :func:`copy_inbound` (under
        nbgrader's ignore, include and size options), log what was refused, and record it."""
        student = self._path_to_record(src)["username"]
        copied = copy_inbound(src, dest, CopyRules.from_coursedir(self.coursedir))
        refused = copied.reasons()
        for reason in refused:
            self.log.warning("Not collected from %s's submission: %s", student, reason)
        try:
            record = record_collect(src, dest, student, self.coursedir.assignment_id, refused)
        except (OSError, ValueError) as exc:
            self.log.warning("No collect record for %s (the student's own timestamp will be used): %s", student, exc)
            return
        self.log.info("Recorded the exchange's time for %s: %s", student, record.changed)
        if record.incomplete:
            self.log.warning("The inbound folder of %s cannot be read whole (%s): the collect time is recorded",
                             student, record.incomplete)


# ---------------------------------------------------------------- the time

def _student_time(submission_dir: Path, note: str) -> TrustedTime:
    from nbgrader.utils import parse_utc

    try:
        text = read_regular(submission_dir / "timestamp.txt", 4096).decode("utf-8").strip()
        when = parse_utc(text).replace(tzinfo=UTC)
    except Exception:  # noqa: BLE001  (missing, a link, a FIFO, garbage: no time)
        return TrustedTime(None, NO_SOURCE, False, note)
    return TrustedTime(when, STUDENT_SOURCE, False, note)


def _inbound_time(submission_dir: Path, inbound) -> TrustedTime:
    """The time of the inbound copy ``inbound``: its last change, read now, when it holds
    every file of ``submission_dir``; the time it was read when it cannot be read whole;
    the student's own time when it does not hold the submitted files."""
    theirs = _survey(inbound, hashes=True)
    if not theirs.incomplete:
        ours = _survey(submission_dir, hashes=True)
        if ours.incomplete or any(theirs.entries.get(path) != what for path, what in ours.entries.items()):
            return _student_time(submission_dir, "the inbound copy does not hold the submitted files")
        theirs = _survey(inbound, hashes=False)  # read after the comparison
    if theirs.incomplete:
        return TrustedTime(dt.datetime.now(UTC), INBOUND_SOURCE, True,
                           f"the inbound copy cannot be read whole ({theirs.incomplete}): the time it was read is used")
    return TrustedTime(_utc(theirs.latest), INBOUND_SOURCE, True)


def _record_note(record: CollectRecord) -> str:
    """What a report should show beside a recorded time: an incomplete reading, refusals."""
    notes = []
    if record.incomplete:
        notes.append(f"the inbound copy could not be read whole at collect ({record.incomplete}): "
                     "the collect time is used")
    if record.refused:
        notes.append("refused at collect: " + "; ".join(record.refused))
    return "; ".join(notes)


def trusted_timestamp(submission_dir, exchange_record=None) -> TrustedTime:
    """When the submission in ``submission_dir`` (``<submitted>/<student>/<assignment>``)
    was handed in, from a time the student cannot write where one exists.

    ``exchange_record``: a :class:`CollectRecord`, or the path of the submission's inbound
    copy on the exchange (its change time is read now, if it holds the submitted files; the
    time it is read, if it cannot be read whole), or None: the record
    :class:`RecordingCollect` left in ``collect_records/``, if any. A recorded time comes
    with the record's note (an incomplete reading, refused files). Otherwise the student's
    own ``timestamp.txt`` (``source`` says so), or no time. Never raises for what the
    folder holds."""
    submission_dir = Path(submission_dir)
    if isinstance(exchange_record, (str, os.PathLike)):
        return _inbound_time(submission_dir, exchange_record)
    record = exchange_record if isinstance(exchange_record, CollectRecord) else load_record(submission_dir)
    if record is None:
        return _student_time(submission_dir, "")
    if record.digest is None:
        return _student_time(submission_dir, "the collected files could not be read whole at collect")
    if record.digest != folder_digest(submission_dir):
        return _student_time(submission_dir, "the collect record does not match the submitted files")
    return TrustedTime(record.changed_at, RECORD_SOURCE, True, _record_note(record))


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


def describe_lateness(seconds: float) -> str:
    """A lateness in words a reader takes in at once: seconds under a minute, minutes under an
    hour, then hours (to 0.1 h) and, from two days, days too."""
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    if seconds < 3570:
        return f"{seconds / 60:.0f} min"
    hours = seconds / 3600
    return f"{hours:.1f} h" + (f" ({hours / 24:.1f} days)" if hours >= 48 else "")


def submission_timing(submitted_root, student: str, assignment: str, gradebook_time: dt.datetime | None,
                      duedate: dt.datetime | None, extension: dt.timedelta | None = None) -> dict:
    """The late or on-time verdict of one submission for the grade report, and what it rests
    on: the trusted time of ``<submitted_root>/<student>/<assignment>`` where there is one,
    else nbgrader's time in the gradebook (``gradebook_time``, naive UTC, as nbgrader
    stores it: from the student's ``timestamp.txt`` unless the harness staged a trusted one).
    ``extension`` is the student's extension in the gradebook (nbgrader's
    ``SubmittedAssignment.extension``): the submission is due at ``duedate + extension``, as
    nbgrader's late penalty reckons it.

    Keys: ``timestamp`` (UTC, to the minute), ``verdict`` ("late", "on time", "no due date"
    or "no time"), ``late_by_hours`` (to 0.01 h), ``late_by_seconds``, ``late_by`` (in words:
    seconds, minutes or hours), ``source``, ``trusted``, ``note``."""
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
        notes = [stamp.note] if stamp.note else []
        if recorded is not None and abs((recorded - when).total_seconds()) > 1:
            notes.append(f"the gradebook has {recorded:%Y-%m-%d %H:%M} UTC, which nbgrader's late penalty used: "
                         "grade again to apply this time")
        note = "; ".join(notes)
    else:
        when = recorded if recorded is not None else (stamp.when if stamp else None)
        source, trusted = (STUDENT_SOURCE if when is not None else NO_SOURCE), False
        note = stamp.note if stamp is not None else ""
    due = duedate.replace(tzinfo=UTC) if duedate is not None else None
    if due is not None and extension:
        due += extension
        note = "; ".join(filter(None, [f"an extension of {describe_lateness(extension.total_seconds())}: due "
                                       f"{due:%Y-%m-%d %H:%M} UTC", note]))
    late_by = (when - due).total_seconds() if when is not None and due is not None else None
    verdict = ("no time" if when is None else "no due date" if due is None else "late" if late_by > 0 else "on time")
    late = late_by if late_by is not None and late_by > 0 else 0.0
    return {"timestamp": when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else None, "verdict": verdict,
            "late_by_hours": round(late / 3600, 2), "late_by_seconds": late,
            "late_by": describe_lateness(late) if late else "",
            "source": source, "trusted": trusted, "note": note}
