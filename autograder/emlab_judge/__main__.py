"""``python -m emlab_judge autograde [--assignment ID] [--student ID]``: what make autograde runs.

Grades every submission under autograder/submitted/ (or the ones named), each on its own
in the sandbox, judges the verdicts outside the kernel, and writes the report to
autograder/report/. Exit status 0 whenever grading ran, whatever the submissions did.
"""

from __future__ import annotations

import argparse
import sys
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
    results = []
    with tqdm(pairs, unit="submission", desc="grading", file=sys.stderr) as bar:
        for student, assignment in bar:
            bar.set_postfix_str(f"{student}/{assignment}")
            results.append(grade_submission(course, student, assignment))
    report = write_report(results, course.autograder / "report")
    flagged = sum(1 for r in results if any(not f.startswith("UNSANDBOXED") for f in r.flags))
    failed = sum(1 for r in results if r.status != "graded")
    print(f"graded {len(results)} submission(s): {flagged} flagged, {failed} not fully graded; report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
