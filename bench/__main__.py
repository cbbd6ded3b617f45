"""``make bench``: how fast the labs run, how fast grading is, how the reference EM compares.

    python -m bench [--quick] [--only SECTION ...] [--out bench/results.md]

Prints one table per section and writes them all, with the machine's CPU count and the
versions used, to ``bench/results.md``; the log-log figure of cost against N goes beside
it (``bench/scaling.png``). Every row is the median of several runs with the spread
(min-max). ``--quick`` uses small sizes and one run (a smoke test, not a measurement).
This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "autograder"))

from bench import sections  # noqa: E402  (needs autograder/ on the path)

VERSIONS = ["numpy", "scipy", "scikit-learn", "nbgrader", "nbclient", "jupyterlab"]


def header() -> str:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in VERSIONS)
    return (f"# EM Lab benchmark\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs · "
            f"{platform.processor() or platform.machine()} · Python {platform.python_version()} · {versions}\n\n"
            "Each row: median of the runs, (min-max) after it. Ratios compare medians.\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: a smoke test")
    parser.add_argument("--only", nargs="+", choices=list(sections.SECTIONS), help="run only these sections")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md", help="where the table goes")
    args = parser.parse_args(argv)
    chosen = args.only or list(sections.SECTIONS)
    parts = [header()]
    for name in chosen:
        start = time.monotonic()
        print(f"== {name} ...", flush=True)
        text = sections.SECTIONS[name](ROOT, quick=args.quick, figure_dir=args.out.parent)
        text += f"\n_{name}: measured in {time.monotonic() - start:.0f} s._\n"
        print(text, flush=True)
        parts.append(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(parts))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
