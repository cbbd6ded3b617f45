"""Student HTML never runs in the instructor's browser, and honest content still shows: a
real chromium (Debian's, through Playwright) opens the formgrader's manual-grading page of
a graded submission carrying script payloads, and the feedback HTML nbgrader makes of it.

The submission (lab 01, model answers) has a written answer with an ``<img onerror>``, a
``<script>``, an ``<svg onload>``, an ``<iframe srcdoc>`` and a ``javascript:`` link, and a
code cell whose outputs (made by running it in the grader's kernel) are HTML with an
``onerror`` image, JavaScript and an SVG with ``onload`` and a script. Every payload sets
``window.__xss``, sets the title to ``XSS`` and calls ``alert``. It is graded by the
harness (``python -m emlab_judge autograde``, what ``make autograde`` runs) and its
feedback made by ``nbgrader generate_feedback`` under the course configuration. A page
passes when, after its images have loaded or failed, no marker is set, no dialog opened
and no student element that runs code is in the DOM, while the answer's words and the
lab's figures are there. The same notebook rendered without the sanitiser is opened last,
to show the payloads run there.
"""

from __future__ import annotations

import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from browser_support import Browser, LabServer, require_chromium
from grading_support import PYTHON, build_submission, run_nbgrader, solution_sources, temporary_course

pytestmark = pytest.mark.xdist_group("browser")

LAB = "01-two-means"
NOTEBOOK = "two_means"
FUNCTIONS = ["e_step", "m_step", "incomplete_loglik"]
WRITTEN = "q_monotone"
STUDENT = "mallory"
HONEST_WORDS = "each EM step maximises a lower bound that touches the log-likelihood"


def _mark(n: int) -> str:
    return f"window.__xss={n};document.title='XSS';alert({n})"


ANSWER = f"""The log-likelihood never decreases: {HONEST_WORDS}, so $\\ell(\\theta^{{t+1}}) \\ge \\ell(\\theta^t)$
and **the bound is tight** at the current means ($a<b$ whenever they differ).

<img src=x onerror="{_mark(1)}">

<script>{_mark(2)}</script>

<svg onload="{_mark(3)}"><circle r="4"/></svg> <iframe srcdoc="<script>parent.__xss=4; parent.alert(4)</script>"></iframe>

[a link](javascript:{_mark(5)}) <a href="&#106;avascript:{_mark(6)}">another</a> <details open ontoggle="{_mark(7)}">d</details>
"""

_HTML = f'<p>table of results</p><img src=x onerror="{_mark(11)}">'
_SVG = (f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="{_mark(13)}">'
        f'<circle cx="20" cy="20" r="15"/><script>{_mark(14)}</script></svg>')
OUTPUTS_CELL = (f"from IPython.display import HTML, SVG, Javascript, display\n\n"
                f"display(HTML({_HTML!r}))\ndisplay(Javascript({_mark(12)!r}))\ndisplay(SVG({_SVG!r}))\n")

# elements and attributes that would run student code, anywhere in a cell's rendering
RUNNABLE = ("script, iframe, object, embed, svg, form, base, [onerror], [onload], [ontoggle], "
            "a[href^='javascript' i], [srcdoc]")


def _submission(course) -> None:
    release = course.release_notebook(LAB, f"{NOTEBOOK}.ipynb")
    answers = dict(solution_sources(course.source_notebook(LAB, f"{NOTEBOOK}.ipynb"), FUNCTIONS))
    answers[WRITTEN] = ANSWER
    path = build_submission(release, answers, course.submission_path(STUDENT, LAB, f"{NOTEBOOK}.ipynb"))
    nb = nbformat.read(str(path), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == WRITTEN)
    nb.cells.insert(at + 1, new_code_cell(OUTPUTS_CELL))
    nbformat.write(nb, str(path))


def _harness(course) -> None:
    proc = subprocess.run([str(PYTHON), "-m", "emlab_judge", "autograde", f"--root={course.root}",
                           f"--assignment={LAB}"], cwd=course.scratch, env=dict(course.env, JOBS="1"),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _settle(page) -> None:
    """Wait until every image has loaded or failed (their handlers have had their turn)."""
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.wait_for_timeout(1000)


def _nothing_ran(page, dialogs: list, title: str, where: str) -> None:
    state = page.evaluate("() => ({xss: window.__xss, title: document.title})")
    assert state["xss"] is None, f"{where}: a payload ran (window.__xss = {state['xss']})"
    assert state["title"] == title, f"{where}: the title became {state['title']!r}"
    assert dialogs == [], f"{where}: dialogs opened: {dialogs}"


def _honest_parts_visible(browser, cells: str, where: str) -> None:
    """The written answer's words, the HTML output's text and at least one of the lab's
    figures (a PNG drawn larger than a thumbnail) are on the page."""
    page = browser.page
    answer = page.locator(cells, has_text=HONEST_WORDS).first
    outputs = page.locator(cells, has_text="table of results").first
    assert answer.is_visible(), f"{where}: the written answer is not shown"
    assert "the bound is tight" in answer.inner_text()
    assert outputs.is_visible(), f"{where}: the HTML output is gone"
    figures = page.locator("img[src^='data:image/png']").evaluate_all(
        "imgs => imgs.filter(i => i.naturalWidth > 100 && i.getBoundingClientRect().width > 100).length")
    assert figures >= 1, f"{where}: no figure shown"
    svg = page.locator("img[src^='data:image/svg+xml']").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert svg == [40], f"{where}: the SVG output is not shown as an image ({svg})"
    browser.shot(f"{where}-answer-and-outputs", span=(answer, outputs))


def test_student_html_does_not_run_in_formgrader_or_feedback(tmp_path, request):
    require_chromium()
    course = temporary_course(tmp_path, [LAB])
    _submission(course)
    _harness(course)
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        submission_id = gb.find_submission_notebook(NOTEBOOK, LAB, STUDENT).id
    run_nbgrader(course, "generate_feedback", LAB, "--force")
    feedback = course.autograder / "feedback" / STUDENT / LAB / f"{NOTEBOOK}.html"
    assert feedback.is_file(), "no feedback generated"
    graded = course.autograder / "autograded" / STUDENT / LAB / f"{NOTEBOOK}.ipynb"

    with LabServer(course, tmp_path / "server", open_path=".") as server, Browser(request.node.name) as browser:
        page = browser.page
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        # (a) the formgrader's manual-grading page of the submission
        page.goto(server.url(f"formgrader/submissions/{submission_id}/"))
        page.locator(f"input.score#{WRITTEN}").wait_for()
        _settle(page)
        browser.shot("formgrader-submission")
        _nothing_ran(page, dialogs, NOTEBOOK, "formgrader")
        assert page.locator(f"#notebook-container :is({RUNNABLE})").count() == 0
        _honest_parts_visible(browser, ".text_cell_render, .output_area", "formgrader")

        # (b) the feedback HTML, opened from disk as the student opens it
        page.goto(feedback.as_uri())
        _settle(page)
        browser.shot("feedback")
        _nothing_ran(page, dialogs, NOTEBOOK, "feedback")
        assert page.locator(f"#notebook-container :is({RUNNABLE})").count() == 0
        _honest_parts_visible(browser, ".text_cell_render, .output_area", "feedback")

        # the control: the same graded notebook rendered without the sanitiser runs the payloads
        from nbconvert import HTMLExporter

        unsafe, _ = HTMLExporter(template_name="classic").from_notebook_node(nbformat.read(str(graded), as_version=4))
        page.set_content(unsafe)
        page.wait_for_function("() => window.__xss !== undefined")
        browser.shot("control-unsanitised")
        assert dialogs, "the control page opened no dialog: the payloads did not reach the page"
