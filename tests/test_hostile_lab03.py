"""The grading harness (make autograde) against hostile, broken and honest submissions.

One batch in a temporary copy of the course, graded by ``python -m emlab_judge autograde``
(each submission in its own sandbox, verdicts judged outside the kernel):

- every case of tests/hostile_lab03.py loses the points it cheats for (and only those,
  where the case says so) and carries its reason or flag;
- the honest submissions (the model answer and every correct bank module) keep their full
  score under the sandbox;
- a probe cell shows what a student's kernel can see: no solutions, no grader, no gradebook,
  no home, no network, its own uid;
- feedback shows the failing check's message, never the hidden tests.

The table (case, expected, got) is printed and written to test-artifacts/hostile_lab03.txt.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import hostile_lab03 as H
from grading_support import REPO, run_nbgrader, solution_sources, split_functions, submit, temporary_course

NOTEBOOK = "old_faithful.ipynb"
ANSWERS = ("e_step", "m_step", "loglik")
ARTIFACT = REPO / "test-artifacts" / "hostile_lab03.txt"
HONEST = "honest_model_answer"

PROBE = r'''
import json, os, socket
course = os.environ.get("EMLAB_PROBE_COURSE", "")
seen = {}
for label, path in [("repo solutions", "{repo}/solutions/03-old-faithful/old_faithful.ipynb"),
                    ("repo grader", "{repo}/autograder/emlab_judge/reference.py"),
                    ("course solutions", "{course}/solutions/03-old-faithful/old_faithful.ipynb"),
                    ("course grader", "{course}/autograder/emlab_judge/reference.py"),
                    ("course gradebook", "{course}/autograder/gradebook.db"),
                    ("other submissions", "{course}/autograder/submitted/honest_model_answer"),
                    ("git history", "{repo}/.git/HEAD")]:
    seen[label] = os.path.exists(path)
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2).close()
    seen["network"] = True
except OSError:
    seen["network"] = False
seen["grader home"] = sorted(os.listdir("{home}"))
seen["uid"] = os.getuid()
try:
    open("{course}/autograder/nbgrader_config.py", "a").close()
    seen["writes outside its folder"] = True
except OSError:
    seen["writes outside its folder"] = False
print("PROBE " + json.dumps(seen))
'''


def _sandboxed() -> tuple[bool, str]:
    sys.path.insert(0, str(REPO / "autograder"))
    from emlab_judge.sandbox import sandbox_status
    return sandbox_status()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    ok, why = _sandboxed()
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the grading sandbox must run in CI: {why} (make test installs bubblewrap)")
        pytest.skip(f"bubblewrap sandbox unavailable here: {why}")
    tmp = tmp_path_factory.mktemp("hostile")
    course = temporary_course(tmp, [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ANSWERS)

    submissions = {HONEST: (H.honest(release, good), None)}
    for path in sorted((REPO / "tests" / "banks" / "lab03").glob("correct_*.py")):
        submissions[f"honest_{path.stem}"] = (H.honest(release, split_functions(path.read_text(), ANSWERS)), None)
    probe = H.honest(release, good)
    probe.cells.append(nbformat.v4.new_code_cell(PROBE.replace("{repo}", str(REPO)).replace(
        "{course}", str(course.root)).replace("{home}", str(Path.home()))))
    submissions["probe"] = (probe, None)
    for case in H.CASES:
        student = "hostile_" + re.sub(r"\W+", "_", case.name).strip("_")[:48]
        submissions[student] = (case.build(release, good), case)
    submit(course, H.ASSIGNMENT, NOTEBOOK, {s: content for s, (content, _) in submissions.items()})

    hide = os.pathsep.join(str(REPO / p) for p in ("solutions", "autograder", "tests", ".git", "notebooks"))
    env = {**course.env, "EMLAB_CELL_TIMEOUT": "15", "EMLAB_WALL_LIMIT": "150", "EMLAB_SANDBOX_HIDE": hide}
    proc = subprocess.run([sys.executable, "-m", "emlab_judge", "autograde", "--root", str(course.root)],
                          cwd=course.root, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-5000:]
    results = {r["student"]: r for r in json.loads((course.autograder / "report" / "results.json").read_text())}
    assert set(results) == set(submissions), "every submission must be graded and reported"
    return course, submissions, results


def test_hostile_submissions_lose_what_they_cheat_for(graded):
    course, submissions, results = graded
    honest = results[HONEST]["cells"]
    assert {g: honest.get(g) for g in H.POINTS} == {g: float(p) for g, p in H.POINTS.items()}, honest
    rows, failures = [], []
    for student, (_, case) in submissions.items():
        got = results[student]
        text = " | ".join(got["flags"] + got["reasons"])
        cells = {g: got["cells"].get(g, 0.0) for g in H.POINTS}
        if case is None:
            expected = "full marks"
            ok = cells == {g: float(p) for g, p in H.POINTS.items()} and got["status"] == "graded" \
                and not any(f.startswith("tampering") for f in got["flags"])
        else:
            expected = (f"0 on {', '.join(case.loses)}; " if case.loses else "full marks; ") + f"says '{case.says}'"
            ok = all(cells[g] == 0.0 for g in case.loses) and bool(re.search(case.says, text, re.I))
            if case.keeps_rest:
                ok &= all(cells[g] == H.POINTS[g] for g in H.POINTS if g not in case.loses)
            ok &= sum(cells.values()) < sum(H.POINTS.values()) if case.loses else True
        shown = ", ".join(f"{g.removeprefix('test_')} {cells[g]:g}" for g in H.POINTS)
        rows.append((case.name if case else student, expected, f"{shown}; {got['status']}", "ok" if ok else "FAIL",
                     text[:160]))
        if not ok:
            failures.append(f"{student}: expected {expected}; got {cells}, {got['status']}: {text}")
    width = max(len(r[0]) for r in rows)
    table = "\n".join(f"{r[3]:4}  {r[0]:{width}}  expected: {r[1]:<60}  got: {r[2]}\n      {r[4]}" for r in rows)
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(table + "\n")
    print("\n" + table)
    assert not failures, "\n".join(failures)


def test_student_kernel_sees_nothing_it_should_not(graded):
    course, _, results = graded
    nb = nbformat.read(course.autograder / "autograded" / "probe" / H.ASSIGNMENT / NOTEBOOK, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    match = re.search(r"PROBE (\{.*\})", text)
    assert match, f"the probe cell did not run: {text[-2000:]}"
    seen = json.loads(match.group(1))
    for label in ("repo solutions", "repo grader", "course solutions", "course grader", "course gradebook",
                  "other submissions", "git history", "network", "writes outside its folder"):
        assert seen[label] is False, f"a student's kernel can reach {label}: {seen}"
    # of the grader's home only the way to the Python installation (when it lives there) is visible
    python_home = Path(sys.base_prefix).resolve()
    allowed = {python_home.relative_to(Path.home()).parts[0]} if python_home.is_relative_to(Path.home()) else set()
    assert set(seen["grader home"]) <= allowed, f"the grader's home is visible: {seen['grader home']}"
    if os.geteuid() == 0:
        assert seen["uid"] != 0, "as root, the kernel must run as an unprivileged uid"
    assert results["probe"]["cells"]["test_e_step"] == 4.0


def test_feedback_shows_the_message_not_the_hidden_tests(graded):
    course, _, _ = graded
    student = next(s for s in os.listdir(course.autograder / "autograded") if s.startswith("hostile_patch_allclose"))
    run_nbgrader(course, "generate_feedback", H.ASSIGNMENT, f"--student={student}", "--force")
    html = (course.autograder / "feedback" / student / H.ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "Sigma is divided by N" in html, "feedback must show the judge's message"
    for secret in ("BEGIN HIDDEN TESTS", "emlab_grader", "check(&quot;03-old-faithful", 'check("03-old-faithful',
                   "vnd.emlab.record"):
        assert secret not in html, f"feedback leaks {secret!r}"


def test_the_formgrader_sees_the_flags_and_the_judges_messages(graded):
    """nbgrader's *Flagged?* is set on every notebook the harness flagged for tampering and on no
    honest one; a function the judge failed carries its message as the answer cell's comment."""
    from nbgrader.api import Gradebook

    course, submissions, results = graded
    nb_id = NOTEBOOK.removesuffix(".ipynb")
    with Gradebook(course.db_url, course_id="emlab") as gb:
        for student, result in results.items():
            if result["status"] != "graded":
                continue
            flagged = gb.find_submission_notebook(nb_id, H.ASSIGNMENT, student).flagged
            tampering = any(f.startswith("tampering suspected") for f in result["flags"])
            assert flagged == tampering, (student, result["flags"])
            for gid, messages in result["messages"].items():
                function = gid.removeprefix("test_")
                comment = gb.find_comment(function, nb_id, H.ASSIGNMENT, student).comment or ""
                assert comment.startswith("From the grader: ") and messages[0][:60] in comment, (student, gid)
        honest = gb.find_comment("e_step", nb_id, H.ASSIGNMENT, HONEST).comment or ""
        assert "From the grader" not in honest


def test_make_feedback_gives_every_student_a_page_the_ungradable_ones_too(graded):
    """``python -m emlab_judge feedback`` (what make feedback runs): a page for every graded
    submission, and for one that could not be graded (malformed JSON) a page naming why, with
    the files nbgrader release_feedback needs; no hidden test on any page."""
    course, submissions, results = graded
    proc = subprocess.run([sys.executable, "-m", "emlab_judge", "feedback", "--root", str(course.root)],
                          cwd=course.root, env=course.env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    broken = next(s for s, r in results.items() if r["status"] == "ungradable")
    assert f"a page for {broken}, whose submission could not be graded" in proc.stdout, proc.stdout
    for student, result in results.items():
        folder = course.autograder / "feedback" / student / H.ASSIGNMENT
        page = (folder / NOTEBOOK.replace(".ipynb", ".html")).read_text()
        # (a hostile student's own code may name emlab_grader: the hidden call is what must not show)
        for secret in ("BEGIN HIDDEN TESTS", "check(&quot;03-old-faithful", 'check("03-old-faithful',
                       "vnd.emlab.record"):
            assert secret not in page, f"{student}'s feedback leaks {secret!r}"
        if result["status"] == "ungradable":
            assert "could not be graded" in page and "not valid JSON" in page, page[:2000]
            assert "<script" not in page.lower()
            # what nbgrader release_feedback reads beside each page (these submissions were copied
            # in by hand, without nbgrader submit's files: a timestamp of now, an empty secret)
            assert (folder / "timestamp.txt").read_text() and (folder / "submission_secret.txt").is_file()


def test_grades_export_has_every_student(graded):
    """make grades: nbgrader's CSV export, one row per student and assignment, judged scores."""
    import csv

    course, submissions, results = graded
    out = course.scratch / "grades.csv"
    run_nbgrader(course, "export", "--to", str(out))
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert {"assignment", "student_id", "score", "max_score"} <= set(next(iter(rows.values())))
    assert set(rows) == set(submissions)
    for student, result in results.items():
        assert float(rows[student]["score"]) == pytest.approx(result["score"]), student


def test_without_bubblewrap_grading_runs_and_says_so_in_bold(tmp_path):
    """EMLAB_SANDBOX=off stands for a machine where bubblewrap cannot run."""
    course = temporary_course(tmp_path, [H.ASSIGNMENT])
    release = nbformat.read(course.release_notebook(H.ASSIGNMENT, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(H.ASSIGNMENT, NOTEBOOK), ANSWERS)
    dest = course.submission_path("alice", H.ASSIGNMENT, NOTEBOOK)
    dest.parent.mkdir(parents=True)
    nbformat.write(H.honest(release, good), dest)
    env = {**course.env, "EMLAB_SANDBOX": "off"}
    proc = subprocess.run([sys.executable, "-m", "emlab_judge", "autograde", "--root", str(course.root)],
                          cwd=course.root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "UNSANDBOXED" in proc.stderr
    report = (course.autograder / "report" / "report.md").read_text()
    assert "**UNSANDBOXED" in report, report
    assert "<strong>UNSANDBOXED" in (course.autograder / "report" / "report.html").read_text()
    result = json.loads((course.autograder / "report" / "results.json").read_text())[0]
    assert result["sandboxed"] is False
    assert {g: result["cells"][g] for g in H.POINTS} == {g: float(p) for g, p in H.POINTS.items()}


def test_lms_export_one_row_per_student_a_column_per_assignment(graded):
    import csv

    course, submissions, results = graded
    out = course.scratch / "lms.csv"
    proc = subprocess.run([sys.executable, "-m", "emlab_judge", "lms-export", "--root", str(course.root),
                           "--to", str(out)], cwd=course.root, env=course.env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["Student ID", "Student Name", H.ASSIGNMENT, f"{H.ASSIGNMENT} state"]
    assert rows[1][0] == "Points Possible" and float(rows[1][2]) > sum(H.POINTS.values())
    cells = {r[0]: (r[2], r[3]) for r in rows[2:]}
    assert set(cells) == set(submissions)
    for student, (score, state) in cells.items():
        if results[student]["status"] in {"ungradable", "failed"}:
            # the grade the gradebook keeps, if any (no due date here: no 0 for a missing grade)
            assert state == "ungradable" and (score == "" or float(score) == results[student]["score"]), student
        else:
            assert float(score) == pytest.approx(results[student]["score"]) and state == "submitted", student
