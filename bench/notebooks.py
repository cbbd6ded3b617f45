"""Each source notebook's execution time in a fresh kernel (nbclient), as a student's
*Restart and Run All* would see it, and the whole set. Targets on 2 cores: every lab
under 20 s, the set under 60 s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .measure import Timing, time_runs

__all__ = ["NotebookRow", "notebook_times", "LAB_TARGET_S", "SET_TARGET_S"]

LAB_TARGET_S = 20.0
SET_TARGET_S = 60.0


@dataclass(frozen=True)
class NotebookRow:
    notebook: str
    timing: Timing

    @property
    def within_target(self) -> bool:
        return self.timing.median < LAB_TARGET_S


def _run(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def notebook_times(root: Path, runs: int = 3) -> list[NotebookRow]:
    """One row per ``solutions/*/*.ipynb`` (kernel start included)."""
    autograder = str(root / "autograder")
    if autograder not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [autograder, os.environ.get("PYTHONPATH")] if p)
    os.environ.setdefault("MPLBACKEND", "Agg")
    rows = []
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        rows.append(NotebookRow(str(path.relative_to(root)), time_runs(lambda p=path: _run(p), runs)))
    return rows
