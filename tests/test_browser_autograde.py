"""The formgrader's *Autograde* button is the grading harness, pressed in a real browser.

Two copies of the course hold the same two submissions of lab 03: a hostile one (a wrong
m_step behind patched ``numpy.allclose`` and ``numpy.testing``) and an honest model answer.
One copy is graded by ``python -m emlab_judge autograde`` (what ``make autograde`` runs);
in the other, an instructor opens the formgrader's *Manage Submissions* page in our own
JupyterLab (Debian's chromium through Playwright) and presses *Autograde* on each row.
The gradebook then holds exactly the harness's scores, the page shows them, the hostile
submission's log says it was flagged and the honest one's does not.
"""

from __future__ import annotations

import re
import subprocess

import nbformat
import pytest

import hostile_lab03 as H
from browser_support import Browser, LabServer, require_chromium
from grading_support import PYTHON, REPO, run_nbgrader, scores_from_gradebook, solution_sources, temporary_course

pytestmark = pytest.mark.xdist_group("browser")

LAB = H.ASSIGNMENT
NOTEBOOK = "old_faithful.ipynb"
HOSTILE, HONEST = "hostile", "honest"
GRADING_MS = 600_000  # one submission through the harness, on a loaded two-core machine


def _course(tmp_path, name: str):
    """A copy of the course holding the hostile and the honest submission."""
    course = temporary_course(tmp_path / name, [LAB])
    release = nbformat.read(course.release_notebook(LAB, NOTEBOOK), as_version=4)
    good = solution_sources(course.source_notebook(LAB, NOTEBOOK), ("e_step", "m_step", "loglik"))
    cheat = next(c for c in H.CASES if c.name == "patch allclose/isclose/testing at top level")
    for student, nb in {HOSTILE: cheat.build(release, good), HONEST: H.honest(release, good)}.items():
        dest = course.submission_path(student, LAB, NOTEBOOK)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
    return course


def _row(page, student: str):
    return page.locator("table tbody tr").filter(
        has=page.locator("td.student-id", has_text=re.compile(rf"^\s*{re.escape(student)}\s*$")))


def test_formgrader_autograde_button_is_the_harness(tmp_path, request):
    require_chromium()
    reference = _course(tmp_path, "harness")
    proc = subprocess.run([str(PYTHON), "-m", "emlab_judge", "autograde", f"--root={reference.root}"],
                          cwd=reference.scratch, env=dict(reference.env, JOBS="2"), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    expected = scores_from_gradebook(reference, LAB)
    assert expected[HOSTILE]["test_m_step"] == 0 < expected[HONEST]["test_m_step"], expected

    course = _course(tmp_path, "formgrader")
    # the formgrader lists the assignments of the gradebook
    run_nbgrader(course, "generate_assignment", LAB, "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}")
    logs = {}
    with LabServer(course, tmp_path / "server", open_path=".") as server, Browser(request.node.name) as browser:
        page = browser.page
        page.goto(server.url("lab?reset"))  # logs in (the token in the URL sets the session cookie)
        page.locator("#jp-main-dock-panel").wait_for()
        page.goto(server.url(f"formgrader/manage_submissions/{LAB}"))
        for student in (HOSTILE, HONEST):
            _row(page, student).wait_for()
        browser.shot("submissions-before")
        for student in (HOSTILE, HONEST):
            _row(page, student).locator("td.autograde a").click()
            modal = page.locator("#success-modal, #error-modal")
            modal.wait_for(timeout=GRADING_MS)
            page.wait_for_timeout(500)  # the modal's fade-in
            browser.shot(f"autograde-{student}", modal.locator(".modal-content"))
            logs[student] = modal.inner_text()
            assert modal.get_attribute("id") == "success-modal", (logs[student][-3000:], server.log()[-3000:])
            modal.locator(".modal-footer button").click()
            modal.wait_for(state="detached")
        page.reload()
        for student in (HOSTILE, HONEST):
            _row(page, student).locator("td.score").filter(has_text="/").wait_for()
        shown = {student: _row(page, student).locator("td.score").inner_text().strip() for student in (HOSTILE, HONEST)}
        browser.shot("submissions-after")
        assert not browser.console_errors, browser.console_errors

    scores = scores_from_gradebook(course, LAB)
    assert scores == expected, (scores, expected)
    for student in (HOSTILE, HONEST):
        assert "through the grading harness" in logs[student], logs[student][-3000:]
        total = scores[student]["total"]
        assert re.match(rf"{total:g}(\.0+)? / ", shown[student]), (student, shown[student], total)
    assert "tampering suspected" in logs[HOSTILE], logs[HOSTILE][-3000:]
    assert "tampering suspected" not in logs[HONEST], logs[HONEST][-3000:]
    assert not any(REPO.joinpath(p).exists() for p in ["autograder/autograded/hostile", "autograder/autograded/honest"])
