"""Grade a folder of submissions on several cores: what ``make autograde`` (and ``make bench``) call.

>>> from emlab_judge.batch import grade_folder
>>> run = grade_folder("/work/main", jobs=2, sandbox=True, force=True)   # doctest: +SKIP
>>> run.wall_seconds, run.per_minute, run.timings()                      # doctest: +SKIP
(41.3, 5.8, {('ada', '03-old-faithful'): 13.2, ...})

Each submission is graded by :func:`.harness.grade_submission` in a slot of its own (its
own staging folder and sandbox uid), ``jobs`` slots at once, with a progress bar (done /
total, rate, time left) and a summary line on stderr. The gradebook is the course's
(``EMLAB_GRADEBOOK_URL`` or the sqlite file): see :mod:`.gradebook` for how parallel
writers are kept apart.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from .course import Course, discover
from .fingerprint import already_graded
from .gradebook_sync import sync_gradebook
from .harness import grade_submission
from .nbgrader_run import STOP, stop_all
from .results import SubmissionResult, stored_result_path, stored_results
from .results import store_result
from . import kernel_forkserver, nbgrader_process
from .gradebook import open_gradebook
from .report import printable
from .sandbox import sandbox_status

__all__ = ["BatchRun", "grade_folder", "default_jobs", "in_shard"]


def in_shard(pair: tuple[str, str], k: int, n: int) -> bool:
    """Whether (student, assignment) is in shard k of n (1-based): a stable hash, the same on
    every machine and whatever else is in the folder."""
    digest = hashlib.sha256(f"{pair[0]}/{pair[1]}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def default_jobs() -> int:
    """JOBS from the environment, else the number of cores this process may use (one more
    slot than cores gained nothing in ``make bench``: the cores are kept busy already)."""
    if os.environ.get("JOBS"):
        return max(1, int(os.environ["JOBS"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass
class BatchRun:
    """What one run did. ``results`` holds every submission found, those kept unchanged
    with status "unchanged" (their ``seconds`` are from the run that graded them)."""

    results: list[SubmissionResult] = field(default_factory=list)
    graded: int = 0          # submissions graded in this run
    kept: int = 0            # submissions unchanged since graded, not graded again
    jobs: int = 1
    sandboxed: bool = True
    wall_seconds: float = 0.0
    report: Path | None = None

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.results if any(not f.startswith("UNSANDBOXED") for f in r.flags))

    @property
    def not_fully_graded(self) -> int:
        return sum(1 for r in self.results if r.status not in {"graded", "unchanged"})

    @property
    def per_minute(self) -> float:
        """Submissions graded per minute of wall time in this run (kept ones not counted)."""
        return 60.0 * self.graded / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def timings(self) -> dict[tuple[str, str], float]:
        """(student, assignment) -> seconds spent grading it, for the submissions graded in
        this run (staging, nbgrader in the sandbox, the judge, gradebook writes)."""
        return {(r.student, r.assignment): r.seconds for r in self.results if r.status != "unchanged"}

    def summary(self) -> str:
        rate = f", {self.per_minute:.1f}/min on {self.jobs} job(s)" if self.graded else ""
        line = (f"graded {self.graded} submission(s) in {self.wall_seconds:.0f} s{rate}, kept {self.kept} unchanged: "
                f"{self.flagged} flagged, {self.not_fully_graded} not fully graded")
        if not self.sandboxed:
            line += "; UNSANDBOXED"
        return line + (f"; report: {self.report}" if self.report else "")


def grade_folder(root: str | Path, *, submitted: str | Path | None = None, jobs: int | None = None,
                 sandbox: bool | None = None, force: bool = False, assignment: str | None = None,
                 student: str | None = None, shard: tuple[int, int] | None = None,
                 progress: bool | TextIO = True, report: bool = True) -> BatchRun:
    """Grade the submissions of a course, ``jobs`` at a time, and return what happened.

    root: the course (``solutions/``, ``notebooks/``, ``autograder/``).
    submitted: the folder of submissions, laid out ``<student>/<assignment>/<name>.ipynb``
        (default: ``autograder/submitted/``); graded notebooks still go to
        ``autograder/autograded/`` and grades to the course's gradebook.
    jobs: submissions graded at once (default: :func:`default_jobs`).
    sandbox: True requires the bubblewrap sandbox (RuntimeError where it cannot run);
        False grades without it (flagged UNSANDBOXED; for measurements and machines
        without bubblewrap); None uses it where it runs.
    force: grade again the submissions graded before and unchanged since (same files, same
        source and release notebooks); otherwise they are kept.
    assignment, student: only these.
    shard: (k, n), 1 <= k <= n: only the submissions of shard k of n (:func:`in_shard`), so
        that n workers (on n machines sharing the course folder and a PostgreSQL gradebook)
        grade a batch together, each submission once.
    progress: a progress bar and the summary line on stderr (or on the stream given);
        False for none.
    report: write ``autograder/report/`` (report.md, report.html, results.json) for this run.
    """
    course = Course(Path(root).resolve(), Path(submitted).resolve() if submitted else None)
    jobs = max(1, jobs or default_jobs())
    stream = sys.stderr if progress is True else (progress or None)
    sandboxed, why = sandbox_status() if sandbox is not False else (False, "disabled by the caller")
    if sandbox is True and not sandboxed:
        raise RuntimeError(f"the sandbox cannot run here: {why}")
    run = BatchRun(jobs=jobs, sandboxed=sandboxed)
    STOP.clear()
    started = time.monotonic()
    pairs = discover(course, assignment, student)
    if shard:
        pairs = [pair for pair in pairs if in_shard(pair, *shard)]
    if not pairs:
        if stream:
            print(f"nothing to grade in {course.submitted}", file=stream)
        return run
    if not sandboxed and stream:
        print(f"\n*** UNSANDBOXED: {why}. Student code will run without the sandbox. ***\n", file=stream)
    # Every slot is single-threaded: the judge's NumPy in this process (whose idle BLAS
    # threads would spin on the cores the kernels need) and, through Course.env, each
    # nbgrader process and kernel.
    blas = threadpool_limits(limits=1, user_api="blas")
    try:
        sync_gradebook(course, sorted({a for _, a in pairs}))
        kept = {}
        if not force:
            with open_gradebook(course.db_url) as gb:  # one connection for the whole batch
                kept = {pair: r for pair in pairs if (r := already_graded(course, *pair, gb=gb))}
        for pair, result in kept.items():
            if not stored_result_path(course, *pair).exists():
                store_result(course, SubmissionResult(**{**result.to_json(), "status": "graded"}))
        todo = [pair for pair in pairs if pair not in kept]
        if kept and stream:
            print(f"{len(kept)} submission(s) unchanged since graded: kept (--force to grade again)", file=stream)
        slots: queue.Queue[int] = queue.Queue()
        for slot in range(jobs):
            slots.put(slot)

        def grade(pair: tuple[str, str]) -> SubmissionResult:
            slot = slots.get()  # each slot has its own staging folder and sandbox uid
            try:
                return grade_submission(course, *pair, slot=slot, sandbox=sandbox)
            finally:
                slots.put(slot)

        results = []
        with ThreadPoolExecutor(max_workers=jobs) as pool, \
                tqdm(total=len(todo), unit="submission", desc="grading", file=stream, disable=stream is None,
                     dynamic_ncols=False, ncols=100, mininterval=0.5,
                     bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} done "
                                "[{elapsed} elapsed, {remaining} left, {rate_fmt}]{postfix}") as bar:
            futures = {pool.submit(grade, pair): pair for pair in todo}
            try:
                for future in as_completed(futures):  # as each finishes, whatever the order
                    try:
                        result = future.result()
                    except Exception as exc:  # grade_submission reports failures itself; this is a last resort
                        result = SubmissionResult(*futures[future], status="failed",
                                                  reasons=[f"grading error: {type(exc).__name__}: {exc}"])
                    results.append(result)
                    bar.set_postfix_str(printable(f"{result.student}/{result.assignment}"), refresh=False)
                    bar.update()
            except KeyboardInterrupt:  # Ctrl-C (or SIGTERM, see __main__): stop now, keep what is written
                for future in futures:
                    future.cancel()
                stop_all()
                pool.shutdown(wait=True)
                bar.close()
                if stream:
                    print("interrupted: every grade already written is kept; the next run grades what is missing",
                          file=stream)
                raise
    finally:
        nbgrader_process.stop()  # the fork server of this batch's nbgrader processes
        kernel_forkserver.stop()  # and of its warm kernels
        blas.restore_original_limits()
    run.graded, run.kept = len(results), len(kept)
    run.results = sorted(results + list(kept.values()), key=lambda r: (r.assignment, r.student))
    run.wall_seconds = round(time.monotonic() - started, 2)
    if report:
        from .report import write_report

        run.report = write_report(run.results, course.autograder / "report", stored_results(course))
    if stream:
        print(run.summary(), file=stream)
    return run
