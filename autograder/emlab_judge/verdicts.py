"""Verdicts reached outside the kernel, from the outputs the kernel recorded.

For each autograded test cell whose (trusted) source calls ``check(assignment, function,
...)``, the judge regenerates that function's hidden-check inputs, decodes what the
student's function returned on each (:mod:`emlab_grader.record`), and compares it with
the reference (:mod:`emlab_judge.judge`). It never runs student code.

Partial credit: a function's share of the cell's points is split over its hidden cases by
their weights (:class:`emlab_grader.cases.Case`), and the cell scores the sum of what each
function earned (the cell's points shared equally between the functions it checks). A
function right on ordinary data and wrong only on the far point keeps the ordinary cases'
points; every failing case is named with its reason. Where a record is missing, duplicated
or malformed, the function earns nothing from that cell. Where
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
from .text import one_line

__all__ = ["CellVerdict", "FunctionVerdict", "judge_notebook", "checked_functions", "cell_score", "shorten"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']""")


@dataclass
class CellVerdict:
    """The judge's verdict on one test cell: ``score`` of ``points``; ``messages`` every
    failing case's reason (for the student); ``tampering`` signs of interference (for the
    instructor); ``cases`` per function, how many hidden cases it got right of how many."""

    grade_id: str
    points: float
    functions: list[tuple[str, str]]
    score: float = 0.0
    messages: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    cases: dict[str, list[int]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.score == self.points

    @property
    def partial(self) -> bool:
        return 0 < self.score < self.points


@dataclass
class FunctionVerdict:
    """One function's hidden cases judged: the share of its points earned (0 to 1), how many
    cases were right of how many, the reasons of the failing ones, a tampering sign."""

    fraction: float
    right: int
    total: int
    messages: list[str] = field(default_factory=list)
    tampering: str | None = None


def checked_functions(source_cell) -> list[tuple[str, str]]:
    """(assignment, function) pairs a source test cell's hidden tests check."""
    return _CHECK_CALL.findall(source_cell.source)


def _records_in(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in {"display_data", "execute_result"}
            and MIME in o.get("data", {})]


def shorten(text, limit: int) -> str:
    """``text`` on one line, cut at the last word boundary before ``limit`` characters
    (then " …"): a summary that never ends mid-word."""
    return one_line(text, limit)


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


def _judge_function(assignment, function, records, cell_errored) -> FunctionVerdict:
    """Judge every hidden case of ``function`` from its record in the cell."""
    cases = cases_for(assignment, function)
    total = len(cases)

    def nothing(message, tamper=None):
        return FunctionVerdict(0.0, 0, total, [message], tamper)

    mine = []
    for output in records:
        payload = output["data"][MIME]
        if isinstance(payload, dict) and payload.get("assignment") == assignment and payload.get("function") == function:
            mine.append(payload)
    if not mine:
        if cell_errored:
            return nothing(f"{function}: the test cell stopped with {cell_errored} before the hidden checks ran.")
        return nothing(f"{function}: the hidden checks did not run to completion.",
                       f"{function}: the test cell shows no error but its hidden checks left no record")
    if len(mine) > 1:
        return nothing(f"{function}: the hidden checks were recorded more than once.",
                       f"{function}: {len(mine)} records in one test cell (only the grader writes one)")
    entries = mine[0].get("cases")
    if not isinstance(entries, list) or len(entries) != total:
        return nothing(f"{function}: the hidden checks did not run on every case.",
                       None if cell_errored else f"{function}: the record does not cover every hidden case")
    if not all(isinstance(entry, dict) for entry in entries):
        return nothing(f"{function}: malformed record.", f"{function}: malformed record")
    earned, right, messages, tamper = 0.0, 0, [], None
    for case, entry in zip(cases, entries):
        status = entry.get("status")
        if status == "raised":
            messages.append(f"{function} raised {shorten(entry.get('error', 'an exception'), 300)} "
                            f"on hidden case '{case.label}'.")
            continue
        if status == "modified":
            names = ", ".join(map(str, entry.get("modified", [])))
            messages.append(f"{function} modified its argument(s) {names} on hidden case '{case.label}'; a function "
                            "must not change the arrays it is given.")
            continue
        if status != "ok":
            return nothing(f"{function}: malformed record.", f"{function}: record with status {status!r}")
        try:
            output = decode(entry.get("output"))
        except RecordError as exc:
            return nothing(f"{function}: malformed record.", f"{function}: {exc}")
        problem = property_problem(assignment, function, case.kwargs, output)
        if problem:
            if not cell_errored and tamper is None:
                tamper = f"{function}: the notebook's test passed although its own check fails: {problem}"
            messages.append(f"{function}, hidden case '{case.label}': {problem}")
            continue
        verdict = judge(assignment, function, case.kwargs, output)
        if not verdict.ok:
            messages.append(f"{function}, hidden case '{case.label}': {verdict.message}")
            continue
        earned += case.weight
        right += 1
    weights = sum(case.weight for case in cases)
    fraction = earned / weights if weights > 0 else 0.0
    return FunctionVerdict(fraction, right, total, messages, tamper)


def cell_score(points: float, fractions: list[float]) -> float:
    """The cell's points shared equally between its functions, each scaled by the share of
    its hidden cases it got right; rounded down to a hundredth of a point (never more than
    earned), exact when every case is right."""
    import math

    if not fractions:
        return 0.0
    if all(f == 1.0 for f in fractions):
        return float(points)
    return math.floor(points * sum(fractions) / len(fractions) * 100 + 1e-9) / 100


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
        fractions = []
        for assignment, function in functions:
            try:
                fv = _judge_function(assignment, function, records, errored)
            except Exception as exc:  # whatever the record holds, the verdict is reached: 0, flagged
                fv = FunctionVerdict(0.0, 0, 0, [f"{function}: its record could not be judged."],
                                     f"{function}: a record the judge could not read ({type(exc).__name__})")
            fractions.append(fv.fraction)
            v.cases[function] = [fv.right, fv.total]
            v.messages.extend(fv.messages)
            if fv.tampering:
                v.tampering.append(fv.tampering)
        v.score = cell_score(v.points, fractions)
        verdicts.append(v)
    return verdicts

