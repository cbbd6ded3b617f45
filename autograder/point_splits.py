"""Write, under each lab's intro table, how each graded function's points are split over its
hidden cases (partial credit), from the hidden-check specs themselves.

    python -m autograder.point_splits [--check]

Each source notebook's first cell gets (or has replaced) one paragraph starting with
``SPLIT_HEADING``; ``--check`` writes nothing and exits 1 when a paragraph is missing or out of
date (tests/test_point_splits.py runs it), so a changed case is never left unexplained.
Run ``make release`` afterwards to carry the paragraph into the students' notebooks.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "autograder"))

from emlab_grader.cases import cases_for  # noqa: E402
from emlab_judge.verdicts import checked_functions  # noqa: E402

SPLIT_HEADING = "**How the points of a function are split.**"


def graded_functions(nb) -> list[tuple[str, str]]:
    """(assignment, function) of every hidden check in the notebook's test cells, in order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for pair in checked_functions(cell):
                if pair not in found:
                    found.append(pair)
    return found


def _shares(cases) -> str:
    weights = [Fraction(c.weight).limit_denominator(1000) for c in cases]
    if len(set(weights)) == 1:
        return f"{len(cases)} cases, equal shares"
    total = sum(weights)
    return f"{len(cases)} cases, shares " + ", ".join(str(w / total) for w in weights)


def split_paragraph(nb) -> str:
    """The paragraph for one lab, from its hidden-check specs."""
    parts = [f"`{function}` {_shares(cases_for(assignment, function))}"
             for assignment, function in graded_functions(nb)]
    return (f"{SPLIT_HEADING} When your work is graded, each function's points are shared among the "
            f"hidden cases it is run on, so a function right on some cases keeps their share: "
            + "; ".join(parts) + ". The feedback names every case your function got wrong, and why.")


def with_paragraph(text: str, paragraph: str) -> str:
    """``text`` (the intro cell) with the paragraph put after the intro's table, or replaced."""
    kept = [block for block in text.split("\n\n") if not block.startswith(SPLIT_HEADING)]
    at = next((i + 1 for i, block in enumerate(kept) if block.lstrip().startswith("| part")), len(kept))
    return "\n\n".join(kept[:at] + [paragraph] + kept[at:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if not graded_functions(nb):
            continue
        intro = nb.cells[0]
        wanted = with_paragraph(intro.source, split_paragraph(nb))
        if wanted != intro.source:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                intro.source = wanted
                nbformat.write(nb, path)
    for path in stale:
        print(f"{'out of date' if args.check else 'updated'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
