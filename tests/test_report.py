"""make grades: autograder/grades.csv (nbgrader's export columns), lms.csv and the grade
report (grades.html with PNG figures, grades.json) hold the right numbers for a small batch.

The gradebook is filled through nbgrader's API and the harness's stored outcomes are
written as the harness writes them (no kernel runs: fast); test_postgres_gradebook.py
makes the same report from a batch really graded.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from grading_support import temporary_course

A = "03-old-faithful"
NB = "old_faithful"
CELLS = {"test_e_step": 2.0, "test_m_step": 2.0, "test_loglik": 1.0}  # autograded
WRITTEN = "written_answer"  # manually graded, 1 point
DUE = dt.datetime(2026, 1, 10, 12, 0)
E_MSG = "e_step, hidden case 'two components': the responsibilities of a point sum to {} instead of 1."
M_MSG = "m_step, hidden case 'unequal weights': the mixing weights do not sum to 1."

# student -> (autograded points per cell, manual points or None, timestamp)
SUBMISSIONS = {
    "ada": ({"test_e_step": 2, "test_m_step": 2, "test_loglik": 1}, 1.0, DUE - dt.timedelta(hours=3)),
    "ben": ({"test_e_step": 0, "test_m_step": 2, "test_loglik": 1}, None, DUE + dt.timedelta(hours=26, minutes=30)),
    "cai": ({"test_e_step": 0, "test_m_step": 0, "test_loglik": 1}, 0.0, DUE - dt.timedelta(minutes=5)),
}
STUDENTS = ["ada", "ben", "cai", "dee", "eve"]  # dee never submitted; eve's submission was ungradable
PENALTY = {"ben": 1.0}   # nbgrader's late penalty (LateSubmissionPlugin) on ben's late notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = temporary_course(tmp_path_factory.mktemp("report"), [A])
    sys.path.insert(0, str(course.root / "autograder"))
    from nbgrader.api import Gradebook

    from emlab_judge.course import Course
    from emlab_judge.results import SubmissionResult
    from emlab_judge.results import store_result as _store_result

    with Gradebook(course.env["EMLAB_GRADEBOOK_URL"], course_id="emlab") as gb:
        gb.update_or_create_assignment(A, duedate=DUE)
        gb.add_notebook(NB, A)
        for name, points in CELLS.items():
            gb.add_grade_cell(name, NB, A, max_score=points, cell_type="code")
        gb.add_grade_cell(WRITTEN, NB, A, max_score=1.0, cell_type="markdown")
        gb.add_solution_cell(WRITTEN, NB, A)
        for student in STUDENTS:
            gb.update_or_create_student(student, first_name=student.title(), last_name="Lovelace")
        for student, (auto, manual, when) in SUBMISSIONS.items():
            gb.add_submission(A, student, timestamp=when)
            for name, points in auto.items():
                grade = gb.find_grade(name, NB, A, student)
                grade.auto_score = float(points)
            written = gb.find_grade(WRITTEN, NB, A, student)
            written.manual_score = manual
            written.needs_manual_grade = manual is None
            gb.db.commit()
        for student, penalty in PENALTY.items():
            gb.find_submission_notebook(NB, A, student).late_submission_penalty = penalty
        gb.db.commit()

    harness_course = Course(course.root)
    outcomes = [
        SubmissionResult("ada", A, cells={**auto_of("ada")}),
        SubmissionResult("ben", A, messages={"test_e_step": [E_MSG.format("1.2500")]},
                         reasons=["test_e_step: " + E_MSG.format("1.2500")]),
        SubmissionResult("cai", A, messages={"test_e_step": [E_MSG.format("0.5000")], "test_m_step": [M_MSG]},
                         flags=["tampering suspected in test_e_step: e_step: the test cell shows no error but "
                                "its hidden checks left no record"]),
        SubmissionResult("eve", A, status="ungradable",
                         reasons=["old_faithful.ipynb: not valid JSON; nothing in it could be graded"]),
    ]
    for outcome in outcomes:
        _store_result(harness_course, outcome)
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "grades", "--root", str(course.root)],
                         cwd=course.root, env=course.env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return course


def auto_of(student):
    return {k: float(v) for k, v in SUBMISSIONS[student][0].items()}


def total(student):
    """The student's score after nbgrader's late penalty (what every export and the report show)."""
    auto, manual, _ = SUBMISSIONS[student]
    return sum(auto.values()) + (manual or 0.0) - PENALTY.get(student, 0.0)


def test_grades_csv_has_nbgrader_export_columns_and_every_score(course):
    rows = list(csv.DictReader((course.autograder / "grades.csv").open()))
    assert list(rows[0]) == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                             "raw_score", "late_submission_penalty", "score", "max_score"]
    got = {r["student_id"]: float(r["score"]) for r in rows if r["assignment"] == A}
    assert got == {s: total(s) if s in SUBMISSIONS else 0.0 for s in STUDENTS}
    assert {float(r["max_score"]) for r in rows} == {sum(CELLS.values()) + 1.0}


def test_lms_csv_one_row_per_student_a_column_per_assignment(course):
    """Scores after the late penalty, exactly grades.csv's; each cell's state beside it."""
    rows = list(csv.reader((course.autograder / "lms.csv").open()))
    assert rows[0] == ["Student ID", "Student Name", A, f"{A} state"]
    assert rows[1] == ["Points Possible", "", "6", ""]
    # past the due date a missing grade is 0, as in grades.csv; the state tells why
    assert {r[0]: r[2] for r in rows[2:]} == {s: f"{total(s):g}" if s in SUBMISSIONS else "0" for s in STUDENTS}
    assert {r[0]: r[3] for r in rows[2:]} == {"ada": "submitted", "ben": "late", "cai": "submitted",
                                              "dee": "not submitted", "eve": "ungradable"}
    assert rows[2][1] == "Ada Lovelace"


def test_lms_export_filters_assignments_and_leaves_out_unreleased_ones(course, tmp_path):
    """--assignment picks columns (an unknown one is an error naming the known ones); by default
    a lab with no submission and not released through the exchange is no column at all."""
    from nbgrader.api import Gradebook

    url = course.env["EMLAB_GRADEBOOK_URL"]
    with Gradebook(url, course_id="emlab") as gb:
        gb.update_or_create_assignment("99-not-yet")
    out = tmp_path / "lms.csv"
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "lms-export", "--root", str(course.root), "--to",
                          str(out)], cwd=course.root, env=course.env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "99-not-yet" not in out.read_text()
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "lms-export", "--root", str(course.root), "--to",
                          str(out), "--assignment", "99-not-yet"], cwd=course.root, env=course.env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    header, points, *rows = list(csv.reader(out.open()))
    assert header == ["Student ID", "Student Name", "99-not-yet", "99-not-yet state"]
    assert {r[3] for r in rows} == {"not submitted"}
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "lms-export", "--root", str(course.root), "--to",
                          str(out), "--assignment", "07-nope"], cwd=course.root, env=course.env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "07-nope" in run.stderr and A in run.stderr
    with Gradebook(url, course_id="emlab") as gb:
        gb.remove_assignment("99-not-yet")


def test_report_numbers(course):
    [stats] = json.loads((course.autograder / "report" / "grades.json").read_text())
    assert stats["name"] == A and stats["max_score"] == 6.0 and stats["duedate"] == "2026-01-10 12:00"
    assert stats["scores"] == {s: total(s) for s in SUBMISSIONS}
    assert stats["mean"] == pytest.approx(sum(map(total, SUBMISSIONS)) / 3)
    assert stats["median"] == total("ben")
    assert sorted(stats["missing"]) == ["dee", "eve"]
    questions = {q["name"]: q for q in stats["questions"]}
    assert [q["name"] for q in stats["questions"]] == [*CELLS, WRITTEN]
    assert {n: (q["full"], q["partial"], q["zero"], q["ungraded"]) for n, q in questions.items()} == {
        "test_e_step": (1, 0, 2, 0), "test_m_step": (2, 0, 1, 0), "test_loglik": (3, 0, 0, 0),
        WRITTEN: (1, 0, 1, 1)}
    assert questions["test_e_step"]["mean"] == pytest.approx(2 / 3, abs=1e-3)
    assert questions[WRITTEN]["kind"] == "manual" and questions["test_loglik"]["kind"] == "autograded"
    # the same mistake with different numbers counts as one message, twice
    [(message, n)] = questions["test_e_step"]["failures"]
    assert n == 2 and message.startswith("e_step, hidden case 'two components'")
    assert questions["test_m_step"]["failures"] == [[M_MSG, 1]]
    assert questions["test_loglik"]["failures"] == []
    assert [f["student"] for f in stats["flagged"]] == ["cai"]
    assert "tampering suspected" in stats["flagged"][0]["flags"][0]
    assert stats["ungradable"] == [{"student": "eve", "status": "ungradable",
                                    "reasons": ["old_faithful.ipynb: not valid JSON; nothing in it could be graded"]}]
    assert stats["late"] == [{"student": "ben", "timestamp": "2026-01-11 14:30", "late_by_hours": 26.5,
                              "late_by": "26.5 h"}]


def test_report_html_and_figures(course):
    import matplotlib.image as mpimg

    folder = course.autograder / "report"
    page = (folder / "grades.html").read_text()
    for text in (A, "Most common failures", M_MSG.replace("'", "&#x27;"), "tampering suspected", "not valid JSON",
                 "2026-01-11 14:30", "26.5 h"):
        assert text in page, text
    for name in (f"{A}-scores.png", f"{A}-questions.png"):
        assert f'src="figures/{name}"' in page
        image = mpimg.imread(folder / "figures" / name)
        height, width = image.shape[:2]
        assert width >= 600 and height >= 250, (name, image.shape)  # readable, not a thumbnail
        assert image[..., :3].std() > 0.05  # something is drawn


def test_lms_layouts_for_canvas_and_moodle(course):
    from emlab_judge.export import lms_rows

    url = course.env["EMLAB_GRADEBOOK_URL"]
    expected = {s: f"{total(s):g}" if s in SUBMISSIONS else "0" for s in STUDENTS}
    canvas = lms_rows(url, "canvas")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A]
    assert canvas[1] == ["Points Possible", "", "", "", "", "6"]
    assert {r[3]: r[5] for r in canvas[2:]} == expected
    assert all(r[2] == r[3] for r in canvas[2:])   # SIS User ID and SIS Login ID: the nbgrader id
    assert canvas[2][0] == "Lovelace, Ada"
    moodle = lms_rows(url, "moodle")
    assert moodle[0] == ["Username", "ID number", "Email address", "First name", "Last name", A]
    assert {r[0]: r[5] for r in moodle[1:]} == expected  # no points row: every row is a student
    with pytest.raises(ValueError):
        lms_rows(url, "blackboard")


# ---------------------------------------------------------------- student text is escaped

PAYLOAD_ID = '<img src=x onerror="alert(1)"> | x'
PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "line one\nline two | <iframe srcdoc='<script>alert(3)</script>'></iframe>\r\n| next | row |",
    "[click](javascript:alert(4)) ![i](javascript:alert(5)) <javascript:alert(6)>",
    "&lt;svg onload=alert(7)&gt; &#60;b&#62; `code` **bold** \\| escaped pipe \\",
    "\u2028<svg onload=alert(8)>\x0c<a href=javascript:alert(9)>a</a>\x00",
]


class _Tags(HTMLParser):
    """Start tags with their attributes, and the page's text."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _report_results():
    from emlab_judge.results import SubmissionResult

    return [SubmissionResult(PAYLOAD_ID, A, status="ungradable", reasons=PAYLOADS[:3], flags=PAYLOADS[3:]),
            SubmissionResult("honest", A, score=5.0, max_score=5.0)]


def test_run_report_markdown_quotes_submissions_as_inert_text(tmp_path):
    import mistune

    from emlab_judge.report import write_report

    md = write_report(_report_results(), tmp_path).read_text()
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 2, table  # header, rule, one line per submission: no newline or | broke a row
    for row in table:
        assert len(re.findall(r"(?<!\\)\|", row)) == 8, row  # seven cells, however many | the student wrote
    assert not re.search(r"<(?!br>)", md), "raw HTML from a submission in report.md"
    page = mistune.create_markdown(escape=False, plugins=["table", "url", "strikethrough"])(md)
    tags = _Tags(page)
    assert {t for t, _ in tags.tags} <= {"h1", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "br"}, \
        tags.tags
    rendered = [r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S)]
    assert len(rendered) == 3 and all(r.count("<td") == 7 for r in rendered[1:]), rendered
    text = re.sub(r"\s+", " ", "".join(tags.text))
    for shown in ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "line two | <iframe",
                  "[click](javascript:alert(4))", "&lt;svg onload=alert(7)&gt;", "`code` **bold**", PAYLOAD_ID]:
        assert shown in text, shown  # quoted as written, not run, not dropped


def test_run_report_html_escapes_everything(tmp_path):
    from emlab_judge.report import write_report

    write_report(_report_results(), tmp_path)
    page = (tmp_path / "report.html").read_text()
    tags = _Tags(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "p", "strong", "table", "tr", "th", "td", "br"}
    assert {t for t, _ in tags.tags} <= allowed, tags.tags
    assert [a for t, a in tags.tags if a and t != "meta"] == []
    text = "".join(tags.text)
    for shown in ["<script>alert(1)</script>", PAYLOAD_ID, "[click](javascript:alert(4))", "line one"]:
        assert shown in text, shown


HOSTILE = {"student": '<img src=x onerror="alert(1)">', "flag": "tampering suspected: <svg onload=alert(2)>",
           "message": "e_step, hidden case 'a': <script>alert(3)</script> sums to 1.5 instead of 1.",
           "reason": "old_faithful.ipynb: <iframe srcdoc='<script>alert(4)</script>'></iframe>\nline two"}


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    """A gradebook and stored outcomes in which every student-controlled string is a payload."""
    course = temporary_course(tmp_path_factory.mktemp("report-hostile"), [A])
    from nbgrader.api import Gradebook

    from emlab_judge.course import Course
    from emlab_judge.results import SubmissionResult
    from emlab_judge.results import store_result as _store_result

    student = HOSTILE["student"]
    with Gradebook(course.env["EMLAB_GRADEBOOK_URL"], course_id="emlab") as gb:
        gb.update_or_create_assignment(A, duedate=DUE)
        gb.add_notebook(NB, A)
        for name, points in CELLS.items():
            gb.add_grade_cell(name, NB, A, max_score=points, cell_type="code")
        gb.update_or_create_student(student, first_name="<b>F</b>", last_name="<i>L</i>")
        gb.add_submission(A, student, timestamp=DUE + dt.timedelta(hours=2))
        gb.find_grade("test_e_step", NB, A, student).auto_score = 0.0
        gb.db.commit()
    _store_result(Course(course.root), SubmissionResult(student, A, status="failed", flags=[HOSTILE["flag"]],
                                                        reasons=[HOSTILE["reason"]],
                                                        messages={"test_e_step": [HOSTILE["message"]]}))
    run = subprocess.run([sys.executable, "-m", "emlab_judge", "grades", "--root", str(course.root)],
                         cwd=course.root, env=course.env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return course


def test_grade_report_escapes_student_ids_messages_flags_and_reasons(hostile_course):
    page = (hostile_course.autograder / "report" / "grades.html").read_text()
    tags = _Tags(page)
    assert {t for t, _ in tags.tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                                         "em", "strong", "code", "table", "tr", "th", "td", "br", "img"}, tags.tags
    for tag, attrs in tags.tags:
        assert not any(name.startswith("on") or name == "srcdoc" for name in attrs), (tag, attrs)
        if tag == "img":
            assert set(attrs) == {"src", "alt"} and attrs["src"].startswith("figures/"), attrs
    text = "".join(tags.text)
    for shown in HOSTILE.values():
        assert shown.split("\n")[0].replace("1.5", "…") in text or shown.split("\n")[0] in text, shown


def test_a_one_student_regrade_keeps_every_row_of_the_run_report(tmp_path):
    """report.md lists each submission's latest result from every run and shard (this run's
    replacing the stored one), marks what this run graded and says so in its summary; a
    one-student regrade or a shard no longer leaves a one-row report. results.json stays the
    run's own."""
    from emlab_judge.report import write_report
    from emlab_judge.results import SubmissionResult

    stored = [SubmissionResult(s, A, score=3.0, max_score=10.0) for s in ("ada", "ben", "cai")]
    regraded = SubmissionResult("ben", A, score=7.0, max_score=10.0)
    write_report([regraded], tmp_path, stored)
    md = (tmp_path / "report.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith(("| ada", "| ben", "| cai"))]
    assert len(rows) == 3
    assert "7 / 10" in rows[1] and rows[1].endswith("| yes |") and rows[0].endswith("|  |")
    assert "this run: 1 submission(s) (1 graded)" in md
    assert [r["student"] for r in json.loads((tmp_path / "results.json").read_text())] == ["ben"]
    assert (tmp_path / "report.html").read_text().count("<tr><td>") == 3


def test_a_merged_report_never_calls_unsandboxed_grades_sandboxed(tmp_path):
    """An earlier run graded without the sandbox keeps its row marked, and the banner says so,
    whatever the machine writing the report can do now."""
    from emlab_judge.report import write_report
    from emlab_judge.results import SubmissionResult

    earlier = [SubmissionResult("ada", A, score=3.0, max_score=10.0, sandboxed=False)]
    write_report([SubmissionResult("ben", A, score=7.0, max_score=10.0)], tmp_path, earlier)
    md = (tmp_path / "report.md").read_text()
    assert "**UNSANDBOXED" in md and "1 of these submission(s) were graded without it" in md
    assert "| ada | " in md and "graded (UNSANDBOXED)" in md
