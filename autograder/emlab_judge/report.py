"""The grading report: one row per submission, with its score, flags and reasons."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from .harness import SubmissionResult
from .sandbox import sandbox_status

__all__ = ["write_report"]


def _markdown(results: list[SubmissionResult], sandboxed: bool, why: str) -> str:
    lines = ["# EM Lab grading report", "", f"Graded {time.strftime('%Y-%m-%d %H:%M:%S')}: "
             f"{len(results)} submission(s).", ""]
    if sandboxed:
        lines += [f"Kernels ran in the sandbox ({why}).", ""]
    else:
        lines += [f"**UNSANDBOXED: student code ran without the sandbox ({why}). Student code could read "
                  "the grader's files; treat these grades with suspicion.**", ""]
    flagged = [r for r in results if r.flags and any(not f.startswith("UNSANDBOXED") for f in r.flags)]
    failed = [r for r in results if r.status not in {"graded", "unchanged"}]
    lines += [f"Flagged: {len(flagged)}. Not fully graded: {len(failed)}.", "",
              "| student | assignment | status | score | flags | reasons |", "|---|---|---|---|---|---|"]
    for r in results:
        flags = "<br>".join(f for f in r.flags if not f.startswith("UNSANDBOXED")) or ""
        reasons = "<br>".join(r.reasons) or ""
        lines.append(f"| {r.student} | {r.assignment} | {r.status} | {r.score:g} / {r.max_score:g} | "
                     f"{flags.replace('|', '/')} | {reasons.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def _html(results: list[SubmissionResult], sandboxed: bool, why: str) -> str:
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in
                         (r.student, r.assignment, r.status, f"{r.score:g} / {r.max_score:g}")) +
        "<td>" + "<br>".join(html.escape(f) for f in r.flags if not f.startswith("UNSANDBOXED")) + "</td>" +
        "<td>" + "<br>".join(html.escape(x) for x in r.reasons) + "</td></tr>"
        for r in results)
    banner = (f"<p>Kernels ran in the sandbox ({html.escape(why)}).</p>" if sandboxed else
              f"<p><strong>UNSANDBOXED: student code ran without the sandbox ({html.escape(why)}).</strong></p>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>EM Lab grading report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}</style></head><body>
<h1>EM Lab grading report</h1>{banner}
<table><tr><th>student</th><th>assignment</th><th>status</th><th>score</th><th>flags</th><th>reasons</th></tr>
{rows}</table></body></html>
"""


def write_report(results: list[SubmissionResult], folder: Path) -> Path:
    """Write report.md, report.html and results.json into ``folder``; return report.md."""
    folder.mkdir(parents=True, exist_ok=True)
    sandboxed, why = sandbox_status()
    (folder / "results.json").write_text(json.dumps([r.to_json() for r in results], indent=1))
    (folder / "report.html").write_text(_html(results, sandboxed, why))
    path = folder / "report.md"
    path.write_text(_markdown(results, sandboxed, why))
    return path
