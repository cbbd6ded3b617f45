"""The student's day in a real browser (Debian's chromium through Playwright), on our own
JupyterLab serving a throw-away copy of the course.

- lab 03: the student types e_step, m_step and loglik into the answer cells through the
  editor, runs all cells, sees the visible checks pass and the figures drawn, plays with
  the iteration slider, and nbgrader's Validate says success; then a wrong m_step, and
  Validate reports the failure with the check's message;
- every lab's release notebook (discovered under notebooks/) opens, its cells before the
  first answer cell run without errors, and its markdown and LaTeX render (MathJax).

Screenshots of every step: test-artifacts/browser/<test>/. README figures
(notebooks/figures/student_*.png) are rewritten from them with EMLAB_UPDATE_FIGURES=1.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from browser_support import (Browser, LabServer, cell_by_grade_id, course_copy, error_outputs,
                             first_answer_index, image_sizes, open_notebook, outputs_text,
                             release_notebooks, replace_cell_source, require_chromium, run_all,
                             write_markdown_answer, written_answer_ids,
                             wait_kernel_idle, menu, open_from_path, close_and_shut_down, NOTEBOOK)

pytestmark = pytest.mark.xdist_group("browser")

LAB03 = "notebooks/03-old-faithful/old_faithful.ipynb"

# What a student types: correct, written differently from the model answer (list
# comprehensions, no loops over points).
E_STEP = textwrap.dedent("""\
    def e_step(X, mu, Sigma, pi):
        a = np.column_stack([np.log(p) + np.reshape(multivariate_normal(m, S).logpdf(X), len(X))
                             for p, m, S in zip(pi, mu, Sigma)])
        return np.exp(a - logsumexp(a, axis=1, keepdims=True))
    """)
M_STEP = textwrap.dedent("""\
    def m_step(X, gamma):
        Nk = gamma.sum(axis=0)
        mu = gamma.T @ X / Nk[:, None]
        Sigma = np.stack([(gamma[:, k, None] * (X - mu[k])).T @ (X - mu[k]) / Nk[k] for k in range(len(Nk))])
        return mu, Sigma, Nk / len(X)
    """)
LOGLIK = textwrap.dedent("""\
    def loglik(X, mu, Sigma, pi):
        a = np.column_stack([np.log(p) + np.reshape(multivariate_normal(m, S).logpdf(X), len(X))
                             for p, m, S in zip(pi, mu, Sigma)])
        return float(logsumexp(a, axis=1).sum())
    """)
# The classic mistake: covariances divided by N instead of N_k.
M_STEP_WRONG = M_STEP.replace("/ Nk[k] for", "/ len(X) for")
WRITTEN = ("My answer to {gid}: the responsibilities $\\gamma(z_{{nk}})$ weigh each point, and "
           "$\\sum_k \\pi_k = 1$.")
M_STEP_MESSAGE = "divided by N (all the points) instead of N_k"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser-student")
    with LabServer(course_copy(tmp), tmp / "server") as lab:
        yield lab


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    with Browser() as b:
        yield b


@pytest.fixture
def browser(chromium, request):
    """The module's chromium, screenshots under this test's name."""
    chromium.begin(request.node.name.replace("[", "-").rstrip("]"))
    return chromium


@pytest.fixture(scope="module")
def lab_page(server, chromium):
    """JupyterLab loaded once in the module's page; each lab is opened in it from its path."""
    chromium.page.goto(server.url("lab?reset"))
    chromium.page.locator(".lm-MenuBar-item").first.wait_for()
    return chromium.page


def validate(browser) -> tuple[str, str]:
    """Click nbgrader's Validate button; return (result class, dialog text) and close it."""
    page = browser.page
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").click()
    message = page.locator(".jp-Dialog #validation-message")
    message.wait_for(timeout=90_000)
    kind = message.get_attribute("class") or ""
    text = message.inner_text()
    return kind, text


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def test_student_answers_lab03_runs_it_and_validates(server, browser):
    page = browser.page
    nb_path = server.course.root / LAB03
    cells = open_notebook(page, server, LAB03)
    browser.shot("opened")

    for gid, source in [("e_step", E_STEP), ("m_step", M_STEP), ("loglik", LOGLIK)]:
        cell = cell_by_grade_id(page, nb_path, gid)
        replace_cell_source(page, cell, source)
        typed = cell.locator(".cm-content").inner_text()
        assert f"def {gid}(" in typed and "NotImplementedError" not in typed, typed
    browser.shot("answers-typed", cell_by_grade_id(page, nb_path, "e_step"))
    written = written_answer_ids(nb_path)
    for gid in written:  # the written answers too, or Validate reports them missing
        write_markdown_answer(page, cell_by_grade_id(page, nb_path, gid), WRITTEN.format(gid=gid))

    run_all(page, timeout_ms=90_000)
    for gid in written:
        cell = cell_by_grade_id(page, nb_path, gid)
        assert cell.locator(".jp-RenderedMarkdown mjx-container").count() >= 1, f"{gid}: LaTeX not rendered"
    assert not error_outputs(cells.all()), error_outputs(cells.all())[:1]
    for gid in ["test_e_step", "test_m_step", "test_loglik"]:
        text = outputs_text(cell_by_grade_id(page, nb_path, gid))
        assert re.match(r"✓ \w+ looks right", text), f"{gid} shows: {text!r}"
    browser.shot("checks-pass", figure="student_checks_pass",
                 span=(cell_by_grade_id(page, nb_path, "m_step"), cell_by_grade_id(page, nb_path, "test_m_step")))

    # the figures: every plotting cell shows a real image (a PNG of several hundred pixels)
    for gid in ["plot_data", "plot_loglik", "bishop_grid"]:
        cell = cell_by_grade_id(page, nb_path, gid)
        sizes = image_sizes(cell)
        assert sizes and all(w >= 300 and h >= 200 for w, h in sizes), f"{gid}: images {sizes}"
        box = cell.locator(".jp-OutputArea-output img").first.bounding_box()
        assert box and box["width"] >= 300 and box["height"] >= 200, f"{gid}: drawn at {box}"
    cell = cell_by_grade_id(page, nb_path, "plot_loglik")
    cell.scroll_into_view_if_needed()
    browser.shot("loglik-figure", cell.locator(".jp-Cell-outputArea"), figure="student_loglik")

    # the widget: moving the iteration slider redraws the panel
    widget = cell_by_grade_id(page, nb_path, "widget_slider")
    widget.scroll_into_view_if_needed()
    panel_img = widget.locator(".widget-output img, .jp-OutputArea-output img").last
    panel_img.wait_for()
    before = panel_img.get_attribute("src")
    assert image_sizes(widget), "the widget shows no figure"
    browser.shot("widget-iteration-0", widget.locator(".jp-Cell-outputArea"))
    readout = widget.locator(".widget-readout").first
    assert readout.inner_text().strip() == "0"
    track = widget.locator(".widget-slider .noUi-base").first
    box = track.bounding_box()
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + box["height"] / 2)  # a click on the track
    page.wait_for_function(
        """([cell, old]) => { const imgs = cell.querySelectorAll('.jp-Cell-outputArea img');
                              return imgs.length > 0 && imgs[imgs.length - 1].getAttribute('src') !== old; }""",
        arg=[widget.element_handle(), before], timeout=15_000)
    moved = int(readout.inner_text().strip())
    assert moved > 0, "the slider did not move"
    assert image_sizes(widget)[-1][0] >= 300, "the redrawn figure is not a real image"
    browser.shot("widget-iteration-moved", widget.locator(".jp-Cell-outputArea"), figure="student_widget")

    # nbgrader's Validate: success
    kind, text = validate(browser)
    browser.shot("validate-success", page.locator(".jp-Dialog-content"), figure="student_validate")
    assert "validation-success" in kind and "Success! Your notebook passes all the tests." in text, text
    close_dialog(page)

    # a wrong m_step: Validate fails, with the visible check's message
    replace_cell_source(page, cell_by_grade_id(page, nb_path, "m_step"), M_STEP_WRONG)
    kind, text = validate(browser)
    browser.shot("validate-failure", page.locator(".jp-Dialog-content"))
    assert "validation-failed" in kind, text
    assert "check_m_step(m_step)" in text and M_STEP_MESSAGE in text, text
    assert "BEGIN HIDDEN TESTS" not in text and "emlab_grader" not in text
    close_dialog(page)
    assert not browser.console_errors, browser.console_errors
    close_and_shut_down(page)


LABS = [p.relative_to(p.parents[2]).as_posix() for p in release_notebooks()]


@pytest.mark.parametrize("notebook", LABS, ids=[n.split("/")[1] for n in LABS])
def test_release_notebook_opens_and_renders(server, browser, lab_page, notebook):
    page = lab_page
    nb_path = server.course.root / notebook
    cells = open_from_path(page, notebook)
    first = first_answer_index(nb_path)
    assert first > 0, f"{notebook}: no cell before the first answer cell"
    cells.nth(first).click()  # select the first answer cell (its prompt area)
    menu(page, "Run", "notebook:run-all-above")
    page.wait_for_timeout(300)
    wait_kernel_idle(page, 60_000)
    above = [cells.nth(i) for i in range(first)]
    errors = error_outputs(above)
    assert not errors, f"{notebook}: errors before the first answer cell:\n{errors[0][-1500:]}"
    browser.shot("before-first-answer")

    # markdown rendered, LaTeX typeset by MathJax, no raw $...$ left
    rendered = page.locator(f"{NOTEBOOK} .jp-MarkdownCell .jp-RenderedMarkdown")
    assert rendered.count() > 0 and page.locator(f"{NOTEBOOK} .jp-MarkdownCell h1").count() >= 1
    page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown mjx-container").first.wait_for()
    assert page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown mjx-container").count() >= 3
    raw_math = page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown").evaluate_all(
        r"els => els.map(e => e.innerText).filter(t => /\$\$|\\frac|\\sum|\\mathbf/.test(t))")
    assert not raw_math, f"{notebook}: LaTeX not typeset: {raw_math[0][:300]}"
    for img in page.locator(f"{NOTEBOOK} .jp-RenderedMarkdown img").all():
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), f"broken image in {notebook}"
    assert not browser.console_errors, browser.console_errors
    close_and_shut_down(page)
