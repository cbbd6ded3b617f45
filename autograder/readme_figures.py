"""Figures for the README, taken from the stored outputs of the source notebooks (so they
are exactly what the labs draw, and nothing plots them twice). Run by ``make release``.

FIGURES maps a file under notebooks/figures/ to (source notebook, grade_id of the cell
whose first PNG output it is).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {
    "lab03_em_panel.png": ("solutions/03-old-faithful/old_faithful.ipynb", "bishop_grid"),
    "lab03_loglik.png": ("solutions/03-old-faithful/old_faithful.ipynb", "plot_loglik"),
}


def figure_bytes(notebook: Path, grade_id: str) -> bytes:
    """The first PNG output of the cell with ``grade_id`` in ``notebook``."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            for output in cell.get("outputs", []):
                if "image/png" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/png"])
            raise LookupError(f"{notebook}: cell {grade_id!r} has no PNG output (run and save the notebook)")
    raise LookupError(f"{notebook}: no cell with grade_id {grade_id!r}")


def main() -> int:
    out = ROOT / "notebooks" / "figures"
    out.mkdir(parents=True, exist_ok=True)
    for name, (notebook, grade_id) in FIGURES.items():
        (out / name).write_bytes(figure_bytes(ROOT / notebook, grade_id))
        print(f"wrote notebooks/figures/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
