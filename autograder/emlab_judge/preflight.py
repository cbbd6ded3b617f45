"""Checks and repairs a submitted notebook before nbgrader sees it.

Stock nbgrader aborts the whole batch on a duplicate ``grade_id`` or an unknown
``schema_version``, and trusts whatever nbgrader metadata a student's notebook carries.
Here every submitted notebook is compared with the release notebook the student was given
(trusted: generated from ``solutions/``, in ``notebooks/``) and:

- malformed JSON or a file that is not a notebook: nothing can be graded; the reason says
  where the file is broken;
- nbgrader metadata is rebuilt from the source: a cell whose ``grade_id`` the source does
  not have (a fake grade cell) becomes an ordinary cell; a cell whose role was changed (an
  answer cell turned into a grade cell, points raised, ``schema_version: 99``) gets the
  source's metadata back; of cells sharing a ``grade_id`` only the first of the source's
  type keeps it;
- outputs are dropped (they are recomputed), so an output flood in the file costs nothing;
- deleted or emptied test cells are left to nbgrader (``OverwriteCells`` restores them from
  the gradebook, ``add_missing_cells`` re-inserts deleted ones), and reported here.

Each repair is a one-line reason in the grading report. The student's file is never
modified: the repaired copy is written elsewhere.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import nbformat

__all__ = ["PreflightResult", "preflight", "source_cells"]


@dataclass
class PreflightResult:
    notebook: nbformat.NotebookNode | None
    reasons: list[str] = field(default_factory=list)
    fatal: str | None = None

    @property
    def gradable(self) -> bool:
        return self.notebook is not None


def source_cells(source: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """grade_id -> cell, for the nbgrader cells of the (trusted) source notebook."""
    out = {}
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id"):
            out[meta["grade_id"]] = cell
    return out


def _json_error(text: str, exc: json.JSONDecodeError) -> str:
    return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"


def _load(raw: bytes) -> tuple[dict | None, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, _json_error(text, exc)
    except RecursionError:
        return None, "JSON nested too deeply"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a Jupyter notebook (no list of cells)"
    return data, None


def _clean_cell(raw) -> nbformat.NotebookNode | None:
    if not isinstance(raw, dict) or raw.get("cell_type") not in {"code", "markdown", "raw"}:
        return None
    source = raw.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    if not isinstance(source, str):
        return None
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    if raw["cell_type"] == "code":
        cell = nbformat.v4.new_code_cell(source=source)
    elif raw["cell_type"] == "markdown":
        cell = nbformat.v4.new_markdown_cell(source=source)
    else:
        cell = nbformat.v4.new_raw_cell(source=source)
    cell.metadata = nbformat.from_dict(copy.deepcopy(metadata))
    return cell


def _keepers(cells, expected) -> dict[str, int]:
    """For each grade_id, the index of the one cell that keeps it: of the cells of the
    right type carrying it, the one whose source is the release's (a locked cell), else
    the last (a student who copied an answer cell means the later copy)."""
    keep: dict[str, int] = {}
    for gid, src in expected.items():
        candidates = [i for i, c in enumerate(cells)
                      if isinstance(c.metadata.get("nbgrader"), dict)
                      and c.metadata["nbgrader"].get("grade_id") == gid and c.cell_type == src.cell_type]
        if not candidates:
            continue
        same = [i for i in candidates if cells[i].source.strip() == src.source.strip()]
        keep[gid] = same[0] if same else candidates[-1]
    return keep


def preflight(raw: bytes, source: nbformat.NotebookNode) -> PreflightResult:
    """Check and repair one submitted notebook (its bytes) against the release notebook
    ``source`` (its nbgrader metadata, checksums included, are what the student got)."""
    data, error = _load(raw)
    if error:
        return PreflightResult(None, fatal=error)
    reasons: list[str] = []
    if len(raw) > 5_000_000:
        reasons.append(f"the file is {len(raw) / 1e6:.0f} MB, mostly stored output; stored outputs are dropped "
                       "(grading recomputes them)")
    cells = []
    dropped = 0
    for raw_cell in data["cells"]:
        cell = _clean_cell(raw_cell)
        if cell is None:
            dropped += 1
            continue
        cells.append(cell)
    if dropped:
        reasons.append(f"{dropped} malformed cell(s) dropped")

    expected = source_cells(source)
    keep = _keepers(cells, expected)
    restored: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        where = f"cell {index + 1}"
        if not isinstance(gid, str) or gid not in expected:
            del cell.metadata["nbgrader"]
            reasons.append(f"{where}: nbgrader metadata with unknown grade_id {gid!r} ignored (fake grade cell)")
            continue
        src = expected[gid]
        if keep.get(gid) != index:
            del cell.metadata["nbgrader"]
            if src.cell_type != cell.cell_type:
                reasons.append(f"{where}: grade_id {gid!r} on a {cell.cell_type} cell ignored")
            else:
                reasons.append(f"{where}: duplicate grade_id {gid!r} ignored (cell {keep[gid] + 1} keeps it)")
            continue
        trusted = copy.deepcopy(dict(src.metadata["nbgrader"]))
        for key in sorted(k for k in set(trusted) | set(meta) if meta.get(k) != trusted.get(k)):
            restored.setdefault(key, []).append(index + 1)
        cell.metadata["nbgrader"] = nbformat.from_dict(trusted)
        if src.metadata["nbgrader"].get("locked") and cell.source.strip() != src.source.strip():
            reasons.append(f"{gid}: locked cell was edited; restored from the release")
    for key, where in restored.items():
        cells_text = ", ".join(map(str, where[:6])) + (", ..." if len(where) > 6 else "")
        reasons.append(f"nbgrader metadata {key!r} restored from the release in cell(s) {cells_text}")
    seen = set(keep)

    for gid, src in expected.items():
        if gid not in seen and src.metadata["nbgrader"].get("grade") and not src.metadata["nbgrader"].get("solution"):
            reasons.append(f"{gid}: test cell was deleted or stripped; restored from the source")

    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict(copy.deepcopy(dict(source.metadata)))
    nb.metadata.pop("widgets", None)
    return PreflightResult(nb, reasons)
