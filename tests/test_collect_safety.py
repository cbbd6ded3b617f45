"""Collect copies no link, opens no special file, and never stops for one student.

nbgrader 0.9.6's collect copies each inbound folder with ``shutil.copytree``, which follows
links: a link in a student's inbound folder to a solution, a secret, ``/proc/self/environ``
or ``/dev/zero`` lands in ``submitted/`` as a regular file holding the target, and a FIFO
or an unreadable folder name stops collect for every later student. Here inbound folders
written as a hostile student would write them go through the real ``nbgrader collect``
with the recording collect class (and through nbgrader's own copy loop in this process, in
a chosen order), and everything is checked from outside: what is under ``submitted/``,
what the collect record says, and the time each submission gets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grading_support import temporary_course

A = "03-old-faithful"
NB = "old_faithful.ipynb"
UTC = dt.timezone.utc
FORGED = dt.datetime(2020, 1, 1, tzinfo=UTC)
SECRET = b"TOP-SECRET-" + secrets.token_hex(16).encode()
ENV_SECRET = "ENVSECRET" + secrets.token_hex(16)
COLLECT = "--ExchangeFactory.collect=emlab_judge.lateness.RecordingCollect"
DEEP = 70  # dot-folders nested deeper than the survey's limit
HOSTILE = ("linker", "fifo", "hardlinker", "toplink", "fifotop", "badname", "..")
COLLECTED = ("linker", "fifo", "hardlinker", "deep", "zoe")


def folder_name(student: str, when: dt.datetime) -> str:
    """An inbound folder's name as ``nbgrader submit`` writes it."""
    return f"{student}+{A}+{when.strftime('%Y-%m-%d %H:%M:%S.%f')} UTC"


def forge_times(folder: Path) -> None:
    """Every access and modification time a student can set, set back to ``FORGED``."""
    stamp = FORGED.timestamp()
    for root, dirs, files in os.walk(folder):
        for name in files + dirs:
            os.utime(os.path.join(root, name), (stamp, stamp), follow_symlinks=False)
    os.utime(folder, (stamp, stamp))


def latest_ctime(folder: Path) -> dt.datetime:
    """The latest change time over ``folder`` and everything in it, no depth limit."""
    latest = os.lstat(folder).st_ctime_ns
    for root, dirs, files in os.walk(folder):
        for name in files + dirs:
            latest = max(latest, os.lstat(os.path.join(root, name)).st_ctime_ns)
    return dt.datetime.fromtimestamp(latest / 1e9, UTC)


def run_collect(course, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    """``nbgrader collect`` under the course configuration, killed after ``timeout`` s
    (a FIFO that blocks fails here) and limited in the size of file it may write (a copy
    of ``/dev/zero`` fails here, without filling the disk)."""
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024 ** 2, 256 * 1024 ** 2))

    env = {**course.env, ENV_SECRET: ENV_SECRET}
    cmd = [sys.executable, "-m", "nbgrader", "collect", A, COLLECT, *args]
    return subprocess.run(cmd, cwd=course.root, env=env, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit_file_size)


def write_inbound(inbound: Path, student: str, release: Path, when: dt.datetime) -> Path:
    folder = inbound / folder_name(student, when)
    folder.mkdir()
    shutil.copy(release, folder / NB)
    (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    return folder


def hostile_inbound(inbound: Path, course, outside: Path, release: Path) -> dict[str, Path]:
    """Inbound folders: links, a FIFO, a hard link, a deep dot-folder, an inbound folder
    that is a link or a FIFO, an unreadable name, a student id of ``..``, and two honest
    students."""
    when = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    secret = outside / "secret.txt"
    folders = {}
    folders["linker"] = linker = inbound / folder_name("linker", when)
    linker.mkdir()
    solution = course.root / "solutions" / A / NB
    (linker / NB).symlink_to(os.path.relpath(solution, linker))
    (linker / "secret.txt").symlink_to(secret)
    (linker / "environ.txt").symlink_to("/proc/self/environ")
    (linker / "zero.bin").symlink_to("/dev/zero")
    (linker / "solutions").symlink_to(course.root / "solutions")
    (linker / "gradebook.db").symlink_to(course.autograder / "gradebook.db")
    (linker / "timestamp.txt").write_text(FORGED.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    folders["fifo"] = fifo = write_inbound(inbound, "fifo", release, when)
    os.mkfifo(fifo / "data.csv")
    folders["hardlinker"] = hard = write_inbound(inbound, "hardlinker", release, when)
    os.link(secret, hard / "notes.txt")
    folders["toplink"] = inbound / folder_name("toplink", when)
    folders["toplink"].symlink_to(course.root / "solutions" / A)
    folders["fifotop"] = inbound / folder_name("fifotop", when)
    os.mkfifo(folders["fifotop"])
    folders["badname"] = inbound / f"badname+{A}+not a time"
    shutil.copytree(release.parent, folders["badname"])
    folders[".."] = write_inbound(inbound, "..", release, when)
    folders["deep"] = deep = inbound / folder_name("deep", FORGED)
    deep.mkdir()
    shutil.copy(release, deep / NB)
    (deep / "timestamp.txt").write_text(FORGED.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    os.makedirs(deep.joinpath(*[".d"] * DEEP))
    forge_times(deep)
    folders["zoe"] = zoe = write_inbound(inbound, "zoe", release, when)
    (zoe / "data").mkdir()
    (zoe / "data" / "extra.csv").write_text("x,y\n1,2\n")
    (zoe / ".ipynb_checkpoints").mkdir()
    (zoe / ".ipynb_checkpoints" / "old_faithful-checkpoint.ipynb").write_text("{}")
    return folders


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A course whose exchange holds the hostile inbound folders, collected once."""
    tmp = tmp_path_factory.mktemp("collect-safety")
    course = temporary_course(tmp, [A])
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    inbound = course.scratch.parent / "home" / "exchange" / "emlab" / "inbound"
    inbound.mkdir(parents=True)
    release = course.root / "notebooks" / A / NB
    folders = hostile_inbound(inbound, course, outside, release)
    started = time.monotonic()
    proc = run_collect(course)
    elapsed = time.monotonic() - started
    return course, folders, proc, elapsed


def submitted(course, student: str) -> Path:
    return course.autograder / "submitted" / student / A


def records(course) -> dict:
    return json.loads((course.autograder / "collect_records" / f"{A}.json").read_text())


def every_entry(root: Path):
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            yield Path(folder) / name


def test_collect_finishes_and_collects_every_student_it_can(collected):
    course, folders, proc, elapsed = collected
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 60
    for student in COLLECTED:
        assert (submitted(course, student) / "timestamp.txt").is_file(), (student, proc.stderr)
    assert set(records(course)) == set(COLLECTED)


def test_the_honest_student_is_collected_intact(collected):
    from emlab_judge.lateness import RECORD_SOURCE, folder_digest, trusted_timestamp

    course, folders, proc, _ = collected
    zoe = submitted(course, "zoe")
    assert (zoe / NB).read_bytes() == (folders["zoe"] / NB).read_bytes()
    assert (zoe / "data" / "extra.csv").read_text() == "x,y\n1,2\n"
    assert not (zoe / ".ipynb_checkpoints").exists()  # CourseDirectory.ignore, as nbgrader does
    assert os.stat(zoe / NB).st_mtime == os.stat(folders["zoe"] / NB).st_mtime  # as copytree keeps them
    record = records(course)["zoe"]
    assert record["refused"] == [] and record["incomplete"] == ""
    assert record["digest"] == folder_digest(zoe)
    stamp = trusted_timestamp(zoe)
    assert stamp.trusted and stamp.source == RECORD_SOURCE and stamp.note == ""


def test_no_link_is_copied_and_no_secret_reaches_submitted(collected):
    course, _, _, _ = collected
    solution = (course.root / "solutions" / A / NB).read_bytes()
    root = course.autograder / "submitted"
    for path in every_entry(root):
        assert not path.is_symlink(), path
        if path.is_file():
            data = path.read_bytes()
            assert SECRET not in data and ENV_SECRET.encode() not in data, path
            assert b"BEGIN SOLUTION" not in data and data != solution, path
    assert not (course.autograder / A).exists()  # the student id ".." wrote nowhere
    assert sorted(p.name for p in root.iterdir()) == sorted(COLLECTED)


def test_what_was_refused_is_logged_and_recorded(collected):
    from emlab_judge.lateness import trusted_timestamp

    course, _, proc, _ = collected
    linker = records(course)["linker"]
    refused = " | ".join(linker["refused"])
    for name in (NB, "secret.txt", "environ.txt", "zero.bin", "solutions", "gradebook.db"):
        assert f"{name} is a symbolic link" in refused, name
        assert f"linker's submission: {name} is a symbolic link" in proc.stderr, name
    assert os.listdir(submitted(course, "linker")) == ["timestamp.txt"]
    assert "data.csv is a FIFO" in " ".join(records(course)["fifo"]["refused"])
    assert "notes.txt: not copied (notes.txt is a hard link" in " ".join(records(course)["hardlinker"]["refused"])
    note = trusted_timestamp(submitted(course, "linker")).note
    assert "refused at collect" in note and "secret.txt is a symbolic link" in note
    for name in ("toplink", "fifotop", "badname"):
        assert name in proc.stderr and not submitted(course, name).exists(), name


def test_a_survey_that_fails_still_records_a_time_no_earlier_than_the_inbound_folder(collected):
    from emlab_judge.lateness import RECORD_SOURCE, submission_timing, trusted_timestamp

    course, folders, proc, _ = collected
    record = records(course)["deep"]
    assert "nested more than" in record["incomplete"]
    changed = dt.datetime.fromisoformat(record["changed"])
    assert changed >= latest_ctime(folders["deep"]) and changed > FORGED + dt.timedelta(days=1)
    assert "deep cannot be read whole" in proc.stderr
    stamp = trusted_timestamp(submitted(course, "deep"))
    assert stamp.trusted and stamp.source == RECORD_SOURCE and stamp.when == changed
    assert "could not be read whole at collect" in stamp.note
    due = (FORGED + dt.timedelta(days=1)).replace(tzinfo=None)
    timing = submission_timing(course.autograder / "submitted", "deep", A, FORGED.replace(tzinfo=None), due)
    assert timing["verdict"] == "late" and timing["trusted"] and "could not be read whole" in timing["note"]


def test_collect_update_replaces_as_nbgrader_does(collected):
    course, folders, _, _ = collected
    release = course.root / "notebooks" / A / NB
    later = write_inbound(folders["zoe"].parent, "zoe", release, dt.datetime.now(UTC))
    (later / "data").mkdir()
    (later / "data" / "extra.csv").write_text("x,y\n3,4\n")
    before = records(course)
    proc = run_collect(course)  # without --update: nothing replaced
    assert proc.returncode == 0, proc.stderr
    assert (submitted(course, "zoe") / "data" / "extra.csv").read_text() == "x,y\n1,2\n"
    proc = run_collect(course, "--update")
    assert proc.returncode == 0, proc.stderr
    assert (submitted(course, "zoe") / "data" / "extra.csv").read_text() == "x,y\n3,4\n"
    after = records(course)
    assert after["zoe"]["inbound"] == later.name and after["zoe"]["changed"] > before["zoe"]["changed"]
    assert after["deep"] == before["deep"]  # no newer inbound folder: left as it was


# ---------------------------------------------------------------- nbgrader's copy loop, in a chosen order

def _collector(course, inbound: Path):
    from nbgrader.coursedir import CourseDirectory

    from emlab_judge.lateness import RecordingCollect

    coursedir = CourseDirectory(root=str(course), course_id="emlab", assignment_id=A,
                                submitted_directory="submitted", ignore=[".ipynb_checkpoints", "__pycache__", ".*"])
    collect = RecordingCollect(coursedir=coursedir, root=str(inbound.parent.parent), check_owner=False)
    collect.inbound_path = str(inbound)
    return collect


def _within(seconds: float, work) -> None:
    """Run ``work`` in a thread; fail if it has not finished after ``seconds``."""
    errors = []

    def run():
        try:
            work()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (blocked on a special file?)"
    if errors:
        raise errors[0]


def test_hostile_folders_first_never_stop_the_honest_student_after_them(tmp_path):
    course = tmp_path / "course"
    inbound = tmp_path / "exchange" / "emlab" / "inbound"
    inbound.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    when = dt.datetime.now(UTC)
    order = []
    for student in ("fifo", "toplink", "linker", "hardlinker", "zoe"):
        folder = inbound / folder_name(student, when)
        order.append({"username": student, "filename": folder.name, "timestamp": when.replace(tzinfo=None)})
        if student == "toplink":
            folder.symlink_to(tmp_path)
            continue
        folder.mkdir()
        (folder / NB).write_text('{"cells": []}')
        if student == "fifo":
            os.mkfifo(folder / "answers.txt")
        elif student == "linker":
            (folder / "secret.txt").symlink_to(secret)
        elif student == "hardlinker":
            os.link(secret, folder / "notes.txt")
    collect = _collector(course, inbound)
    collect.src_records = order
    _within(60, collect.copy_files)
    for student in ("fifo", "linker", "hardlinker", "zoe"):
        assert (course / "submitted" / student / A / NB).read_text() == '{"cells": []}', student
    assert not (course / "submitted" / "toplink" / A).exists()
    for path in every_entry(course / "submitted"):
        assert not path.is_symlink() and (path.is_dir() or SECRET not in path.read_bytes()), path
    assert sorted(os.listdir(course / "submitted" / "zoe" / A)) == [NB]


def test_stock_nbgrader_follows_a_link_in_the_inbound_folder(tmp_path):
    """The premise: nbgrader's own do_copy writes a link's target into submitted/."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.collect import ExchangeCollect

    (tmp_path / "secret.txt").write_bytes(SECRET)
    src = tmp_path / "inbound"
    src.mkdir()
    (src / "notes.txt").symlink_to(tmp_path / "secret.txt")
    ExchangeCollect(coursedir=CourseDirectory(root=str(tmp_path))).do_copy(str(src), str(tmp_path / "dest"))
    assert not (tmp_path / "dest" / "notes.txt").is_symlink()
    assert (tmp_path / "dest" / "notes.txt").read_bytes() == SECRET


# ---------------------------------------------------------------- the copy and the record, one by one

def test_too_many_entries_in_a_dot_folder_still_gives_a_marked_time(tmp_path, monkeypatch):
    from emlab_judge import lateness

    monkeypatch.setattr(lateness, "MAX_ENTRIES", 20)
    inbound = tmp_path / "inbound"
    (inbound / ".many").mkdir(parents=True)
    for i in range(50):
        (inbound / ".many" / f"f{i}").write_text("x")
    (inbound / NB).write_text("{}")
    forge_times(inbound)
    dest = tmp_path / "submitted" / "eve" / A
    dest.parent.mkdir(parents=True)
    copied = lateness.copy_inbound(inbound, dest, lateness.CopyRules(ignore=(".*",)))
    assert copied.reasons() == [] and os.listdir(dest) == [NB]
    record = lateness.record_collect(inbound, dest, "eve", A, copied.reasons())
    assert "more than 20" in record.incomplete
    assert record.changed_at >= latest_ctime(inbound) and record.changed == record.collected
    stamp = lateness.trusted_timestamp(dest)
    assert stamp.trusted and stamp.when == record.changed_at and "could not be read whole" in stamp.note


def test_the_inbound_copy_given_by_path_that_cannot_be_read_whole_gives_the_time_read(tmp_path):
    from emlab_judge.lateness import INBOUND_SOURCE, trusted_timestamp

    inbound = tmp_path / "inbound"
    inbound.joinpath(*[".d"] * DEEP).mkdir(parents=True)
    (inbound / NB).write_text("{}")
    (inbound / "timestamp.txt").write_text("2020-01-01 00:00:00.000000 UTC")
    forge_times(inbound)
    dest = tmp_path / "submitted" / "eve" / A
    shutil.copytree(inbound, dest, ignore=shutil.ignore_patterns(".*"))
    before = dt.datetime.now(UTC)
    stamp = trusted_timestamp(dest, inbound)
    assert stamp.trusted and stamp.source == INBOUND_SOURCE and stamp.when >= before
    assert "cannot be read whole" in stamp.note


def test_size_limits_and_odd_entries_in_the_copy(tmp_path):
    from emlab_judge.lateness import MAX_REFUSED_KEPT, CopyRules, copy_inbound

    src = tmp_path / "inbound"
    (src / "sub").mkdir(parents=True)
    (src / "big.bin").write_bytes(b"x" * 2000)
    (src / "timestamp.txt").write_text("2020-01-01 " * 1000)
    (src / "sub" / "ok.txt").write_text("ok")
    for i in range(MAX_REFUSED_KEPT + 5):
        os.symlink("/etc/passwd", src / f"zlink{i:03d}")
    copied = copy_inbound(src, tmp_path / "dest", CopyRules(max_file=1000))
    assert sorted(os.listdir(tmp_path / "dest")) == ["sub"]
    assert len(copied.refused) == MAX_REFUSED_KEPT and copied.reasons()[-1] == "and 7 more entries refused"
    assert any(r.startswith("big.bin: 2000 bytes") for r in copied.refused)
    assert any(r.startswith("timestamp.txt:") for r in copied.refused)
    with pytest.raises(RuntimeError, match="too big"):
        copy_inbound(src, tmp_path / "dest2", CopyRules(max_file=10_000, max_total=1500))
    assert not (tmp_path / "dest2").exists()


def test_a_record_from_before_these_fields_still_loads(tmp_path):
    from emlab_judge.lateness import load_record, records_file

    dest = tmp_path / "autograder" / "submitted" / "olive" / A
    dest.mkdir(parents=True)
    path = records_file(dest)
    path.parent.mkdir(parents=True)
    old = {"student": "olive", "assignment": A, "inbound": "x", "changed": "2026-01-01T00:00:00+00:00",
           "collected": "2026-01-01T00:00:01+00:00", "digest": None}
    path.write_text(json.dumps({"olive": old}))
    record = load_record(dest)
    assert record is not None and record.refused == () and record.incomplete == ""
    path.write_text(json.dumps({"olive": {**old, "refused": [1, 2]}}))
    assert load_record(dest) is None
