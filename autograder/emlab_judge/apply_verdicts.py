"""The judge's verdicts into the submission's result and the gradebook.

One job: after nbgrader has graded the staged copy, read the verdicts the judge left in a
folder of the grader's (:class:`.judge_step.JudgeVerdicts`; bounded reads), turn them into
the result's reasons, flags and messages, read the scores the gradebook now holds, and keep
the verdicts (``.emlab-judge.json``, which feedback leaves out) beside the graded notebook;
a notebook nbgrader graded without verdicts fails closed (its judged cells score 0,
flagged); a submission with nothing gradable is entered with an earlier grade kept, or 0.
It never judges anything itself, never reads a file the kernel could have written, and
never writes through a link.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .course import Course
from .course_files import course_notebook
from .gradebook import open_gradebook
from .results import SubmissionResult
from .safe_fs import MiB, read_regular, write_atomic

__all__ = ["JUDGE_FILE", "MAX_VERDICTS_FILE", "apply_verdicts", "record_ungradable"]

JUDGE_FILE = ".emlab-judge.json"  # the verdicts and records (a dot file: nbgrader copies none into feedback)

MAX_VERDICTS_FILE = 64 * MiB


def apply_verdicts(course: Course, student: str, assignment: str, result: SubmissionResult, judge_out: Path,
                   staged: list[str], nbgrader_ok: bool) -> None:
    """Turn the judge's verdicts (left by :class:`.judge_step.JudgeVerdicts` in
    ``judge_out``, a folder of the grader's) into the result's reasons, flags and scores,
    and keep them as ``.emlab-judge.json`` beside the graded notebook. A notebook that nbgrader
    graded but that left no verdicts fails closed: its judged cells get 0, flagged.
    Call under the gradebook's writer lock."""
    from nbgrader.api import MissingEntry

    judged = {}
    with open_gradebook(course.db_url, write=True) as gb:
        for source_path in course.source_notebooks(assignment):
            if source_path.name not in staged:
                continue
            notebook_id = source_path.stem
            try:
                found = json.loads(read_regular(judge_out / f"{notebook_id}.json", MAX_VERDICTS_FILE))
                verdicts = list(found["verdicts"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                if nbgrader_ok:
                    _fail_closed(gb, course, assignment, notebook_id, student, result, exc)
                continue
            for v in verdicts:
                _explain(v, result)
            _to_formgrader(gb, notebook_id, assignment, student, verdicts,
                           flagged=_flagged_here(result.flags, source_path.name))
            timing = found.get("timing")
            for key, value in (timing.items() if isinstance(timing, dict) else ()):
                if key in {"kernel_start", "execute", "judge"} and isinstance(value, (int, float)):
                    result.phases[key] = round(result.phases.get(key, 0.0) + float(value), 3)
            result.reasons.extend(str(line) for line in found.get("incidents", []))
            judged[source_path.name] = found
        gb.db.commit()
        try:
            submission = gb.find_submission(assignment, student)
            result.score, result.max_score = float(submission.score), float(submission.max_score)
            for nb_sub in submission.notebooks:
                for grade in nb_sub.grades:
                    result.cells[grade.name] = float(grade.score)
        except MissingEntry:
            result.max_score = float(gb.find_assignment(assignment).max_score)
    out_dir = course.autograded / student / assignment
    if os.path.isdir(out_dir) and not os.path.islink(out_dir):
        write_atomic(out_dir, JUDGE_FILE, json.dumps(judged, indent=1, default=str))


def _explain(v: dict, result: SubmissionResult) -> None:
    """One verdict's reasons and flags: where the kernel's own verdict and the judge's
    differ, and what the judge said."""
    notebook_score, score = float(v.get("notebook_score") or 0.0), float(v.get("score") or 0.0)
    messages, tampering = list(v.get("messages") or []), list(v.get("tampering") or [])
    gid = str(v.get("grade_id"))
    passed = score == float(v.get("points") or 0.0)
    if notebook_score != score:
        if score < notebook_score:
            what = "; ".join(tampering) if tampering else "; ".join(messages)
            if tampering:
                result.flags.append(f"tampering suspected in {gid}: {what}")
            result.reasons.append(f"{gid}: notebook gave {notebook_score:g}, judge gave {score:g} ({what})")
        elif passed:
            result.reasons.append(f"{gid}: notebook gave {notebook_score:g}, judge found the function correct "
                                  f"and gave {score:g}")
        else:
            result.reasons.append(f"{gid}: partial credit, {score:g} of {float(v.get('points') or 0.0):g} "
                                  f"({_cases_right(v)}): {messages[0] if messages else 'some hidden cases failed'}")
    elif tampering:
        result.flags.append(f"tampering suspected in {gid}: {'; '.join(tampering)}")
    if messages:
        result.messages[gid] = messages
        if not passed and notebook_score == score:
            result.reasons.append(f"{gid}: {messages[0]}")


COMMENT_PREFIX = "From the grader: "


def _flagged_here(flags: list[str], notebook: str) -> bool:
    """Whether a tampering flag of the result (the tamper scan's, which name the notebook, or
    one that names none) concerns ``notebook``."""
    return any(f.startswith("tampering suspected") and (notebook in f or ".ipynb" not in f) for f in flags)


def _to_formgrader(gb, notebook_id: str, assignment: str, student: str, verdicts: list, *,
                   flagged: bool = False) -> None:
    """What the harness found, where the formgrader shows it: a notebook with a tampering sign is
    flagged (nbgrader's *Flagged?*; only an instructor clears it), and each graded function's
    answer cell gets the judge's messages as its automatic comment (shown under the cell in the
    formgrader and in feedback; the instructor's own comment, when written, is shown instead).
    A comment of ours whose function now passes is removed."""
    from nbgrader.api import MissingEntry

    try:
        nb_sub = gb.find_submission_notebook(notebook_id, assignment, student)
    except MissingEntry:
        return
    if flagged or any(v.get("tampering") for v in verdicts if isinstance(v, dict)):
        nb_sub.flagged = True
    for v in verdicts:
        if not isinstance(v, dict) or not isinstance(v.get("cases"), dict):
            continue
        lines = [str(m) for m in (v.get("messages") or [])][:10]
        lines += [f"the test cell's own verdict was replaced by the grader's: {t}" for t in (v.get("tampering") or [])][:5]
        for function in v["cases"]:
            try:
                comment = gb.find_comment(str(function), notebook_id, assignment, student)
            except MissingEntry:
                continue
            if lines:
                comment.auto_comment = (COMMENT_PREFIX + "\n".join(lines))[:4000]
            elif (comment.auto_comment or "").startswith(COMMENT_PREFIX):
                comment.auto_comment = None


def _cases_right(v: dict) -> str:
    """"e_step 5 of 6 hidden cases right" from a verdict's per-function counts."""
    cases = v.get("cases") if isinstance(v.get("cases"), dict) else {}
    return "; ".join(f"{name} {counts[0]} of {counts[1]} hidden cases right" for name, counts in cases.items()
                     if isinstance(counts, (list, tuple)) and len(counts) == 2) or "some hidden cases right"


def _fail_closed(gb, course: Course, assignment: str, notebook_id: str, student: str, result: SubmissionResult,
                 why: Exception) -> None:
    """No verdicts for a notebook nbgrader graded: every judged cell of it scores 0."""
    from nbgrader.api import MissingEntry

    from .verdicts import checked_functions

    source = course_notebook(course.root / "solutions" / assignment / f"{notebook_id}.ipynb")
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and cell.cell_type == "code" and checked_functions(cell)):
            continue
        try:
            grade = gb.find_grade(meta["grade_id"], notebook_id, assignment, student)
        except MissingEntry:
            continue
        grade.auto_score = 0.0
    result.flags.append(f"{notebook_id}: the judge's verdicts are missing; its judged cells score 0")
    result.reasons.append(f"{notebook_id}: no verdict could be had from the graded notebook "
                          f"({type(why).__name__}); its judged cells score 0")


def record_ungradable(course: Course, student: str, assignment: str, result: SubmissionResult) -> None:
    """Nothing could be graded: the student is in the gradebook (no submission: score 0).
    A grade from an earlier, readable version of the submission is kept, and said so."""
    from nbgrader.api import MissingEntry

    with open_gradebook(course.db_url, write=True) as gb:
        gb.update_or_create_student(student)
        result.max_score = float(gb.find_assignment(assignment).max_score)
        try:
            earlier = gb.find_submission(assignment, student)
            result.score = float(earlier.score)
            result.reasons.append(f"the grade of an earlier, readable version ({result.score:g}) is kept")
        except MissingEntry:
            pass
