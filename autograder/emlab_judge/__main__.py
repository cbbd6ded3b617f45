"""``python -m emlab_judge autograde [--assignment ID] [--student ID]``: what make autograde runs.

Grades every submission under autograder/submitted/ (or the ones named), each on its own
in the sandbox, judges the verdicts outside the kernel, and writes the report to
autograder/report/. A submission graded completely before and unchanged since (same files,
same source and release notebooks) is kept, unless --force; an interrupted run loses no
grade already written and the next run grades what is missing. Exit status 0 whenever
grading ran, whatever the submissions did.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from .harness import Course, already_graded, discover, grade_submission, sync_gradebook
from .export import write_lms_csv
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
    grade.add_argument("--force", action="store_true",
                       help="grade again submissions already graded and unchanged since")
    grade.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS") or os.cpu_count() or 1),
                       help="submissions graded at once (default: JOBS or the number of cores)")
    lms = sub.add_parser("lms-export", help="one row per student, a column per assignment (Canvas, Moodle)")
    lms.add_argument("--to", default=None, help="CSV path (default: autograder/lms.csv)")
    lms.add_argument("--root", default=str(Path(__file__).resolve().parents[2]), help="course root")
    args = parser.parse_args(argv)

    course = Course(Path(args.root).resolve())
    if args.command == "lms-export":
        path = write_lms_csv(course.db_url, Path(args.to) if args.to else course.autograder / "lms.csv")
        print(f"wrote {path}")
        return 0
    pairs = discover(course, args.assignment or None, args.student or None)
    if not pairs:
        print(f"nothing to grade in {course.submitted}", file=sys.stderr)
        return 0
    sandboxed, why = sandbox_status()
    if not sandboxed:
        print(f"\n*** UNSANDBOXED: {why}. Student code will run without the sandbox. ***\n", file=sys.stderr)
    sync_gradebook(course, sorted({a for _, a in pairs}))
    kept = {} if args.force else {pair: r for pair in pairs if (r := already_graded(course, *pair))}
    todo = [pair for pair in pairs if pair not in kept]
    if kept:
        print(f"{len(kept)} submission(s) unchanged since graded: kept (--force to grade again)", file=sys.stderr)
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
            tqdm(total=len(todo), unit="submission", desc="grading", file=sys.stderr) as bar:
        for result in pool.map(grade, todo):
            results.append(result)
            bar.set_postfix_str(f"{result.student}/{result.assignment}")
            bar.update()
    results = sorted(results + list(kept.values()), key=lambda r: (r.assignment, r.student))
    report = write_report(results, course.autograder / "report")
    flagged = sum(1 for r in results if any(not f.startswith("UNSANDBOXED") for f in r.flags))
    failed = sum(1 for r in results if r.status not in {"graded", "unchanged"})
    print(f"graded {len(todo)} submission(s), kept {len(kept)} unchanged: {flagged} flagged, {failed} not fully "
          f"graded; report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
