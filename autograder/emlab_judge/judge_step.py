"""The judge as a step of nbgrader's autograde pipeline: verdicts on the notebook in memory.

:class:`JudgeVerdicts` runs after the kernel (``ResilientExecute``) and before
``SaveAutoGrades``. The notebook it judges is the one nbgrader's executor built from the
kernel's messages: no file the kernel could write is ever read, so a notebook deleted,
replaced by a folder or a FIFO from a cell changes nothing. Every way of autograding this
course runs this pipeline (``make autograde`` and, through :mod:`.nbgrader_hook`, the
formgrader's button and ``nbgrader autograde``), so all give the same verdicts.
"""

from __future__ import annotations

import json
import os
import time

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from emlab_grader.record import MIME

from .verdicts import CellVerdict, judge_notebook

__all__ = ["JudgeVerdicts", "judge_in_memory"]


def _score_before(cell) -> float:
    """What nbgrader would give the cell as executed: the kernel's own verdict."""
    from nbgrader.utils import determine_grade

    try:
        score, _ = determine_grade(cell)
    except Exception:
        return 0.0
    return float(score or 0.0)


def _summary(verdict: CellVerdict) -> str:
    """What the student reads under a test cell that earned part of its points: the score,
    each function's cases right, every failing case's reason."""
    counts = "; ".join(f"{function}: {right} of {total} hidden cases right"
                       for function, (right, total) in verdict.cases.items())
    lines = [f"Partial credit: {verdict.score:g} of {verdict.points:g} points ({counts})."]
    lines += [f"  - {message}" for message in verdict.messages]
    return "\n".join(lines) + "\n"


def _settle_outputs(cell, verdict: CellVerdict) -> list:
    """Make the cell's outputs say the judge's verdict, so that nbgrader's SaveAutoGrades
    (which reads outputs: an error or stderr means 0, a number returned means that many
    points, anything else full points) records the judge's score and nothing else.

    Passed: the records, errors and stderr taken out. Partly right: those and every error
    taken out, a summary naming each failing case printed, the score returned last. Failed:
    an error first (the judge's first reason). Returns the records taken out of the cell."""
    records = [o["data"][MIME] for o in cell.get("outputs", []) if MIME in o.get("data", {})]
    kept = []
    for o in cell.get("outputs", []):
        if MIME in o.get("data", {}) or o.get("output_type") == "execute_result":
            continue  # a record, or a returned value nbgrader would read as partial credit
        if o.get("output_type") == "error":
            if verdict.passed or verdict.partial:
                continue
            # a traceback quotes the hidden test's source: keep the message only
            o["traceback"] = [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}"]
        if o.get("output_type") == "stream" and o.get("name") == "stderr" and (verdict.passed or verdict.partial):
            continue
        kept.append(o)
    if verdict.partial:
        kept.append(nbformat.v4.new_output("stream", name="stdout", text=_summary(verdict)))
        kept.append(nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(verdict.score))},
                                           execution_count=cell.get("execution_count")))
    elif not verdict.passed:
        shown = " ".join(str(o.get("evalue", "")) for o in kept if o.get("output_type") == "error")
        failures = [nbformat.v4.new_output("error", ename="HiddenCheckFailed", evalue=m,
                                           traceback=[f"HiddenCheckFailed: {m}"])
                    for m in verdict.messages if m not in shown]
        if not failures and not any(o.get("output_type") == "error" for o in kept):
            failures = [nbformat.v4.new_output("error", ename="HiddenCheckFailed", evalue="the hidden checks failed",
                                               traceback=["HiddenCheckFailed: the hidden checks failed"])]
        kept = failures[:1] + kept + failures[1:]  # an error first: nbgrader scores the cell 0
    cell.outputs = kept
    return records


class JudgeVerdicts(NbGraderPreprocessor):
    """nbgrader preprocessor (in ``Autograde.autograde_preprocessors``, after the kernel
    has run and before ``SaveAutoGrades``): the judge's verdict on every test cell that
    makes hidden checks, reached from the notebook nbgrader holds in memory, never from a
    file the kernel could write.

    Each judged cell's outputs are settled to the verdict (records removed, an error first
    when it failed), so the gradebook gets the judge's score; the kernel's own verdict, the
    judge's messages, tampering signs, records and incidents go to
    ``$EMLAB_JUDGE_OUT/<notebook>.json`` for the harness (a folder of the grader's that no
    kernel can reach). The source notebook is read from ``course_root/solutions``.
    """

    course_root = Unicode(os.environ.get("EMLAB_COURSE_ROOT", ""),
                          help="the course folder (holds solutions/)").tag(config=True)

    def preprocess(self, nb, resources):
        return judge_in_memory(nb, resources, self.course_root)


def judge_in_memory(nb, resources, course_root: str):
    """Judge ``nb`` (as executed, in memory) against its source notebook; see JudgeVerdicts."""
    from pathlib import Path

    from .execute import incidents
    from .safe_fs import write_atomic

    started = time.monotonic()
    info = resources.get("nbgrader", {})
    assignment, notebook_id = info.get("assignment"), info.get("notebook")
    root = Path(course_root or Path(__file__).resolve().parents[2])
    source_path = root / "solutions" / str(assignment) / f"{notebook_id}.ipynb"
    source = nbformat.read(source_path, as_version=4)
    verdicts = judge_notebook(nb, source)
    by_id = {}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid and gid not in by_id:
            by_id[gid] = cell
    out = {"assignment": assignment, "notebook": notebook_id, "verdicts": [], "records": {},
           "incidents": incidents(nb)}
    for v in verdicts:
        cell = by_id.get(v.grade_id)
        before = _score_before(cell) if cell is not None and cell.get("metadata", {}).get("nbgrader", {}).get(
            "grade") else 0.0
        if cell is not None:
            out["records"][v.grade_id] = _settle_outputs(cell, v)
        out["verdicts"].append({**v.__dict__, "functions": [list(f) for f in v.functions], "notebook_score": before})
    out["timing"] = {**{k: v for k, v in dict(resources.get("emlab_timing") or {}).items()
                        if isinstance(v, (int, float))},
                     "judge": round(time.monotonic() - started, 3)}
    folder = os.environ.get("EMLAB_JUDGE_OUT")
    if folder:
        write_atomic(folder, f"{notebook_id}.json", json.dumps(out, default=str))
    return nb, resources
