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
- attachments of markdown and raw cells (images pasted into a written answer) are kept,
  checked: a dict of name -> {MIME type: base64 string}; an entry that is not (a bad name,
  MIME type or base64 data) is dropped with a reason, and so is what goes over
  ``MAX_ATTACHMENT_BYTES`` per notebook (decoded). A markdown image that refers to an
  attachment the cell does not have (dropped, or never there) gets a placeholder image
  under that name: nbconvert (feedback, the formgrader) refuses a notebook with a missing
  attachment;
- deleted or emptied test cells are left to nbgrader (``OverwriteCells`` restores them from
  the gradebook, ``add_missing_cells`` re-inserts deleted ones), and reported here.

Each repair is a one-line reason in the grading report. The student's file is never
modified: the repaired copy is written elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from dataclasses import dataclass, field

import nbformat

__all__ = ["PreflightResult", "preflight", "source_cells", "MAX_ATTACHMENT_BYTES"]

MAX_ATTACHMENT_BYTES = 10 * 1024 ** 2  # decoded bytes of all attachments in one notebook
MAX_ATTACHMENT_NAME = 255
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_JSON_MIME = re.compile(r"application/(.*\+)?json")
_WHITESPACE = re.compile(rb"\s+")
# What a markdown image shows for an attachment that was not kept (no student text in it).
PLACEHOLDER_MIME = "image/svg+xml"
PLACEHOLDER = base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="360" height="40"><rect width="360" height="40" '
    b'fill="#eee" stroke="#999"/><text x="12" y="25" font-family="sans-serif" font-size="14" fill="#333">'
    b"attachment not kept by the grader (see the report)</text></svg>").decode("ascii")


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


# A cell's source and a notebook's: every later step (the tamper scan, the sanitiser, the
# kernel, feedback) reads them. A lab's release notebook holds under 50,000 characters in
# all, 5,000 in its largest cell.
MAX_CELL_SOURCE = 100_000
MAX_NOTEBOOK_SOURCE = 1_000_000
OVERSIZED_CODE = ("raise RuntimeError('The grader did not run this cell: its code is {size:,} characters long, "
                  "over the {limit:,} a cell may hold.')")
OVERSIZED_TEXT = "*(The grader did not keep this cell's text: {size:,} characters, over the {limit:,} a cell may hold.)*"


def _cap_source(cell, where: str, left: list[int], reasons: list[str]) -> None:
    """Replace the source of a cell over MAX_CELL_SOURCE, or past what is ``left`` of the
    notebook's MAX_NOTEBOOK_SOURCE (a one-item list, decreased), by a short stand-in that
    says so (a code cell raises an error when run): the cell stays, with its metadata."""
    size = len(cell.source)
    if size <= MAX_CELL_SOURCE and size <= left[0]:
        left[0] -= size
        return
    limit = MAX_CELL_SOURCE if size > MAX_CELL_SOURCE else left[0]
    template = OVERSIZED_CODE if cell.cell_type == "code" else OVERSIZED_TEXT
    cell.source = template.format(size=size, limit=limit)
    whole = "" if size > MAX_CELL_SOURCE else f" (the notebook's text is over {MAX_NOTEBOOK_SOURCE:,} characters)"
    reasons.append(f"{where}: {size:,} characters, over the {limit:,} a cell may hold{whole}; "
                   f"{'it raises an error instead of running' if cell.cell_type == 'code' else 'its text was dropped'}")


MAX_JSON_VALUES = 2_000_000  # a notebook's lists, objects and items: its memory once parsed


def _load(raw: bytes) -> tuple[dict | None, str | None]:
    # counted on the bytes before parsing (an over-count: separators in strings count too), so
    # that thirty million tiny values cannot take gigabytes of the grader's memory
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > MAX_JSON_VALUES:
        return None, (f"holds about {values:,} JSON values, over the {MAX_JSON_VALUES:,} a notebook may have "
                      "(stored outputs or metadata too large to read)")
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
    except ValueError as exc:  # a number with more digits than Python converts
        return None, f"not a notebook that can be read ({str(exc)[:120]})"
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
    # only nbgrader's own entry is kept (checked against the release below): anything else a
    # cell's metadata holds (a skip-execution tag, megabytes of a list) is the student's and
    # no step of grading needs it
    nbgrader_meta = metadata.get("nbgrader")
    cell.metadata = nbformat.from_dict({"nbgrader": copy.deepcopy(nbgrader_meta)} if isinstance(
        nbgrader_meta, dict) and len(json.dumps(nbgrader_meta, default=str)) < 10_000 else {})
    return cell


def _clean_attachments(raw, where: str, budget: list[int], reasons: list[str]) -> dict:
    """The valid attachments of one cell, within what is left of the notebook's ``budget``
    (a one-item list of bytes, decreased); a reason for each one dropped."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        reasons.append(f"{where}: attachments dropped (not a mapping of names to data)")
        return {}
    kept = {}
    for name, bundle in raw.items():
        label = repr(name[:60]) if isinstance(name, str) else "with a name that is not text"
        if not isinstance(name, str) or not name or len(name) > MAX_ATTACHMENT_NAME \
                or any(ord(c) < 32 or c == "\x7f" for c in name):
            reasons.append(f"{where}: attachment {label} dropped (not a valid attachment name)")
            continue
        if not isinstance(bundle, dict) or not bundle:
            reasons.append(f"{where}: attachment {label} dropped (no MIME type and data)")
            continue
        data = {}
        for mime, value in bundle.items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = "".join(value)
            if not isinstance(mime, str) or not _MIME.fullmatch(mime) or _JSON_MIME.fullmatch(mime):
                reasons.append(f"{where}: attachment {label}: MIME type {str(mime)[:60]!r} dropped (not a MIME type "
                               "with base64 data)")
                continue
            if not isinstance(value, str):
                reasons.append(f"{where}: attachment {label}: {mime} dropped (its data is not text)")
                continue
            if len(value) * 3 // 4 > budget[0] + 3:  # over the limit whatever it decodes to
                size = len(value) * 3 / 4
            else:
                try:
                    compact = _WHITESPACE.sub(b"", value.encode("ascii"))
                    size = len(base64.b64decode(compact, validate=True))
                except (UnicodeEncodeError, binascii.Error, ValueError):
                    reasons.append(f"{where}: attachment {label}: {mime} dropped (its data is not base64)")
                    continue
                value = compact.decode("ascii")
            if size > budget[0]:
                reasons.append(f"{where}: attachment {label}: {mime} ({size / 1024 ** 2:.1f} MB) dropped: the "
                               f"notebook's attachments are over the {MAX_ATTACHMENT_BYTES / 1024 ** 2:.0f} MB limit")
                continue
            budget[0] -= int(size)
            data[mime] = value
        if data:
            kept[name] = data
    return kept


class _LookedUp(dict):
    """Attachments as nbconvert's markdown renderer sees them, noting every name it asks for."""

    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def __contains__(self, name):
        self.names.append(name)
        return True

    def __getitem__(self, name):
        return {PLACEHOLDER_MIME: PLACEHOLDER}


def _referenced_attachments(markdown: str) -> set[str]:
    """The attachment names nbconvert looks up when it renders ``markdown`` (feedback and
    the formgrader render with it); any ``attachment:`` reference if it cannot render."""
    try:
        from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

        looked_up = _LookedUp()
        MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=looked_up)).render(markdown)
        return set(looked_up.names)
    except Exception:  # noqa: BLE001  (any student markdown: fall back to every reference)
        return set(re.findall(r"attachment:([^\s()<>\[\]\"']+)", markdown))


def _attach(cell, raw, where: str, budget: list[int], reasons: list[str]) -> None:
    """Give a markdown or raw cell its checked attachments (and placeholders)."""
    kept = _clean_attachments(raw.get("attachments"), where, budget, reasons)
    if cell.cell_type == "markdown" and "attachment:" in cell.source:
        missing = sorted(_referenced_attachments(cell.source) - set(kept))
        for name in missing:
            kept[name] = {PLACEHOLDER_MIME: PLACEHOLDER}
        if missing:
            reasons.append(f"{where}: the text shows attachment(s) the cell does not have "
                           f"({', '.join(repr(n[:60]) for n in missing[:5])}{', ...' if len(missing) > 5 else ''}); "
                           "a placeholder image is shown instead")
    if kept:
        cell.attachments = nbformat.from_dict(kept)


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
    budget = [MAX_ATTACHMENT_BYTES]
    left = [MAX_NOTEBOOK_SOURCE]
    for raw_cell in data["cells"]:
        cell = _clean_cell(raw_cell)
        if cell is None:
            dropped += 1
            continue
        _cap_source(cell, f"cell {len(cells) + 1}", left, reasons)
        if cell.cell_type in {"markdown", "raw"}:
            _attach(cell, raw_cell, f"cell {len(cells) + 1}", budget, reasons)
        elif raw_cell.get("attachments"):
            reasons.append(f"cell {len(cells) + 1}: attachments of a code cell dropped (only markdown and raw "
                           "cells have them)")
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
