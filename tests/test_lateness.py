"""Lateness from a time the student cannot write: a forged ``timestamp.txt`` (and forged
modification times, and a forged inbound folder name) on a late submission is late, and
the grade report says what each late or on-time verdict rests on.

The submission travels as in nbgrader 0.9.6: an inbound folder on the exchange (written
here as a forging student would write it), real ``nbgrader collect`` with the recording
collect class, then the course's ``submitted/`` folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time

import pytest

from grading_support import run_nbgrader, temporary_course

A = "03-old-faithful"
NB = "old_faithful.ipynb"
UTC = dt.timezone.utc
START = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(seconds=2)
DUE = (START - dt.timedelta(hours=1)).replace(tzinfo=None)   # naive UTC, as nbgrader stores it
FORGED = DUE - dt.timedelta(days=1)
FORGED_TXT = FORGED.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC"
COLLECT = "--ExchangeFactory.collect=emlab_judge.lateness.RecordingCollect"


def _forge_times(folder, when: dt.datetime):
    """What a student can do to times: set every access and modification time back."""
    stamp = when.replace(tzinfo=UTC).timestamp()
    for root, dirs, files in os.walk(folder):
        for name in files + dirs:
            os.utime(os.path.join(root, name), (stamp, stamp), follow_symlinks=False)
    os.utime(folder, (stamp, stamp))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    course = temporary_course(tmp_path_factory.mktemp("lateness"), [A])
    with Gradebook(course.db_url, course_id="emlab") as gb:
        gb.update_or_create_assignment(A, duedate=DUE)
        for student in ("mallory", "olive"):
            gb.update_or_create_student(student)
    inbound = course.scratch.parent / "home" / "exchange" / "emlab" / "inbound"
    inbound.mkdir(parents=True)
    # mallory hands in late, with every time she can write set to a day before the deadline
    forged = inbound / f"mallory+{A}+{FORGED_TXT}"
    forged.mkdir()
    shutil.copy(course.root / "notebooks" / A / NB, forged / NB)
    (forged / "timestamp.txt").write_text(FORGED_TXT)
    _forge_times(forged, FORGED)
    run_nbgrader(course, "collect", A, COLLECT, timeout=300)
    # olive's submission was copied in by hand (no exchange): only her own timestamp.txt
    olive = course.autograder / "submitted" / "olive" / A
    olive.mkdir(parents=True)
    shutil.copy(course.root / "notebooks" / A / NB, olive / NB)
    (olive / "timestamp.txt").write_text((DUE - dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    return course, forged


def submitted(course, student):
    return course.autograder / "submitted" / student / A


def test_touch_sets_the_modification_time_not_the_change_time(tmp_path):
    """The premise: what a student can set back (``touch -d``, ``os.utime``) is not the ctime."""
    path = tmp_path / "f"
    path.write_text("x")
    before = time.time() - 1
    os.utime(path, (0, 0))
    st = os.lstat(path)
    assert st.st_mtime == 0 and st.st_ctime >= before


def test_stock_nbgrader_would_take_the_forged_time(course):
    from nbgrader.utils import parse_utc

    course, _ = course
    folder = submitted(course, "mallory")
    assert (folder / "timestamp.txt").read_text() == FORGED_TXT  # collect copied the student's file
    assert parse_utc(FORGED_TXT) < DUE
    assert os.stat(folder / NB).st_mtime < DUE.replace(tzinfo=UTC).timestamp()  # and her modification times


def test_a_forged_timestamp_on_a_late_submission_is_late(course, tmp_path):
    from nbgrader.utils import parse_utc

    from emlab_judge.lateness import RECORD_SOURCE, stage_timestamp, trusted_timestamp

    course, _ = course
    records = json.loads((course.autograder / "collect_records" / f"{A}.json").read_text())
    assert set(records) == {"mallory"} and records["mallory"]["inbound"].startswith("mallory+")
    stamp = trusted_timestamp(submitted(course, "mallory"))
    assert stamp.trusted and stamp.source == RECORD_SOURCE
    assert stamp.when >= START and stamp.when.replace(tzinfo=None) > DUE
    # the staged copy nbgrader grades gets the trusted time as its timestamp.txt
    staged = tmp_path / "staged"
    shutil.copytree(submitted(course, "mallory"), staged)
    assert stage_timestamp(submitted(course, "mallory"), staged) == stamp
    assert parse_utc((staged / "timestamp.txt").read_text()) == stamp.when.replace(tzinfo=None)
    assert parse_utc((staged / "timestamp.txt").read_text()) > DUE


def test_the_grade_report_says_what_each_verdict_rests_on(course, monkeypatch):
    from nbgrader.api import Gradebook

    from emlab_judge import grade_report
    from emlab_judge.course import Course
    from emlab_judge.lateness import RECORD_SOURCE, STUDENT_SOURCE

    course, _ = course
    for var in ("EMLAB_AUTOGRADER_DIR", "EMLAB_GRADEBOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    with Gradebook(course.db_url, course_id="emlab") as gb:  # as stock autograde records them
        gb.update_or_create_submission(A, "mallory", timestamp=FORGED)
        gb.update_or_create_submission(A, "olive", timestamp=DUE - dt.timedelta(hours=2))
    [stats] = grade_report.collect(Course(course.root))
    timing = {t["student"]: t for t in stats.timing}
    assert timing["mallory"]["verdict"] == "late" and timing["mallory"]["trusted"]
    assert timing["mallory"]["source"] == RECORD_SOURCE
    assert timing["mallory"]["late_by_hours"] >= 0.99
    assert "the gradebook has" in timing["mallory"]["note"]  # nbgrader's penalty used the forged time
    assert [x["student"] for x in stats.late] == ["mallory"]
    assert timing["olive"] == {"student": "olive", "timestamp": (DUE - dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
                               "verdict": "on time", "late_by_hours": 0.0, "late_by_seconds": 0.0,
                               "late_by": "", "source": STUDENT_SOURCE, "trusted": False, "note": ""}
    page = grade_report.write_grade_report(Course(course.root)).read_text()
    late, on_time = page.split("<h3>Late submissions</h3>")[1].split("<h3>On time (or with no time)</h3>")
    assert "mallory" in late and RECORD_SOURCE in late and "olive" not in late
    assert "olive" in on_time and "student&#x27;s own timestamp.txt (not verified)" in on_time
    assert "the student could have written it" in on_time


def test_the_record_stops_applying_when_the_submitted_files_change(course, tmp_path):
    from emlab_judge.lateness import STUDENT_SOURCE, load_record, trusted_timestamp

    course, _ = course
    copy = tmp_path / "submitted" / "mallory" / A
    shutil.copytree(submitted(course, "mallory"), copy)
    record = load_record(submitted(course, "mallory"))
    assert trusted_timestamp(copy, record).trusted  # the same files
    (copy / NB).write_text((copy / NB).read_text() + " ")
    stamp = trusted_timestamp(copy, record)
    assert not stamp.trusted and stamp.source == STUDENT_SOURCE and "does not match" in stamp.note
    assert stamp.when.replace(tzinfo=None) == FORGED


def test_the_inbound_copy_itself_gives_the_time(course, tmp_path):
    from emlab_judge.lateness import INBOUND_SOURCE, STUDENT_SOURCE, trusted_timestamp

    course, forged = course
    stamp = trusted_timestamp(submitted(course, "mallory"), forged)
    assert stamp.trusted and stamp.source == INBOUND_SOURCE and stamp.when.replace(tzinfo=None) > DUE
    other = tmp_path / "other"
    other.mkdir()
    (other / NB).write_text("{}")
    stamp = trusted_timestamp(submitted(course, "mallory"), other)
    assert not stamp.trusted and stamp.source == STUDENT_SOURCE and "does not hold" in stamp.note


def test_a_change_after_submitting_moves_the_time_later_even_with_times_set_back(tmp_path):
    from emlab_judge.lateness import change_time

    folder = tmp_path / "inbound" / "deep" / "er"
    folder.mkdir(parents=True)
    (folder / "answer.py").write_text("x = 1")
    _forge_times(tmp_path / "inbound", FORGED)
    first = change_time(tmp_path / "inbound")
    time.sleep(0.05)
    (folder / "answer.py").write_text("x = 2")
    _forge_times(tmp_path / "inbound", FORGED)
    assert change_time(tmp_path / "inbound") > first


def test_odd_timestamp_files_give_no_time_and_never_reach_the_staged_copy(tmp_path):
    from emlab_judge.lateness import NO_SOURCE, folder_digest, stage_timestamp, trusted_timestamp

    secret = tmp_path / "secret.txt"
    secret.write_text("2020-01-01 00:00:00 UTC")
    for kind in ("garbage", "link", "fifo", "missing", "folder"):
        sub = tmp_path / kind / "student" / A
        sub.mkdir(parents=True)
        (sub / NB).write_text("{}")
        stamp_path = sub / "timestamp.txt"
        if kind == "garbage":
            stamp_path.write_text("the day before yesterday, honest")
        elif kind == "link":
            stamp_path.symlink_to(secret)
        elif kind == "fifo":
            os.mkfifo(stamp_path)
        elif kind == "folder":
            stamp_path.mkdir()
        assert folder_digest(sub) is not None  # a FIFO or a link is described, never opened
        stamp = trusted_timestamp(sub)
        assert stamp.when is None and stamp.source == NO_SOURCE and not stamp.trusted, kind
        staged = tmp_path / f"staged-{kind}"
        staged.mkdir()
        (staged / "timestamp.txt").write_text("copied from the submission")
        assert stage_timestamp(sub, staged).when is None
        assert not (staged / "timestamp.txt").exists(), kind


def test_a_link_planted_in_the_staged_copy_is_replaced_not_written_through(course, tmp_path):
    from emlab_judge.lateness import stage_timestamp

    course, _ = course
    target = tmp_path / "outside.txt"
    target.write_text("untouched")
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "timestamp.txt").symlink_to(target)
    stamp = stage_timestamp(submitted(course, "mallory"), staged)
    assert stamp.trusted
    assert target.read_text() == "untouched"
    assert not (staged / "timestamp.txt").is_symlink()
    assert (staged / "timestamp.txt").read_text() == stamp.timestamp_txt()


def test_lateness_reads_in_seconds_minutes_or_hours():
    from emlab_judge.lateness import describe_lateness

    assert [describe_lateness(x) for x in (9, 59, 61, 600, 3599, 3600, 5 * 3600, 50 * 3600)] == [
        "9 s", "59 s", "1 min", "10 min", "1.0 h", "1.0 h", "5.0 h", "50.0 h (2.1 days)"]


def test_an_extension_moves_the_due_date_as_nbgrader_reckons_it(tmp_path):
    """nbgrader's SubmittedAssignment.extension: due at duedate + extension. Nine seconds late
    without it reads "9 s", not "0.0 h"; on time with a day's extension, which the note names."""
    from emlab_judge.lateness import submission_timing

    due = dt.datetime(2026, 3, 1, 9, 0, 0)
    late = submission_timing(tmp_path, "ada", A, due + dt.timedelta(seconds=9), due)
    assert late["verdict"] == "late" and late["late_by"] == "9 s" and late["late_by_seconds"] == 9.0
    extended = submission_timing(tmp_path, "ada", A, due + dt.timedelta(hours=20), due, dt.timedelta(days=1))
    assert extended["verdict"] == "on time" and "an extension of 24.0 h" in extended["note"]
    past = submission_timing(tmp_path, "ada", A, due + dt.timedelta(hours=25), due, dt.timedelta(days=1))
    assert past["verdict"] == "late" and past["late_by"] == "1.0 h"
