"""Grading throughput: a batch of 40 lab-03 submissions (correct, buggy and broken), graded
in one run by nbgrader's own ``autograde`` (one process, one submission after another) and by
the harness (``make autograde``: a process and a sandbox per submission, verdicts judged
outside the kernel, ``jobs`` at a time), with the sandbox on (warm and cold kernels) and off.

Also the harness's per-submission overhead over executing the same notebook in a kernel
that is already running (the floor: what any grader must spend on the student's code).

Every run grades its own fresh copy of the course (tests/grading_support.temporary_course),
so no run reuses another's gradebook or is "kept unchanged".
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from grading_support import (build_submission, run_nbgrader, solution_sources,  # noqa: E402
                             split_functions, temporary_course)

__all__ = ["GradingRow", "grading_throughput", "batch_sources"]

ASSIGNMENT, NOTEBOOK = "03-old-faithful", "old_faithful.ipynb"
ANSWERS = ("e_step", "m_step", "loglik")
BROKEN_KERNEL = "import os\nos._exit(1)\n"


@dataclass(frozen=True)
class GradingRow:
    grader: str
    submissions: int
    wall_seconds: float
    per_submission: list[float]  # seconds each submission took (empty where not measured)
    phases: dict[str, list[float]] = None  # phase -> its seconds in each graded submission (harness rows)

    @property
    def per_minute(self) -> float:
        return 60.0 * self.submissions / self.wall_seconds


def batch_sources(n: int = 40) -> dict[str, dict | None]:
    """{student: answer-cell sources, or None for a file that is not valid JSON}: the model
    answer, every correct and buggy bank module of lab 03 (more/ included), a kernel killed in
    the m_step cell, and a malformed notebook; ``n`` in all."""
    bank = ROOT / "tests" / "banks" / "lab03"
    model = solution_sources(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, ANSWERS)
    batch: dict[str, dict | None] = {"model_answer": model,
                                     "broken_kernel_dies": {**model, "m_step": BROKEN_KERNEL + model["m_step"]},
                                     "broken_malformed_json": None}
    for path in sorted(bank.glob("correct_*.py")) + sorted(bank.glob("buggy_*.py")) + sorted(bank.glob("more/*.py")):
        if len(batch) >= n:
            break
        batch[path.stem] = split_functions(path.read_text(), ANSWERS)
    return batch


def _course_with_batch(tmp: Path, batch: dict):
    course = temporary_course(tmp, [ASSIGNMENT], repo=ROOT)
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}")
    release = course.release_notebook(ASSIGNMENT, NOTEBOOK)
    for student, answers in batch.items():
        dest = course.submission_path(student, ASSIGNMENT, NOTEBOOK)
        if answers is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(release.read_text()[:5000])  # cut short: not valid JSON
        else:
            build_submission(release, answers, dest)
    return course


STOCK_CONFIG = """\
# Stock nbgrader on the course's folders: its default preprocessors, no sandbox, no judge.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "emlab"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.db_url = {db!r}
c.Execute.timeout = 60
"""


def _stock(tmp: Path, batch: dict) -> GradingRow:
    """Stock ``nbgrader autograde``: the course's own configuration hands autograde to the
    harness, so stock nbgrader runs under a configuration of its own (the same folders and
    gradebook, nbgrader's defaults otherwise)."""
    import subprocess

    course = _course_with_batch(tmp, batch)
    config = course.scratch / "stock-config"
    config.mkdir()
    (config / "nbgrader_config.py").write_text(STOCK_CONFIG.format(
        root=str(course.root), db=course.env["EMLAB_GRADEBOOK_URL"]))
    env = {**course.env, "JUPYTER_CONFIG_PATH": str(config)}
    start = time.monotonic()
    # nbgrader exits non-zero when a submission failed (the malformed one); the rest are graded
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=course.root,
                   env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    autograded = course.root / "autograder" / "autograded"
    graded = sorted(p.parent.parent.name for p in autograded.glob(f"*/{ASSIGNMENT}/*.ipynb"))
    if len(graded) < len(batch) // 2:  # stock fails some submissions (the malformed one, ...): it must have run
        raise RuntimeError(f"stock nbgrader graded only {len(graded)} of {len(batch)} submissions")
    return GradingRow("nbgrader autograde (stock batch, one process)", len(batch), seconds, [])


def _harness(tmp: Path, batch: dict, sandbox: bool, jobs: int, warm: bool = True) -> GradingRow:
    """``make autograde``'s grading; ``warm``: kernels forked from the fork server where they
    can be (sandboxed, as root), else every kernel started cold (EMLAB_WARM_KERNELS=off)."""
    import os

    from emlab_judge.batch import grade_folder

    course = _course_with_batch(tmp, batch)
    saved = dict(os.environ)
    os.environ.update(course.env)  # the copy's gradebook, exchange and Jupyter folders
    os.environ["EMLAB_WARM_KERNELS"] = "on" if warm else "off"
    try:
        run = grade_folder(course.root, jobs=jobs, sandbox=sandbox, force=True, progress=False, report=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    label = f"harness, sandbox {'on' if sandbox else 'off'}, {'warm' if warm else 'cold'} kernels, {jobs} jobs"
    phases: dict[str, list[float]] = {}
    for result in run.results:
        if result.status == "graded":
            for name, seconds in result.phases.items():
                phases.setdefault(name, []).append(seconds)
    return GradingRow(label, len(batch), run.wall_seconds, sorted(run.timings().values()), phases)


def _in_running_kernel(runs: int = 3) -> list[float]:
    """Seconds to execute the model answer's notebook, every cell, in one kernel started
    beforehand (kernel start not counted)."""
    from nbclient import NotebookClient

    release = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    client = NotebookClient(release, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks" / ASSIGNMENT)}})
    seconds = []
    with client.setup_kernel():
        for _ in range(runs):
            start = time.monotonic()
            for index, cell in enumerate(release.cells):
                client.execute_cell(cell, index)
            seconds.append(time.monotonic() - start)
    return seconds


def grading_throughput(tmp: Path, n: int = 40, jobs: int = 2) -> tuple[list[GradingRow], list[float]]:
    """The rows (stock; the harness with ``jobs`` slots: sandbox on with warm kernels, sandbox
    on with cold kernels, sandbox off) and the in-kernel floor."""
    batch = batch_sources(n)
    rows = [_stock(tmp / "stock", batch),
            _harness(tmp / "sandbox-on", batch, True, jobs),
            _harness(tmp / "sandbox-on-cold", batch, True, jobs, warm=False),
            _harness(tmp / "sandbox-off", batch, False, jobs, warm=False)]
    return rows, _in_running_kernel()


def median(values) -> float:
    return statistics.median(values) if values else float("nan")
