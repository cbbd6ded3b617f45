"""Real-browser tests: a JupyterLab of our own on a throw-away copy of the course, driven
by Debian's chromium through Python Playwright.

- ``require_chromium()``: skip with a reason when /usr/bin/chromium (or Playwright) is
  missing; with ``CI=true`` fail instead (CI must run the browser tests).
- ``LabServer``: ``python -m autograder.launch_lab`` on a free loopback port with its own
  token and Jupyter/IPython/matplotlib directories, the course root pointing at a
  temporary copy (``EMLAB_COURSE_ROOT``), so nothing a test writes (saved notebooks,
  gradebook, exchange, submissions) lands in the repository. Stopped by its PID, its
  kernels shut down through the REST API first.
- ``Browser``: chromium with the flags of design.md, one page, a screenshot helper writing
  ``test-artifacts/browser/<test>/<nn>-<step>.png``.
- JupyterLab helpers: open a notebook, run cells through the menus, read outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, VENV_PYTHON
from grading_support import Course, temporary_course

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts" / "browser"
FIGURES = REPO / "notebooks" / "figures"
UPDATE_FIGURES = os.environ.get("EMLAB_UPDATE_FIGURES") == "1"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TIMEOUT_MS = 30_000


def require_chromium() -> None:
    """Skip (locally) or fail (CI=true) when the browser cannot be driven."""
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"{CHROMIUM} is missing (as root: apt-get install chromium; `make test` does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("Python Playwright is not installed (it is in requirements.lock: make test)")
    if problems:
        reason = "browser tests need Debian's chromium and Playwright: " + "; ".join(problems)
        if IN_CI:
            pytest.fail(reason + " (CI=true: the browser tests must run)")
        pytest.skip(reason)


def release_notebooks(repo: Path = REPO) -> list[Path]:
    """Every lab's release notebook present now (labs are discovered, not listed)."""
    return sorted(p for p in (repo / "notebooks").glob("*/*.ipynb") if p.parent.name[:2].isdigit())


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def first_answer_index(nb_path: Path) -> int:
    """Index of the notebook's first answer cell (nbgrader ``solution: true``)."""
    nb = nbformat.read(str(nb_path), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            return i
    return len(nb.cells)


def course_copy(tmp: Path) -> Course:
    """A temporary course holding every lab with a source and a release."""
    labs = sorted({p.parent.name for p in release_notebooks()}
                  & {p.parent.name for p in (REPO / "solutions").glob("*/*.ipynb")})
    return temporary_course(tmp, labs)


# --------------------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab (via the course's launcher) on ``course``; use as a context manager."""

    def __init__(self, course: Course, home: Path, open_path: str = "notebooks"):
        self.course, self.home = course, home
        self.port, self.token = _free_port(), "emlab-browser-" + os.urandom(8).hex()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(course.env)  # the course's config, gradebook, exchange; Jupyter dirs under tmp
        env.pop("MPLBACKEND", None)
        settings = home / "lab-settings"
        # no news / update pop-up; every cell rendered (no windowing), so the DOM holds the whole notebook
        for rel, value in [("@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                            {"fetchNews": "false", "checkForUpdates": False}),
                           ("@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
                            {"windowingMode": "none"})]:
            (settings / rel).parent.mkdir(parents=True, exist_ok=True)
            (settings / rel).write_text(json.dumps(value))
        env.update(EMLAB_LAB_PORT=str(self.port), EMLAB_LAB_TOKEN=self.token, EMLAB_LAB_OPEN=open_path,
                   JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"))
        self.env = env
        self.log_path = home / "lab.log"
        self.proc: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET", data=None):
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.url(path), data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as response:
            text = response.read().decode()
            return json.loads(text) if text.strip() else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "LabServer":
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen([str(VENV_PYTHON), "-m", "autograder.launch_lab"], cwd=REPO, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.api("api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                pytest.fail(f"JupyterLab did not start (exit {self.proc.poll()}):\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        try:
            for kernel in self.api("api/kernels") or []:
                self.api(f"api/kernels/{kernel['id']}", method="DELETE")
        except Exception:  # the server may already be gone
            pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # by PID: the launcher exec()s into the server
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


# --------------------------------------------------------------------------- the browser

class Browser:
    """Chromium with one page and numbered screenshots under test-artifacts/browser/<name>/."""

    def __init__(self, name: str | None = None):
        self.console_errors: list[str] = []
        if name:
            self.begin(name)

    def begin(self, name: str) -> None:
        """Screenshots from now on go to test-artifacts/browser/<name>/ (emptied first)."""
        self.name = name
        self.shots = ARTIFACTS / name
        shutil.rmtree(self.shots, ignore_errors=True)
        self.shots.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.console_errors.clear()
        self.started = time.monotonic()
        self.timings: list[str] = []

    def __enter__(self) -> "Browser":
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        self.context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.context.close()
            self.browser.close()
        finally:
            self._pw.stop()

    def shot(self, step: str, locator=None, figure: str | None = None, span=None) -> Path:
        """Screenshot the page (or ``locator``, or the region from the top of ``span[0]``
        to the bottom of ``span[1]``) as ``<nn>-<step>.png``; with EMLAB_UPDATE_FIGURES=1
        also copy it to notebooks/figures/<figure>.png."""
        self.count += 1
        path = self.shots / f"{self.count:02d}-{step}.png"
        if span:
            span[0].scroll_into_view_if_needed()
            top, bottom = span[0].bounding_box(), span[1].bounding_box()
            clip = {"x": top["x"], "y": top["y"], "width": max(top["width"], bottom["width"]),
                    "height": bottom["y"] + bottom["height"] - top["y"]}
            self.page.screenshot(path=str(path), clip=clip)
        else:
            (locator or self.page).screenshot(path=str(path))
        self.timings.append(f"{time.monotonic() - self.started:7.1f} s  {path.name}")
        (self.shots / "timings.txt").write_text("\n".join(self.timings) + "\n")
        if figure and UPDATE_FIGURES:
            FIGURES.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, FIGURES / f"{figure}.png")
        return path


# --------------------------------------------------------------------------- JupyterLab

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"


def open_notebook(page, server: LabServer, rel_path: str):
    """Open a notebook in JupyterLab and wait until its kernel is idle; returns its cells' locator."""
    page.goto(server.url(f"lab/tree/{rel_path}?reset"))  # ?reset: no tabs restored from an earlier test
    cells = page.locator(f"{NOTEBOOK} .jp-Cell")
    cells.first.wait_for()
    wait_kernel_idle(page)
    return cells


def open_from_path(page, rel_path: str):
    """Open a notebook in the running JupyterLab as a person does without the file browser:
    File > Open from Path..., type the path, Enter. Waits for its kernel; returns its cells."""
    menu(page, "File", "filebrowser:open-path")
    field = page.locator(".jp-Dialog input")
    field.fill(rel_path)
    field.press("Enter")
    name = rel_path.rsplit("/", 1)[-1]
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text=name).first.wait_for()
    cells = page.locator(f"{NOTEBOOK} .jp-Cell")
    cells.first.wait_for()
    wait_kernel_idle(page)
    return cells


def close_and_shut_down(page) -> None:
    """File > Close and Shut Down Notebook (its kernel stops), accepting the dialog."""
    menu(page, "File", "filemenu:close-and-cleanup")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def wait_kernel_idle(page, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the notebook's kernel reports idle and no cell waits to run ([*])."""
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return false;
            const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            const idle = status ? status.getAttribute('data-status') === 'idle' : true;
            const busy = [...panel.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
            return idle && !busy;
        }""", timeout=timeout_ms)


def menu(page, top: str, command: str) -> None:
    """Click a JupyterLab main-menu item: ``top`` is the menu bar label, ``command`` the
    item's data-command."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(top)}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def run_all(page, timeout_ms: int = 60_000) -> None:
    menu(page, "Run", "runmenu:run-all")
    page.wait_for_timeout(300)
    wait_kernel_idle(page, timeout_ms)


def cell_by_grade_id(page, nb_path: Path, gid: str):
    """The locator of the cell with nbgrader ``grade_id`` (by its index in the notebook file)."""
    nb = nbformat.read(str(nb_path), as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if grade_id(c) == gid)
    return page.locator(f"{NOTEBOOK} .jp-Cell").nth(index)


def replace_cell_source(page, cell, source: str) -> None:
    """Type ``source`` into a code cell through its editor (select all, then insert the text
    as one input, as a paste does: no auto-indent or bracket closing on the way)."""
    editor = cell.locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")  # back to command mode


def written_answer_ids(nb_path: Path) -> list[str]:
    """grade_ids of the notebook's written answers (markdown answer cells)."""
    nb = nbformat.read(str(nb_path), as_version=4)
    return [grade_id(c) for c in nb.cells
            if c.cell_type == "markdown" and c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def write_markdown_answer(page, cell, text: str) -> None:
    """Open a markdown answer cell's editor (double click), replace its text, leave it."""
    cell.locator(".jp-RenderedMarkdown, .jp-MarkdownOutput").first.dblclick()
    editor = cell.locator(".jp-InputArea-editor .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")


def outputs_text(cell) -> str:
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def error_outputs(cells) -> list[str]:
    """Texts of the error (traceback) outputs among ``cells``."""
    found = []
    for cell in cells:
        for text in cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]') \
                .all_inner_texts():
            if re.search(r"Traceback|Error\b", text):
                found.append(text)
    return found


def image_sizes(cell) -> list[tuple[int, int]]:
    """(naturalWidth, naturalHeight) of each image loaded in the cell's outputs."""
    return cell.locator(".jp-OutputArea-output img").evaluate_all(
        "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
