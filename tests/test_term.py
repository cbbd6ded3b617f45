"""A whole term on this machine, from the README's *A course week* alone.

Five labs, released one a week through a shared-directory exchange. Five students, each a
separate Unix uid with a home of its own (``setpriv``), fetch, work and submit with nbgrader's
own commands: ann hands in the model answer, bob a common mistake (a bank mutant), cyd always
submits after the due date (with an extension in weeks 2 and 4), dan hands in a broken file
in week 3, eve hands in nothing in weeks 2 and 5. Each week the instructor runs exactly the
commands of the README's week (collect, ``make autograde``, ``make feedback``,
``release_feedback``, ``make grades``), with nbgrader's ``zero`` late penalty configured, and
the test checks, from outside the harness: every student's fetched feedback, every cell of
``lms.csv`` and ``grades.csv``, the grade report's late list, and the run report holding
every submission so far. The table goes to test-artifacts/term.txt.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import test_bank_lab01
import test_bank_lab02
import test_bank_lab03
import test_bank_lab04
import test_bank_lab05
from conftest import REPO
from grading_support import build_submission, cell_points, solution_sources, split_functions

WEEKS = [  # (bank spec, the mutant bob hands in)
    (test_bank_lab01.SPEC, "buggy_loglik_mean.py"),
    (test_bank_lab02.SPEC, "buggy_mu_unweighted.py"),
    (test_bank_lab03.SPEC, "buggy_sigma_over_n.py"),
    (test_bank_lab04.SPEC, "buggy_ll_mean.py"),
    (test_bank_lab05.SPEC, "buggy_mstep_no_over_d.py"),
]
# Unix users made for the term (nbgrader reads the student id from the password database) and
# removed after it; the prefix keeps them apart from any real account
PREFIX = "emlabterm-"
STUDENTS = {f"{PREFIX}{name}": uid for name, uid in
            [("ann", 23101), ("bob", 23102), ("cyd", 23103), ("dan", 23104), ("eve", 23105)]}
ANN, BOB, CYD, DAN, EVE = STUDENTS
EXTENSION_WEEKS = {2, 4}     # cyd's extension of a day
BROKEN_WEEK, MISSING_WEEKS = 3, {2, 5}
ARTIFACT = REPO / "test-artifacts" / "term.txt"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"


def _can_run() -> str | None:
    if os.geteuid() != 0:
        return "students are separate uids: this test runs as root (as CI does)"
    if not shutil.which("setpriv") or not shutil.which("useradd"):
        return "setpriv (util-linux) or useradd (passwd) is missing"
    if not (REPO / ".venv" / "bin" / "emlab-grade").exists():
        return "no .venv/bin/emlab-grade: run make venv"
    return None


class Term:
    """The course copy, the shared exchange and the students' homes."""

    def __init__(self, top: Path):
        self.top = top
        self.course = top / "course"
        self.exchange = top / "exchange"
        self.exchange.mkdir(mode=0o777)
        os.chmod(self.exchange, 0o777)
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                                capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            if (REPO / name).is_file() and not name.startswith(("tests/", "test-artifacts/", "bench/")):
                (self.course / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, self.course / name)
        # the copy shares the repository's environment, whose editable emlab is the repository's:
        # the course's emlab is that one too, as in a clone with its own .venv
        os.symlink(REPO / ".venv", self.course / ".venv")
        shutil.rmtree(self.course / "emlab")
        os.symlink(REPO / "emlab", self.course / "emlab")
        with (self.course / "autograder" / "nbgrader_config.py").open("a") as fh:   # the README's penalty line
            fh.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
        self.home = {}
        for student, uid in STUDENTS.items():
            home = top / "home" / student
            (home / "config").mkdir(parents=True)
            (home / "config" / "nbgrader_config.py").write_text(
                f'c = get_config()\nc.CourseDirectory.course_id = "emlab"\nc.Exchange.root = "{self.exchange}"\n')
            for path in [home, *home.rglob("*")]:
                os.chown(path, uid, uid)
            self.home[student] = home
        os.chmod(top / "home", 0o755)
        self.instructor_env = {"HOME": str(top / "instructor"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                               "EMLAB_EXCHANGE": str(self.exchange)}
        (top / "instructor").mkdir()

    def instructor(self, command: str, timeout: float = 1800) -> str:
        done = subprocess.run(["bash", "-c", command], cwd=self.course, env=self.instructor_env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{command!r} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout + done.stderr

    def student(self, student: str, *nbgrader_args: str) -> str:
        uid, home = STUDENTS[student], self.home[student]
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
               "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
               "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
        done = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                               str(VENV_PYTHON), "-m", "nbgrader", *nbgrader_args],
                              cwd=home, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{student}: nbgrader {' '.join(nbgrader_args)} failed:\n{done.stderr[-3000:]}"
        return done.stdout + done.stderr

    def hand_in(self, student: str, spec, answers: dict | None) -> None:
        """The student's fetched notebook with ``answers`` in its answer cells (None: a broken
        file), written as the student, then submitted."""
        path = self.home[student] / spec.assignment / spec.notebook
        if answers is None:
            path.write_text('{"cells": [ this is not a notebook')
        else:
            build_submission(path, answers, path)
        os.chown(path, STUDENTS[student], STUDENTS[student])
        self.student(student, "submit", spec.assignment)


def course_week() -> dict[int, list[str]]:
    """The README's *A course week* block: {step number: its commands}."""
    import re

    text = (REPO / "README.md").read_text()
    block = re.search(r"## A course week.*?```bash\n(.*?)```", text, re.S)
    assert block, "the README has no 'A course week' block"
    steps: dict[int, list[str]] = {}
    step = 0
    for line in block.group(1).splitlines():
        if m := re.match(r"# (\d+)\.", line):
            step = int(m.group(1))
            steps[step] = []
        elif line.strip() and not line.startswith("#"):
            steps[step].append(line.strip())
    return steps


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _csv(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture(scope="module")
def term():
    why = _can_run()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the term test must run in CI: {why}")
        pytest.skip(why)
    top = Path(tempfile.mkdtemp(prefix="emlab-term-", dir="/tmp"))
    os.chmod(top, 0o755)
    made = []
    try:
        for student, uid in STUDENTS.items():
            done = subprocess.run(["useradd", "--no-create-home", "--uid", str(uid), "--user-group",
                                   "--shell", "/usr/sbin/nologin", student], capture_output=True, text=True)
            assert done.returncode == 0, f"could not make the student account {student}: {done.stderr}"
            made.append(student)
        yield Term(top)
    finally:
        for student in made:
            subprocess.run(["userdel", student], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


@pytest.mark.slow
def test_a_term_of_five_weeks(term):
    rows, problems = [], []
    for week, (spec, mutant) in enumerate(WEEKS, start=1):
        lab, functions = spec.assignment, list(spec.tests)
        model = solution_sources(term.course / "solutions" / lab / spec.notebook, functions)
        wrong = split_functions((spec.directory / mutant).read_text(), functions)
        week_steps = course_week()
        ran = []

        def step(number: int, **fill) -> None:
            for command in week_steps[number]:
                for key, value in {"<id>": lab, **fill}.items():
                    command = command.replace(key, value)
                term.instructor(command)
                ran.append(number)

        # 1. release (due in a day, for now)
        step(1, **{"<due>": _utc(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))})
        # 2. students fetch, work and submit; the due date is then set to this moment (step 1's
        # first command again), so that cyd, submitting after it, is late
        for student in STUDENTS:
            term.student(student, "fetch_assignment", lab)
        on_time = {ANN: model, BOB: wrong, DAN: None if week == BROKEN_WEEK else model}
        if week not in MISSING_WEEKS:
            on_time[EVE] = model
        for student, answers in on_time.items():
            term.hand_in(student, spec, answers)
        time.sleep(1.1)
        term.instructor(week_steps[1][0].replace("<id>", lab).replace("<due>", _utc(dt.datetime.now(dt.timezone.utc))))
        time.sleep(1.5)
        term.hand_in(CYD, spec, model)
        # 3. collect and grade; 4. cyd's extension, in the weeks she has one
        step(3)
        if week in EXTENSION_WEEKS:
            step(4, **{"<student>": CYD})
        # 5. feedback; 6. grades
        step(5)
        step(6)
        assert set(ran) | {4} == set(week_steps) - {2}, f"a step of the README's week was not run: {week_steps}"
        # what everyone sees, from outside the harness
        lms = {r[0]: r for r in _csv(term.course / "autograder" / "lms.csv")[2:]}
        header = _csv(term.course / "autograder" / "lms.csv")[0]
        column = header.index(lab)
        grades = {(r["assignment"], r["student_id"]): r
                  for r in csv.DictReader((term.course / "autograder" / "grades.csv").open())}
        possible = float(_csv(term.course / "autograder" / "lms.csv")[1][column])   # written answers included
        # what the model answer earns before any manual grade: every test cell's points
        full = float(sum(cell_points(term.course / "notebooks" / lab / spec.notebook, spec.tests.values()).values()))
        assert 0 < full < possible
        report = json.loads((term.course / "autograder" / "report" / "grades.json").read_text())
        late = {x["student"] for a in report if a["name"] == lab for x in a["late"]}
        run_report = (term.course / "autograder" / "report" / "report.md").read_text()
        reasons = {r["student"]: " | ".join(r["reasons"])[:300]
                   for r in json.loads((term.course / "autograder" / "report" / "results.json").read_text())}
        expected = {
            ANN: ("submitted", full),
            BOB: ("submitted", "partial"),
            CYD: ("submitted", full) if week in EXTENSION_WEEKS else ("late", 0.0),
            DAN: ("ungradable", 0.0) if week == BROKEN_WEEK else ("submitted", full),
            EVE: ("not submitted", 0.0) if week in MISSING_WEEKS else ("submitted", full),
        }
        for student, (state, score) in expected.items():
            got_score, got_state = lms[student][column], lms[student][column + 1]
            ok = got_state == state
            points = _number(got_score)
            if score == "partial":
                ok &= points is not None and 0 < points < full
            elif score == "":
                ok &= got_score == ""
            else:
                ok &= points == score
            if state != "ungradable":   # the same number everywhere
                ok &= (lab, student) in grades and _number(grades[(lab, student)]["score"]) == points
            ok &= (student in late) == (state == "late")
            submitted = state != "not submitted"
            ok &= (f"| {student} | {lab} |" in run_report) == submitted
            feedback = ""
            if submitted:
                term.student(student, "fetch_feedback", lab)
                pages = list((term.home[student] / lab / "feedback").rglob("*.html"))
                feedback = pages[0].read_text() if pages else ""
                ok &= bool(pages) and "BEGIN HIDDEN TESTS" not in feedback
                if state == "ungradable":
                    ok &= "could not be graded" in feedback
                if score == "partial":
                    ok &= "hidden case" in feedback
            rows.append(f"{'ok' if ok else 'FAIL':4}  week {week} {lab:18} {student}: expected {state}, "
                        f"{score}; lms {got_state!r} {got_score!r}; feedback {len(feedback)} chars"
                        + (f"\n      {reasons[student]}" if reasons.get(student) and not ok else ""))
            if not ok:
                problems.append(rows[-1])
        for earlier, _ in WEEKS[:week - 1]:   # the run report keeps every earlier week's submissions
            if f"| {ANN} | {earlier.assignment} |" not in run_report:
                problems.append(f"week {week}: report.md lost {earlier.assignment}")
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text("\n".join(rows) + "\n")
    assert not problems, "\n".join(problems) + "\n\n" + "\n".join(rows)
