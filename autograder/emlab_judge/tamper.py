"""Signs, in a submission's code, of an attempt to interfere with grading.

The judge's verdict does not depend on this scan: it compares recorded outputs with the
reference, so a patched ``np.allclose`` changes nothing. The scan tells the instructor
*why* a notebook's own test cells and the judge disagreed, or that a submission tried,
so that the report can flag it "tampering suspected" with the line that did it.

It reads the student's cells with :mod:`ast` (never runs them) and reports:

- assignments to, ``setattr`` on, or ``del`` of attributes of numpy, scipy, sklearn,
  builtins, sys, IPython, emlab or the grading API (replacing the functions checks use);
- ``get_ipython().set_custom_exc(...)``, ``sys.settrace``/``sys.setprofile``, and event
  hooks (``events.register``), which can swallow or rewrite test errors;
- reading the caller's frames (``inspect.currentframe``, ``sys._getframe``, ``f_back``,
  ``f_locals``) or the input history (``In``, ``_ih``, ``Out``, ``_oh``);
- looking up the grader (``sys.modules``, names of the grading packages).
"""

from __future__ import annotations

import ast

__all__ = ["scan_source", "scan_notebook"]

WATCHED_MODULES = {"np", "numpy", "scipy", "sp", "sklearn", "builtins", "__builtins__", "sys", "IPython",
                   "emlab", "emlab_grader", "emlab_judge", "testing", "special", "stats", "linalg", "npt"}
GRADER_NAMES = {"emlab_grader", "emlab_judge", "reference", "solutions", "autograder"}
HISTORY_NAMES = {"In", "_ih", "Out", "_oh"}
FRAME_ATTRS = {"f_back", "f_locals", "f_globals", "tb_frame", "gi_frame"}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


class _Finder(ast.NodeVisitor):
    def __init__(self):
        self.found: list[tuple[int, str]] = []

    def _add(self, node, what):
        self.found.append((getattr(node, "lineno", 0), what))

    def _target(self, target, verb):
        if isinstance(target, ast.Attribute) and _root_name(target) in WATCHED_MODULES:
            self._add(target, f"{verb} {_dotted(target)}")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._target(elt, verb)

    def visit_Assign(self, node):
        for target in node.targets:
            self._target(target, "replaces")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._target(node.target, "replaces")
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._target(target, "deletes")
        self.generic_visit(node)

    def visit_Call(self, node):
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        if last in {"setattr", "delattr"} and node.args and _root_name(node.args[0]) in WATCHED_MODULES:
            self._add(node, f"{last} on {_dotted(node.args[0])}")
        elif last in {"set_custom_exc", "settrace", "setprofile"}:
            self._add(node, f"calls {name}")
        elif last == "register" and "events" in name:
            self._add(node, f"registers an IPython event hook ({name})")
        elif last in {"currentframe", "_getframe", "getouterframes", "getinnerframes"} or name in {
                "inspect.stack", "inspect.trace"}:
            self._add(node, f"inspects the call stack ({name})")
        elif last in {"import_module", "__import__"} and node.args and isinstance(node.args[0], ast.Constant) \
                and any(g in str(node.args[0].value) for g in GRADER_NAMES):
            self._add(node, f"imports {node.args[0].value!r}")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in FRAME_ATTRS:
            self._add(node, f"reads a frame's {node.attr}")
        elif node.attr == "modules" and _root_name(node) == "sys":
            self._add(node, "looks through sys.modules")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in HISTORY_NAMES and isinstance(node.ctx, ast.Load):
            self._add(node, f"reads the input/output history ({node.id})")
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] in {"emlab_grader", "emlab_judge"}:
                self._add(node, f"imports {alias.name}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if (node.module or "").split(".")[0] in {"emlab_grader", "emlab_judge"}:
            self._add(node, f"imports from {node.module}")
        self.generic_visit(node)


def scan_source(source: str) -> list[tuple[int, str]]:
    """(line, what) for each sign of interference in one cell's code; [] if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    finder = _Finder()
    finder.visit(tree)
    return sorted(set(finder.found))


def scan_notebook(nb, *, skip_locked: bool = True) -> list[str]:
    """One line per sign, naming the cell: student code only (locked cells are the course's)."""
    lines = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if skip_locked and meta.get("locked"):
            continue
        where = f"cell {index + 1}" + (f" ({meta['grade_id']})" if meta.get("grade_id") else "")
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for lineno, what in scan_source(source):
            lines.append(f"{where}, line {lineno}: {what}")
    return lines
