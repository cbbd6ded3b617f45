"""The grading report: one row per submission, with its score, flags and reasons.

Everything in a row can come from a submission (a student id is a folder name; reasons,
flags and the judge's messages quote exception text), so it is escaped: in report.md
each table cell is one line of inert text (HTML escaped, markdown's link and table
characters backslash-escaped, newlines as ``<br>``); in report.html every value is
HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

from .results import SubmissionResult
from .safe_fs import write_atomic
from .sandbox import sandbox_status

__all__ = ["write_report", "md_text", "html_text", "printable"]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")  # code, emphasis, links and images, cells
_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


def md_text(value) -> str:
    """``value`` as text inside a markdown table cell: ``<``, ``>`` and ``&`` as entities
    (no raw HTML, no autolink), backslash before each of \\ ` * _ [ ] | (no code span,
    emphasis, link, image or cell break), ``<br>`` for each line break (the row stays one
    line), control characters dropped."""
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x7f]", "", str(value))
    lines = [html.escape(_MD_SPECIAL.sub(r"\\\1", line), quote=False) for line in _NEWLINES.split(text)]
    return "<br>".join(lines)


def printable(value) -> str:
    """``value`` safe to print on a terminal: every character that is not printable (an
    escape sequence that would move the cursor or rewrite a line, a line break, a
    right-to-left override) shown as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(value))


def html_text(value) -> str:
    """``value`` escaped for HTML text, its lines kept apart with ``<br>``."""
    return "<br>".join(html.escape(line) for line in _NEWLINES.split(str(value)))


def _status(r: SubmissionResult) -> str:
    return r.status + ("" if r.sandboxed else " (UNSANDBOXED)")


def _run_summary(results: list[SubmissionResult]) -> str:
    """This run in one line: how many submissions, by status."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"this run: {len(results)} submission(s)" + (f" ({parts})" if parts else "")


def _markdown(results: list[SubmissionResult], sandboxed: bool, why: str, run: list[SubmissionResult]) -> str:
    lines = ["# EM Lab grading report", "", f"Written {time.strftime('%Y-%m-%d %H:%M:%S')}: "
             f"{len(results)} submission(s), each with its latest result from every run and shard; "
             f"{md_text(_run_summary(run))}.", ""]
    if sandboxed:
        lines += [f"Kernels ran in the sandbox ({md_text(why)}).", ""]
    else:
        lines += [f"**UNSANDBOXED: student code ran without the sandbox ({md_text(why)}). Student code could read "
                  "the grader's files; treat these grades with suspicion.**", ""]
    flagged = [r for r in results if r.flags and any(not f.startswith("UNSANDBOXED") for f in r.flags)]
    failed = [r for r in results if r.status not in {"graded", "unchanged"}]
    in_run = {(r.student, r.assignment) for r in run}
    lines += [f"Flagged: {len(flagged)}. Not fully graded: {len(failed)}.", "",
              "| student | assignment | status | score | flags | reasons | this run |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        flags = "<br>".join(md_text(f) for f in r.flags if not f.startswith("UNSANDBOXED"))
        reasons = "<br>".join(md_text(x) for x in r.reasons)
        mark = "yes" if (r.student, r.assignment) in in_run else ""
        lines.append(f"| {md_text(r.student)} | {md_text(r.assignment)} | {md_text(_status(r))} | "
                     f"{r.score:g} / {r.max_score:g} | {flags} | {reasons} | {mark} |")
    return "\n".join(lines) + "\n"


def _html(results: list[SubmissionResult], sandboxed: bool, why: str, run: list[SubmissionResult]) -> str:
    in_run = {(r.student, r.assignment) for r in run}
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html_text(v)}</td>" for v in
                         (r.student, r.assignment, _status(r), f"{r.score:g} / {r.max_score:g}")) +
        "<td>" + "<br>".join(html_text(f) for f in r.flags if not f.startswith("UNSANDBOXED")) + "</td>" +
        "<td>" + "<br>".join(html_text(x) for x in r.reasons) + "</td>" +
        f"<td>{'yes' if (r.student, r.assignment) in in_run else ''}</td></tr>"
        for r in results)
    banner = (f"<p>Kernels ran in the sandbox ({html_text(why)}).</p>" if sandboxed else
              f"<p><strong>UNSANDBOXED: student code ran without the sandbox ({html_text(why)}).</strong></p>")
    summary = (f"<p>{len(results)} submission(s), each with its latest result from every run and shard; "
               f"{html_text(_run_summary(run))}.</p>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>EM Lab grading report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}</style></head><body>
<h1>EM Lab grading report</h1>{summary}{banner}
<table><tr><th>student</th><th>assignment</th><th>status</th><th>score</th><th>flags</th><th>reasons</th>
<th>this run</th></tr>
{rows}</table></body></html>
"""


def write_report(results: list[SubmissionResult], folder: Path,
                 latest: list[SubmissionResult] | None = None) -> Path:
    """Write report.md, report.html and results.json into ``folder``; return report.md.

    results : this run's outcomes (results.json holds exactly these)
    latest : every submission's latest stored outcome, from every run and shard
        (:func:`.results.stored_results`); report.md and report.html list these, this run's
        outcomes replacing their stored copies, and mark which this run graded. Without it they
        list this run's alone."""
    folder.mkdir(parents=True, exist_ok=True)
    sandboxed, why = sandbox_status()
    results = [r.bound() for r in results]
    merged = {(r.assignment, r.student): r for r in (latest or [])}
    merged.update({(r.assignment, r.student): r for r in results if r.status != "unchanged"
                   or (r.assignment, r.student) not in merged})
    shown = [merged[key].bound() for key in sorted(merged)]
    outside = sum(not r.sandboxed for r in shown)
    if outside:   # an earlier run or shard graded without the sandbox: say so whatever this machine can do
        sandboxed, why = False, f"{outside} of these submission(s) were graded without it; " + why
    for name, text in (("results.json", json.dumps([r.to_json() for r in results], indent=1)),
                       ("report.html", _html(shown, sandboxed, why, results)),
                       ("report.md", _markdown(shown, sandboxed, why, results))):
        write_atomic(folder, name, text.encode("utf-8", "backslashreplace"))
    return folder / "report.md"
