"""The instructor's day and the exchange round trip, in a real browser (Debian's chromium
through Playwright), on our own JupyterLab serving a throw-away copy of the course.

One course on one machine, as a course without a hub runs it:
1. the instructor releases lab 03 to nbgrader's exchange (``nbgrader release_assignment``);
2. the student fetches it in JupyterLab's Assignments tab, answers (a wrong m_step),
   saves and submits there;
3. the instructor collects it, adds another (correct) submission, and grades both with the
   harness (``python -m emlab_judge autograde``, what ``make autograde`` runs);
4. the formgrader lists every assignment, shows the scores, and a written answer graded
   in the page lands in the gradebook;
5. the instructor generates and releases feedback; the student fetches it in the
   Assignments tab and reads their score and the failed check's message, and no hidden
   test source.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
import time

import pytest

from browser_support import (Browser, LabServer, cell_by_grade_id, course_copy, menu, open_from_path,
                             replace_cell_source, require_chromium)
from grading_support import PYTHON, build_submission, run_nbgrader, scores_from_gradebook, solution_sources

pytestmark = pytest.mark.xdist_group("browser")

LAB = "03-old-faithful"
COURSE_ID = "emlab"
NOTEBOOK_NAME = "old_faithful.ipynb"
FUNCTIONS = ["e_step", "m_step", "loglik"]
# the student's wrong m_step: covariances divided by N instead of N_k
M_STEP_WRONG = textwrap.dedent("""\
    def m_step(X, gamma):
        Nk = gamma.sum(axis=0)
        mu = gamma.T @ X / Nk[:, None]
        Sigma = np.stack([(gamma[:, k, None] * (X - mu[k])).T @ (X - mu[k]) / len(X) for k in range(len(Nk))])
        return mu, Sigma, Nk / len(X)
    """)
CHECK_MESSAGE = "divided by N (all the points) instead of N_k"


def _assignments_tab(page):
    """Open nbgrader's Assignments tab (Nbgrader menu > Assignment List)."""
    menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    released = page.locator("#released_assignments_list")
    released.wait_for()
    return page


def _harness(course, *args) -> subprocess.CompletedProcess:
    """The grading harness, as `make autograde` runs it. Not from the course root: the
    student's download folder there is named after the course id, ``emlab/``, and would
    shadow the emlab package for `python -m` (the temporary course has no emlab/ of its own)."""
    env = dict(course.env, JOBS="2")
    proc = subprocess.run([str(PYTHON), "-m", "emlab_judge", "autograde", f"--root={course.root}", *args],
                          cwd=course.scratch, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_exchange_round_trip_and_formgrader(tmp_path, request):
    require_chromium()
    course = course_copy(tmp_path)
    assignments = sorted(p.name for p in (course.root / "solutions").iterdir() if p.is_dir())
    with LabServer(course, tmp_path / "server", open_path=".") as server, \
            Browser(request.node.name) as browser:
        page = browser.page
        # 1. the instructor releases lab 03 to the exchange
        run_nbgrader(course, "release_assignment", LAB, "--force")

        # 2. the student fetches it in the Assignments tab ...
        page.goto(server.url("lab?reset"))
        _assignments_tab(page)
        released = page.locator("#released_assignments_list .list_item", has_text=LAB)
        released.wait_for()
        browser.shot("assignments-released", page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden)"))
        released.locator("button", has_text="Fetch").click()
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=LAB).first
        fetched.wait_for()
        fetched_nb = course.autograder / "fetched" / COURSE_ID / LAB / NOTEBOOK_NAME  # Exchange.assignment_dir, path_includes_course
        assert fetched_nb.exists(), f"fetch did not put the notebook at {fetched_nb}"
        browser.shot("assignments-fetched", page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden)"))

        # ... opens it, answers (a wrong m_step), saves ...
        # (the Assignments tab's own notebook links unfold under a redraw that races the
        # fetch's refresh; File > Open from Path is deterministic)
        open_from_path(page, fetched_nb.relative_to(course.root).as_posix())
        model = solution_sources(course.source_notebook(LAB, NOTEBOOK_NAME), FUNCTIONS)
        answers = dict(model, m_step=M_STEP_WRONG)
        for gid in FUNCTIONS:
            replace_cell_source(page, cell_by_grade_id(page, fetched_nb, gid), answers[gid])
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 15
        while "len(X) for k" not in fetched_nb.read_text():
            assert time.monotonic() < deadline, "the notebook was not saved"
            time.sleep(0.2)
        browser.shot("student-answered")

        # ... and submits in the Assignments tab
        _assignments_tab(page)
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=LAB).first
        fetched.locator("button", has_text="Submit").click()
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=LAB).first
        submitted.wait_for()
        browser.shot("assignments-submitted", page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden)"))
        assert not browser.console_errors, browser.console_errors

        # 3. the instructor collects, adds one more (alice: the model answer), grades both with the harness
        run_nbgrader(course, "collect", LAB)
        collected = sorted(course.autograder.glob(f"submitted/*/{LAB}/{NOTEBOOK_NAME}"))
        assert len(collected) == 1, collected
        user = collected[0].parts[-3]
        release_nb = course.release_notebook(LAB, NOTEBOOK_NAME)
        build_submission(release_nb, model, course.submission_path("alice", LAB, NOTEBOOK_NAME))
        harness = _harness(course, f"--assignment={LAB}")
        scores = scores_from_gradebook(course, LAB)
        report = (course.autograder / "report" / "report.md")
        context = (scores, report.read_text()[-3000:] if report.exists() else harness.stderr[-3000:])
        assert user in scores, context
        assert scores[user]["test_m_step"] == 0 and scores[user]["test_e_step"] > 0, scores

        # 4. the formgrader: every assignment listed ...
        # (nbgrader's formgrader and feedback pages load MathJax and jQuery from a CDN,
        # unreachable here: their "MathJax is not defined" page errors are not the course's)
        page.goto(server.url("formgrader"))
        table = page.locator("table")
        table.first.wait_for()
        page.locator("td", has_text=LAB).first.wait_for()
        listed = page.locator("body").inner_text()
        missing = [a for a in assignments if a not in listed]
        assert not missing, f"formgrader does not list {missing}"
        browser.shot("formgrader-assignments")

        # ... the scores of the graded submissions ...
        page.goto(server.url(f"formgrader/gradebook/{LAB}/{NOTEBOOK_NAME.removesuffix('.ipynb')}"))
        rows = page.locator("table tbody tr")
        rows.first.wait_for()
        page.wait_for_function("() => document.querySelectorAll('table tbody tr').length >= 2")
        autoscores = [float(m) for m in re.findall(r"(\d+(?:\.\d+)?) / \d+(?:\.\d+)?",
                                                      page.locator("table").first.inner_text())]
        browser.shot("formgrader-scores")
        from nbgrader.api import Gradebook
        with Gradebook(course.db_url) as gb:
            subs = {s.student.id: (gb.find_submission_notebook(NOTEBOOK_NAME.removesuffix(".ipynb"), LAB,
                                                               s.student.id).id, s.code_score, s.max_code_score)
                    for s in gb.find_assignment(LAB).submissions}
        shown = page.locator("table").first.inner_text()
        for student, (_, code, max_code) in subs.items():
            assert f"{code:g} / {max_code:g}" in shown or f"{code:.2f} / {max_code:.2f}" in shown, \
                f"score {code} / {max_code} of {student} not shown:\n{shown}"
        assert autoscores, shown

        # ... and a written answer graded through the page lands in the gradebook
        submission_id = subs[user][0]  # the student's own (graded in every case)
        page.locator(f'a[href*="submissions/{submission_id}"]').first.click()
        score_input = page.locator("input.score#q_generative")
        score_input.wait_for()
        # the page's grade models are loaded (they set the placeholder, then overwrite the value)
        page.wait_for_function("() => document.querySelector('input.score#q_generative').hasAttribute('placeholder')")
        score_input.fill("1.5")
        score_input.press("Tab")  # leaving the field saves it
        browser.shot("formgrader-manual-grade")
        deadline = time.monotonic() + 15
        while True:
            with Gradebook(course.db_url) as gb:
                grade = gb.find_grade("q_generative", NOTEBOOK_NAME.removesuffix(".ipynb"), LAB, user)
                manual = grade.manual_score
            if manual == 1.5:
                break
            assert time.monotonic() < deadline, f"the manual grade did not reach the gradebook: {manual}"
            time.sleep(0.3)

        # 5. feedback: generated and released by the instructor, fetched by the student
        run_nbgrader(course, "generate_feedback", LAB, "--force")
        run_nbgrader(course, "release_feedback", LAB, f"--student={user}")  # alice did not come through the exchange
        browser.console_errors.clear()
        page.goto(server.url("lab?reset"))
        _assignments_tab(page)
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=LAB).first
        submitted.wait_for()
        submitted.locator("button", has_text="Fetch Feedback").click()
        page.locator("#submitted_assignments_list a", has_text="view feedback").first.wait_for()
        browser.shot("assignments-feedback-fetched", page.locator(".jp-MainAreaWidget:not(.lm-mod-hidden)"))
        feedback = sorted((course.autograder / "fetched" / COURSE_ID / LAB / "feedback").glob(f"*/{NOTEBOOK_NAME.replace('.ipynb', '.html')}"))
        assert feedback, "no feedback fetched"
        assert not browser.console_errors, browser.console_errors
        page.goto(server.url(f"files/{feedback[-1].relative_to(course.root).as_posix()}"))
        text = page.locator("body").inner_text()
        failed_cell = page.locator(".jp-Cell, .cell", has_text=CHECK_MESSAGE).last
        failed_cell.scroll_into_view_if_needed()
        browser.shot("feedback-summary")
        browser.shot("feedback-failed-check", failed_cell, figure="student_feedback")
        with Gradebook(course.db_url) as gb:
            total = gb.find_submission(LAB, user).score
        assert re.search(rf"Score:\s*{total:g}\b|Score:\s*{total:.2f}", text), text[:1500]
        assert CHECK_MESSAGE in text, text[:3000]
        for secret in ["BEGIN HIDDEN TESTS", "emlab_grader", "from emlab_grader import check"]:
            assert secret not in text, f"the feedback shows hidden-test source ({secret!r})"
