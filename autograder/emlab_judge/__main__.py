"""``python -m emlab_judge autograde [--assignment ID] [--student ID]``: what make autograde runs.

Grades every submission under autograder/submitted/ (or the ones named), each on its own
in the sandbox, judges the verdicts outside the kernel, and writes the report to
autograder/report/. Exit status 0 whenever grading ran, whatever the submissions did.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from .harness import Course, discover, grade_submission, sync_gradebook
from .report import write_report
from .sandbox import sandbox_status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emlab_judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("autograde", help="grade submissions")
    grade.add_argument("--assignment", default=None)
    grade.add_argument("--student", default=None)
    grade.add_argument("--root", default=str(Path(__file__).resolve().parents[2]), help="course root")
    grade.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS") or os.cpu_count() or 1),
                       help="submissions graded at once (default: JOBS or the number of cores)")
    args = parser.parse_args(argv)

    course = Course(Path(args.root).resolve())
    pairs = discover(course, args.assignment or None, args.student or None)
    if not pairs:
        print(f"nothing to grade in {course.submitted}", file=sys.stderr)
        return 0
    sandboxed, why = sandbox_status()
    if not sandboxed:
        print(f"\n*** UNSANDBOXED: {why}. Student code will run without the sandbox. ***\n", file=sys.stderr)
    sync_gradebook(course, sorted({a for _, a in pairs}))
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(max(1, args.jobs)):
        slots.put(slot)

    def grade(pair):
        slot = slots.get()  # each slot has its own staging folder and sandbox uid
        try:
            return grade_submission(course, *pair, slot=slot)
        finally:
            slots.put(slot)

    results = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool, \
            tqdm(total=len(pairs), unit="submission", desc="grading", file=sys.stderr) as bar:
        for result in pool.map(grade, pairs):
            results.append(result)
            bar.set_postfix_str(f"{result.student}/{result.assignment}")
            bar.update()
    report = write_report(results, course.autograder / "report")
    flagged = sum(1 for r in results if any(not f.startswith("UNSANDBOXED") for f in r.flags))
    failed = sum(1 for r in results if r.status != "graded")
    print(f"graded {len(results)} submission(s): {flagged} flagged, {failed} not fully graded; report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
