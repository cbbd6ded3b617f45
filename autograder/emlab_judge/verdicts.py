"""Verdicts reached outside the kernel, from the outputs the kernel recorded.

For each autograded test cell whose (trusted) source calls ``check(assignment, function,
...)``, the judge regenerates that function's hidden-check inputs, decodes what the
student's function returned on each (:mod:`emlab_grader.record`), and compares it with
the reference (:mod:`emlab_judge.judge`). It never runs student code.

The cell earns its points when every function it checks is right on every case. Where
the notebook's own verdict (nbgrader's score for the cell) disagrees, the judge wins; the
submission is flagged "tampering suspected" when the notebook claimed a pass that its own
in-kernel checks could not have given: a record missing, duplicated or malformed, or an
output that fails the in-kernel property checks (shape, rows summing to one, ...), which
means those checks were interfered with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nbformat

from emlab_grader.cases import cases_for
from emlab_grader.properties import property_problem
from emlab_grader.record import MIME, RecordError, decode

from .judge import judge

__all__ = ["CellVerdict", "judge_notebook", "checked_functions"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']""")


@dataclass
class CellVerdict:
    grade_id: str
    points: float
    functions: list[tuple[str, str]]
    score: float = 0.0
    messages: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.score == self.points


def checked_functions(source_cell) -> list[tuple[str, str]]:
    """(assignment, function) pairs a source test cell's hidden tests check."""
    return _CHECK_CALL.findall(source_cell.source)


def _records_in(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in {"display_data", "execute_result"}
            and MIME in o.get("data", {})]


def shorten(text, limit: int) -> str:
    """``text`` on one line, cut at the last word boundary before ``limit`` characters
    (then " …"): a summary that never ends mid-word."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


def _cell_errored(cell) -> str:
    """What stopped the cell: its first error ("ValueError: ..."), else the first line of
    what it wrote on stderr, or "" when it shows neither. An error is named before any
    stderr text that came first (a warning printed before the failing assertion)."""
    outputs = cell.get("outputs", [])
    for o in outputs:
        if o.get("output_type") == "error":
            return shorten(f"{o.get('ename', 'an error')}: {o.get('evalue', '')}".rstrip(": "), 200)
    for o in outputs:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            first = next((line for line in text.splitlines() if line.strip()), "")
            return f"output on stderr ({shorten(first, 160)})" if first else "output on stderr"
    return ""


def _judge_function(assignment, function, records, cell_errored) -> tuple[bool, str | None, str | None]:
    """(passed, message for the student, tampering reason)."""
    mine = []
    for output in records:
        payload = output["data"][MIME]
        if isinstance(payload, dict) and payload.get("assignment") == assignment and payload.get("function") == function:
            mine.append(payload)
    if not mine:
        if cell_errored:
            return False, f"{function}: the test cell stopped with {cell_errored} before the hidden checks ran.", None
        return False, f"{function}: the hidden checks did not run to completion.", (
            f"{function}: the test cell shows no error but its hidden checks left no record")
    if len(mine) > 1:
        return False, f"{function}: the hidden checks were recorded more than once.", (
            f"{function}: {len(mine)} records in one test cell (only the grader writes one)")
    entries = mine[0].get("cases")
    cases = cases_for(assignment, function)
    if not isinstance(entries, list) or len(entries) != len(cases):
        return False, f"{function}: the hidden checks did not run on every case.", (
            None if cell_errored else f"{function}: the record does not cover every hidden case")
    for case, entry in zip(cases, entries):
        if not isinstance(entry, dict):
            return False, f"{function}: malformed record.", f"{function}: malformed record"
        status = entry.get("status")
        if status == "raised":
            return False, f"{function} raised {shorten(entry.get('error', 'an exception'), 300)} on hidden case '{case.label}'.", None
        if status == "modified":
            names = ", ".join(map(str, entry.get("modified", [])))
            return False, (f"{function} modified its argument(s) {names} on hidden case '{case.label}'; a function "
                           "must not change the arrays it is given."), None
        if status != "ok":
            return False, f"{function}: malformed record.", f"{function}: record with status {status!r}"
        try:
            output = decode(entry.get("output"))
        except RecordError as exc:
            return False, f"{function}: malformed record.", f"{function}: {exc}"
        problem = property_problem(assignment, function, case.kwargs, output)
        if problem:
            tamper = None if cell_errored else (
                f"{function}: the notebook's test passed although its own check fails: {problem}")
            return False, f"{function}, hidden case '{case.label}': {problem}", tamper
        verdict = judge(assignment, function, case.kwargs, output)
        if not verdict.ok:
            return False, f"{function}, hidden case '{case.label}': {verdict.message}", None
    return True, None, None


def judge_notebook(autograded: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[CellVerdict]:
    """A verdict for every source test cell that makes hidden checks."""
    by_id = {}
    for cell in autograded.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid and gid not in by_id:
            by_id[gid] = cell
    verdicts = []
    for src in source.cells:
        meta = src.get("metadata", {}).get("nbgrader", {})
        functions = checked_functions(src) if meta.get("grade") and src.cell_type == "code" else []
        if not functions:
            continue
        v = CellVerdict(meta["grade_id"], float(meta.get("points", 0)), functions)
        cell = by_id.get(meta["grade_id"])
        if cell is None:
            v.messages.append("the test cell is missing from the graded notebook")
            verdicts.append(v)
            continue
        records, errored = _records_in(cell), _cell_errored(cell)
        ok_all = True
        for assignment, function in functions:
            try:
                ok, message, tamper = _judge_function(assignment, function, records, errored)
            except Exception as exc:  # whatever the record holds, the verdict is reached: 0, flagged
                ok, message = False, f"{function}: its record could not be judged."
                tamper = f"{function}: a record the judge could not read ({type(exc).__name__})"
            ok_all &= ok
            if message:
                v.messages.append(message)
            if tamper:
                v.tampering.append(tamper)
        v.score = v.points if ok_all else 0.0
        verdicts.append(v)
    return verdicts

