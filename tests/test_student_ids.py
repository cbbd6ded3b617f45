"""A student id is the name of a folder a student chose (the first part of an inbound
folder's name on the exchange). Wherever an id goes it stays text: collect refuses ids no
account could have and folders made in another student's name; nbgrader's CSV export and
the LMS export quote every field and make formula-like text inert; the formgrader's pages
escape it and its API sends its JSON as plain text; a terminal prints it escaped."""

from __future__ import annotations

import csv
import datetime as dt
import os
import pwd
import shutil
import types

import pytest

from emlab_judge import nbgrader_fixes
from emlab_judge.export import SafeCsvExportPlugin, from_inert, inert, lms_rows
from emlab_judge.lateness import impostor, unsafe_student_id
from emlab_judge.report import printable
from grading_support import temporary_course
from test_collect_safety import A, NB, folder_name, records, run_collect, submitted, write_inbound

HOSTILE_IDS = ['<img src=x onerror=alert(document.domain)>', '";alert(1);"', '=HYPERLINK("x","y")',
               "+cmd|' /C calc'!A0", "@SUM(1)", "eve\nbob,,,,9,0,9,9", "\x1b[2K\x1b[1Agraded", "a\u202eb", " ada",
               ".hidden", "x\\y"]
HONEST_IDS = ["ada", "ben.lee", "c10 with space", "c10_ünï_学生", "x[ab]", "user@example", "o-neill"]


@pytest.mark.parametrize("student", HOSTILE_IDS)
def test_ids_no_account_could_have_are_refused(student):
    assert unsafe_student_id(student)


@pytest.mark.parametrize("student", HONEST_IDS)
def test_honest_ids_are_kept(student):
    assert unsafe_student_id(student) == ""


def test_collect_takes_no_hostile_id_and_every_honest_one(tmp_path):
    course = temporary_course(tmp_path, [A])
    inbound = course.scratch.parent / "home" / "exchange" / "emlab" / "inbound"
    inbound.mkdir(parents=True)
    release = course.root / "notebooks" / A / NB
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    hostile = [s for s in HOSTILE_IDS if "/" not in s]
    for student in hostile + ["ada", "zoe"]:
        write_inbound(inbound, student, release, when)
    proc = run_collect(course)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = {p.name for p in (course.autograder / "submitted").iterdir()}
    assert got == {"ada", "zoe"}, got
    assert set(records(course)) == {"ada", "zoe"}
    seen = [s for s in hostile if not s.startswith(".")]  # nbgrader's glob never lists a dot-folder
    assert proc.stderr.count("Not collected: the inbound folder") >= len(seen)
    assert "\x1b" not in proc.stderr  # the log quotes the names escaped


def _account_pair():
    """Two accounts of this machine that are neither root nor the user running the test."""
    me = os.geteuid()
    names = [p for p in pwd.getpwall() if p.pw_uid not in (0, me)]
    if len(names) < 2 or me != 0:
        pytest.skip("needs root and two other accounts (a Debian system has daemon, bin, nobody, ...)")
    return names[0], names[1]


def test_a_folder_made_in_another_students_name_is_not_collected(tmp_path):
    victim, thief = _account_pair()
    course = temporary_course(tmp_path, [A])
    inbound = course.scratch.parent / "home" / "exchange" / "emlab" / "inbound"
    inbound.mkdir(parents=True)
    release = course.root / "notebooks" / A / NB
    now = dt.datetime.now(dt.timezone.utc)
    real = write_inbound(inbound, victim.pw_name, release, now - dt.timedelta(minutes=10))
    os.chown(real, victim.pw_uid, victim.pw_gid)
    (real / "mine.txt").write_text("the real work")
    forged = write_inbound(inbound, victim.pw_name, release, now + dt.timedelta(days=3650))
    os.chown(forged, thief.pw_uid, thief.pw_gid)
    assert "was made by" in impostor(forged, victim.pw_name) and impostor(real, victim.pw_name) == ""
    proc = run_collect(course)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (submitted(course, victim.pw_name) / "mine.txt").read_text() == "the real work"
    assert records(course)[victim.pw_name]["inbound"] == real.name


def _gradebook(tmp_path, students):
    from nbgrader.api import Gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("ps1")
        for student in students:
            gb.add_student(student, first_name="=1+1" if student == "ada" else "")
    return url


def test_grades_csv_and_lms_csv_keep_every_id_to_one_cell(tmp_path):
    from nbgrader.api import Gradebook

    students = ["ada", '=HYPERLINK("https://x.example","grades")', "eve\nps1,,,bob,,,,10,0,10,10", "-2+3+cmd"]
    url = _gradebook(tmp_path, students)
    plugin = SafeCsvExportPlugin()
    plugin.to = str(tmp_path / "grades.csv")
    with Gradebook(url) as gb:
        plugin.export(gb)
    with open(tmp_path / "grades.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(students)  # no forged row
    assert sorted(from_inert(r["student_id"]) for r in rows) == sorted(students)
    for row in rows:
        for key in ("student_id", "first_name", "last_name", "email", "assignment"):
            assert not row[key].startswith(("=", "+", "-", "@")), row
    for fmt in ("generic", "canvas", "moodle"):
        cells = [c for row in lms_rows(url, fmt)[1:] for c in row]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells if c not in ("",)), (fmt, cells)


def test_inert_round_trips():
    for text in ["ada", "=1", "-x", "'=1", "", "@a", "\tx"]:
        assert from_inert(inert(text)) == text


def test_formgrader_pages_escape_ids_and_its_api_sends_json():
    from jinja2 import Environment, FileSystemLoader
    from nbgrader.server_extensions.formgrader import handlers

    env = Environment(loader=FileSystemLoader([handlers.template_path]))
    fake = types.SimpleNamespace(settings={"nbgrader_jinja2_env": env})
    for template in ("manage_students_assignments.tpl", "manage_students_notebook_submissions.tpl"):
        html = nbgrader_fixes._render_escaped(fake, template, base_url="/b", url_prefix="/u",
                                              student_id='";alert(1);"<img src=x onerror=alert(2)>',
                                              assignment_id="ps1", notebook_id="nb", mathjax_url="/m",
                                              windows=False)
        assert "<img src=x" not in html and "&lt;img src=x" in html
        assert '"";alert(1);' not in html  # the id cannot close the script's string

    headers = {}
    fake = types.SimpleNamespace(set_header=lambda k, v: headers.__setitem__(k, v))
    nbgrader_fixes._json_headers.server_defaults = lambda self: self.set_header("Content-Type", "text/html")
    nbgrader_fixes._json_headers(fake)
    assert headers["Content-Type"].startswith("text/plain") and headers["X-Content-Type-Options"] == "nosniff"


def test_install_patches_the_formgrader_pages_and_api():
    from nbgrader.server_extensions.formgrader import base, handlers  # noqa: F401  (the formgrader loaded)

    nbgrader_fixes.install()
    assert base.BaseHandler.render is nbgrader_fixes._render_escaped
    assert base.BaseApiHandler.set_default_headers is nbgrader_fixes._json_headers
    nbgrader_fixes.install()  # twice: still one layer
    assert nbgrader_fixes._json_headers.server_defaults is not nbgrader_fixes._json_headers


def test_a_terminal_prints_ids_escaped():
    assert printable("\x1b[2Kada\nben\u202e") == "\\x1b[2Kada\\nben\\u202e"
    assert printable("c10_ünï_学生 [ab]") == "c10_ünï_学生 [ab]"


@pytest.mark.parametrize("url", ["/formgrader/manage_students/%3Cimg%3E", "//evil.example/x", " /api/contents",
                                 "&#47;formgrader"])
def test_the_sanitiser_drops_links_to_the_instructors_own_pages(url):
    from emlab_judge.sanitize import clean_html

    out = clean_html(f'<a href="{url}">derivation</a><img src="{url}">')
    assert "formgrader" not in out and "evil" not in out and "/api" not in out
    assert "derivation" in out
