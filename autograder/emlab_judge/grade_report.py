"""The instructor's grade report (``make grades``): what the gradebook and the judge say,
summed up for a person.

Written to ``autograder/report/``:

- ``grades.html``: per assignment, the score distribution and each question's (PNG
  figures in ``figures/``), the most common failure messages per question (the judge's
  words, as students see them in feedback), flagged submissions (tampering suspected) and
  ungradable ones with their reasons, late and on-time submissions against the
  assignment's due date (when one is set), each saying whether its time is one the student
  cannot write (the exchange's, :mod:`.lateness`) or the student's own ``timestamp.txt``;
- ``grades.json``: the same numbers, for scripts and tests.

Scores come from the gradebook (automatic, judged and manual grades, as nbgrader's
export); reasons, flags and messages from the harness's stored outcome of each
submission (``autograder/report/submissions/``).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .gradebook import open_gradebook
from .course import Course
from .results import SubmissionResult, stored_results
from .lateness import submission_timing
from .similarity import THRESHOLD, similar_pairs
from .safe_fs import write_atomic

__all__ = ["QuestionStats", "AssignmentStats", "collect", "write_grade_report", "TOP_MESSAGES"]

TOP_MESSAGES = 5  # failure messages listed per question


@dataclass
class QuestionStats:
    """One grade cell (autograded test or manually graded answer) of an assignment."""

    name: str
    notebook: str
    max_score: float
    kind: str  # "autograded" | "manual"
    full: int = 0       # submissions with every point
    partial: int = 0    # some points, not all
    zero: int = 0       # no point
    ungraded: int = 0   # awaiting a manual grade
    mean: float = 0.0   # mean points over the graded submissions
    failures: list[tuple[str, int]] = field(default_factory=list)  # (judge's message, submissions)


@dataclass
class AssignmentStats:
    name: str
    max_score: float
    duedate: str | None
    scores: dict[str, float] = field(default_factory=dict)        # student -> points
    questions: list[QuestionStats] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)                # student, timestamp, late_by_hours, late_by
    timing: list[dict] = field(default_factory=list)              # every verdict: student, timestamp, verdict,
    #                                 late_by_hours, source, trusted, note (lateness.submission_timing)
    flagged: list[dict] = field(default_factory=list)             # student, flags
    ungradable: list[dict] = field(default_factory=list)          # student, status, reasons
    missing: list[str] = field(default_factory=list)              # students in the gradebook without a submission
    similar: list[dict] = field(default_factory=list)             # first, second, first_share, second_share
    similarity_note: str = ""                                     # why no similarity was computed, if not

    @property
    def mean(self) -> float:
        return sum(self.scores.values()) / len(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        values = sorted(self.scores.values())
        if not values:
            return 0.0
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _message_key(message: str) -> str:
    """A failure message without what varies between students (numbers quoted from their
    output), so the same mistake counts once per student."""
    return re.sub(r"-?\d+\.\d+(?:e[-+]?\d+)?", "…", message)


def collect(course: Course, results: list[SubmissionResult] | None = None) -> list[AssignmentStats]:
    """Per-assignment statistics from the gradebook and the stored outcomes."""
    results = stored_results(course) if results is None else results
    by_pair = {(r.assignment, r.student): r for r in results}
    stats = []
    with open_gradebook(course.db_url) as gb:
        students = sorted(s.id for s in gb.students)
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            a = AssignmentStats(assignment.name, float(assignment.max_score),
                                assignment.duedate.isoformat(sep=" ", timespec="minutes") if assignment.duedate else None)
            questions: dict[tuple[str, str], QuestionStats] = {}
            for notebook in sorted(assignment.notebooks, key=lambda n: n.name):
                for cell in notebook.grade_cells:
                    kind = "autograded" if cell.cell_type == "code" else "manual"
                    questions[(notebook.name, cell.name)] = QuestionStats(cell.name, notebook.name,
                                                                          float(cell.max_score), kind)
            totals: dict[tuple[str, str], list[float]] = {k: [] for k in questions}
            submissions = {s.student.id: s for s in assignment.submissions}  # one query, not one per student
            for student in students:
                submission = submissions.get(student)
                if submission is None:
                    a.missing.append(student)
                    continue
                # after nbgrader's late penalty, as grades.csv and lms.csv show it
                a.scores[student] = max(0.0, float(submission.score) - float(submission.late_submission_penalty or 0.0))
                timing = submission_timing(course.submitted, student, assignment.name, submission.timestamp,
                                           assignment.duedate, submission.extension)
                a.timing.append({"student": student, **timing})
                if timing["verdict"] == "late":
                    a.late.append({"student": student, "timestamp": timing["timestamp"],
                                   "late_by_hours": timing["late_by_hours"], "late_by": timing["late_by"]})
                for nb_sub in submission.notebooks:
                    for grade in nb_sub.grades:
                        q = questions.get((nb_sub.name, grade.name))
                        if q is None:
                            continue
                        if grade.needs_manual_grade and grade.manual_score is None and q.kind == "manual":
                            q.ungraded += 1
                            continue
                        points = float(grade.score)
                        totals[(nb_sub.name, grade.name)].append(points)
                        if points >= q.max_score:
                            q.full += 1
                        elif points > 0:
                            q.partial += 1
                        else:
                            q.zero += 1
            for key, q in questions.items():
                q.mean = round(sum(totals[key]) / len(totals[key]), 3) if totals[key] else 0.0
                counts: Counter[str] = Counter()
                for (assignment_name, student), r in by_pair.items():
                    if assignment_name != assignment.name or student not in a.scores:
                        continue
                    for message in dict.fromkeys(_message_key(m) for m in r.messages.get(q.name, [])):
                        counts[message] += 1
                q.failures = counts.most_common(TOP_MESSAGES)
            a.questions = list(questions.values())
            for (assignment_name, student), r in sorted(by_pair.items()):
                if assignment_name != assignment.name:
                    continue
                flags = [f for f in r.flags if not f.startswith("UNSANDBOXED")]
                if flags:
                    a.flagged.append({"student": student, "flags": flags})
                if r.status in {"ungradable", "failed"}:
                    a.ungradable.append({"student": student, "status": r.status, "reasons": r.reasons})
            stats.append(a)
    for a in stats:
        notes: list[str] = []
        try:
            a.similar = [{"first": p.first, "second": p.second, "first_share": p.first_share,
                          "second_share": p.second_share} for p in similar_pairs(course, a.name, notes=notes)]
        except Exception as exc:   # a hint, never a reason for the report to fail
            notes.append(f"similarity not computed ({type(exc).__name__}: {exc})")
        a.similarity_note = "; ".join(notes[:20]) + (f"; and {len(notes) - 20} more" if len(notes) > 20 else "")
    return stats


# ---------------------------------------------------------------- figures

_RC = {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11,
       "legend.fontsize": 10, "xtick.labelsize": 10, "ytick.labelsize": 10, "axes.spines.top": False,
       "axes.spines.right": False}
_COLOURS = {"full points": "#2ca02c", "partial points": "#ff9f1c", "no points": "#d62728",
            "awaiting manual grade": "#b0b0b0"}


def _score_figure(a: AssignmentStats, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.5, 4))
        values = np.array(list(a.scores.values()), dtype=float)
        top = max(a.max_score, float(values.max()) if values.size else 0.0, 1.0)
        step = 0.5 if np.any(values % 1) and top <= 15 else max(1.0, float(np.ceil(top / 30)))
        bins = np.arange(-step / 2, top + step, step)  # one bar centred on each possible score
        ax.hist(values, bins=bins, color="#1f5fbf", edgecolor="white", label=f"{values.size} submissions")
        if values.size:
            ax.axvline(a.mean, color="black", linestyle="--", linewidth=1.5, label=f"mean {a.mean:.1f}")
            ax.axvline(a.median, color="#d62728", linestyle=":", linewidth=2, label=f"median {a.median:.1f}")
        ax.set_xlim(-step, top + step)
        ax.set_ylim(0, max(np.histogram(values, bins)[0].max() if values.size else 1, 1) * 1.1)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel(f"score (points, out of {a.max_score:g})")
        ax.set_ylabel("submissions")
        ax.set_title(f"{a.name}: total scores")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)


def _question_figure(a: AssignmentStats, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    with plt.rc_context(_RC):
        questions = a.questions[::-1]  # first question on top
        fig, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * max(len(questions), 1)))
        labels = [f"{q.name} ({q.max_score:g} pt{'s' if q.max_score != 1 else ''}"
                  f"{', written' if q.kind == 'manual' else ''})" for q in questions]
        left = np.zeros(len(questions))
        for label, attr in (("full points", "full"), ("partial points", "partial"), ("no points", "zero"),
                            ("awaiting manual grade", "ungraded")):
            counts = np.array([getattr(q, attr) for q in questions], dtype=float)
            if not counts.any():
                continue
            ax.barh(labels, counts, left=left, color=_COLOURS[label], label=label, edgecolor="white")
            for y, (x0, n) in enumerate(zip(left, counts)):
                if n:
                    ax.text(x0 + n / 2, y, f"{n:g}", ha="center", va="center", fontsize=9, color="black")
            left += counts
        ax.set_xlabel("submissions")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{a.name}: points per question")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)


# ---------------------------------------------------------------- HTML

def _e(value) -> str:
    return html.escape(str(value))


def _table(header: list[str], rows: list[list]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>\n{body}</table>"


def _time_basis(timing: dict) -> str:
    """What a late or on-time verdict rests on, in words (HTML)."""
    text = _e(timing["source"])
    if not timing["trusted"]:
        text += " <strong>(the student could have written it)</strong>"
    return text + (f"<br><em>{_e(timing['note'])}</em>" if timing["note"] else "")


def _html(stats: list[AssignmentStats], figures: dict[str, list[str]]) -> str:
    parts = ["<h1>EM Lab: grades</h1>",
             f"<p>Written {_e(dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}. Scores from the gradebook "
             "(automatic, judged and manual); reasons and failure messages from the grading harness. "
             "Grades for import: <code>grades.csv</code> (nbgrader's export) and <code>lms.csv</code>.</p>"]
    overview = [[_e(a.name), str(len(a.scores)), str(len(a.missing)), f"{a.mean:.2f} / {a.max_score:g}",
                 f"{a.median:g}", str(len(a.flagged)), str(len(a.ungradable)), str(len(a.late))] for a in stats]
    parts.append(_table(["assignment", "submissions", "missing", "mean", "median", "flagged", "ungradable", "late"],
                        overview))
    for a in stats:
        parts.append(f'<h2 id="{_e(a.name)}">{_e(a.name)}</h2>')
        due = f"due {_e(a.duedate)}" if a.duedate else "no due date set"
        parts.append(f"<p>{len(a.scores)} submission(s), {len(a.missing)} student(s) without one; mean "
                     f"{a.mean:.2f} of {a.max_score:g} points, median {a.median:g}; {due}.</p>")
        parts += [f'<img src="{_e(src)}" alt="{_e(alt)}">' for src, alt in figures.get(a.name, [])]
        parts.append("<h3>Questions</h3>")
        parts.append(_table(["question", "notebook", "kind", "points", "full", "partial", "none",
                             "awaiting grade", "mean"],
                            [[_e(q.name), _e(q.notebook), q.kind, f"{q.max_score:g}", str(q.full), str(q.partial),
                              str(q.zero), str(q.ungraded), f"{q.mean:g}"] for q in a.questions]))
        parts.append("<h3>Most common failures (the judge's messages)</h3>")
        rows = [[_e(q.name), _e(message), str(n)] for q in a.questions for message, n in q.failures]
        parts.append(_table(["question", "message", "submissions"], rows))
        parts.append("<h3>Flagged (tampering suspected)</h3>")
        parts.append(_table(["student", "why"], [[_e(f["student"]), "<br>".join(_e(x) for x in f["flags"])]
                                                for f in a.flagged]))
        parts.append("<h3>Ungradable or not fully graded</h3>")
        parts.append(_table(["student", "status", "reasons"],
                            [[_e(u["student"]), _e(u["status"]), "<br>".join(_e(x) for x in u["reasons"])]
                             for u in a.ungradable]))
        parts.append("<h3>Unusually similar answers</h3>")
        parts.append(f"<p>Pairs whose answer cells share at least {THRESHOLD:.0%} of their code both ways, once "
                     "names, comments and whitespace are set aside and the release's code and the model answer "
                     "are left out (copydetect). A hint for a human look, never a penalty: similar answers can be "
                     "honest.</p>" + (f"<p><em>{_e(a.similarity_note)}</em></p>" if a.similarity_note else ""))
        parts.append(_table(["student", "student", "shared (first, second)"],
                            [[_e(p["first"]), _e(p["second"]), f"{p['first_share']:.0%}, {p['second_share']:.0%}"]
                             for p in a.similar]))
        parts.append("<h3>Late submissions</h3>")
        if a.duedate is None:
            parts.append("<p><em>no due date set for this assignment</em> (<code>nbgrader db assignment add "
                         f"{_e(a.name)} --duedate=...</code>)</p>")
        else:
            parts.append(_table(["student", "submitted (UTC)", "late by", "time from"],
                                [[_e(x["student"]), _e(x["timestamp"]), _e(x["late_by"]), _time_basis(x)]
                                 for x in a.timing if x["verdict"] == "late"]))
            parts.append("<h3>On time (or with no time)</h3>")
            parts.append(_table(["student", "submitted (UTC)", "time from"],
                                [[_e(x["student"]), _e(x["timestamp"] or "no time"), _time_basis(x)]
                                 for x in a.timing if x["verdict"] != "late"]))
    body = "\n".join(parts)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>EM Lab: grades</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}}img{{display:block;margin:1em 0;
max-width:100%}}</style></head><body>
{body}
</body></html>
"""


def write_grade_report(course: Course, folder: Path | None = None) -> Path:
    """Write grades.html, grades.json and figures/*.png into ``folder`` (default
    ``autograder/report/``); return the HTML's path."""
    folder = Path(folder) if folder else course.autograder / "report"
    figdir = folder / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    stats = collect(course)
    figures: dict[str, list[str]] = {}
    for a in stats:
        scores, per_question = figdir / f"{a.name}-scores.png", figdir / f"{a.name}-questions.png"
        _score_figure(a, scores)
        _question_figure(a, per_question)
        figures[a.name] = [(f"figures/{scores.name}", f"{a.name}: histogram of total scores"),
                           (f"figures/{per_question.name}", f"{a.name}: full, partial and no points per question")]
    write_atomic(folder, "grades.json", json.dumps([{**asdict(a), "mean": a.mean, "median": a.median}
                                                    for a in stats], indent=1))
    write_atomic(folder, "grades.html", _html(stats, figures).encode("utf-8", "backslashreplace"))
    return folder / "grades.html"
