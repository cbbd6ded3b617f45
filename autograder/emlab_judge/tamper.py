"""Signs, in a submission's code, of an attempt to interfere with grading.

The judge's verdict does not depend on this scan: it compares recorded outputs with the
reference, so a patched ``np.allclose`` changes nothing. The scan tells the instructor
*why* a notebook's own test cells and the judge disagreed, or that a submission tried,
so that the report can flag it "tampering suspected" with the line that did it.

It reads the student's cells with :mod:`ast` (never runs them), after IPython's own
input transformation (so ``%history`` and ``x = !ls`` are read as the kernel reads them,
and the Python bodies of ``%%capture``, ``%%time``, ``%timeit``, ... are scanned too),
and reports:

- assignments to, ``setattr`` on, or ``del`` of attributes of numpy, scipy, sklearn,
  builtins, sys, IPython, emlab or the grading API (replacing the functions checks use);
- ``get_ipython().set_custom_exc(...)``, ``sys.settrace``/``sys.setprofile``, and event
  hooks (``events.register``), which can swallow or rewrite test errors;
- reading the caller's frames (``inspect.currentframe``, ``sys._getframe``, ``f_back``,
  ``f_locals``);
- reading the input/output history: ``get_ipython().history_manager``, the history
  magics (``%history``, ``%recall``, ...), and IPython's history names (``In``, ``Out``,
  ``_ih``, ``_oh``, ``_``, ``_i3``, ``_3``, ...) *when the history is what is read*: a name
  the student binds themselves (``Out = compute(...)``, a loop variable, an argument, an
  import ``as In``) is their own variable. IPython rebinds ``_i``, ``_ii``, ``_iii``,
  ``_iN`` and ``_N`` before every cell, so for those only a binding in the same cell
  counts; ``In``, ``Out``, ``_ih``, ``_oh``, ``_dh``, ``_``, ``__``, ``___`` are the
  student's once any cell binds them;
- looking up the grader (``sys.modules``, names of the grading packages).

No input makes the scan raise. A cell nested too deeply for the interpreter's default
limits (a 1,500-term sum, a deep expression) is parsed again in a child interpreter with
a large stack and a high recursion limit (this module run as a script, standard library
only), since the recursion limit is global to the grading process and its other threads
run on ordinary stacks. A cell that still cannot be read is listed in
:attr:`NotebookScan.unscanned` with why: that is not a sign of tampering by itself. A cell
that is not valid Python after IPython's transformation (a syntax error, a null byte) is
skipped silently: the kernel cannot run it either.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field

__all__ = ["scan_source", "scan_notebook", "scan", "NotebookScan"]

WATCHED_MODULES = {"np", "numpy", "scipy", "sp", "sklearn", "builtins", "__builtins__", "sys", "IPython",
                   "emlab", "emlab_grader", "emlab_judge", "testing", "special", "stats", "linalg", "npt"}
GRADER_NAMES = {"emlab_grader", "emlab_judge", "reference", "solutions", "autograder"}
FRAME_ATTRS = {"f_back", "f_locals", "f_globals", "tb_frame", "gi_frame"}
# IPython's history names: the student's own variables once the notebook binds them
SESSION_HISTORY = {"In", "Out", "_ih", "_oh", "_dh", "_", "__", "___"}
# ... and the ones IPython binds again before every cell: only a binding in the same cell counts
REBOUND_HISTORY = re.compile(r"_i{1,3}|_i\d+|_\d+")
HISTORY_MAGICS = {"history", "hist", "recall", "rep", "rerun", "save", "macro", "pastebin", "notebook"}
PYTHON_MAGICS = {"capture", "time", "timeit", "prun", "debug"}  # magics whose body is Python run in the kernel
MAGIC_CALLS = {"run_line_magic", "run_cell_magic", "magic"}
NAMESPACE_CALLS = {"globals", "locals", "vars"}

MAX_CHAIN = 64            # attribute/call chain followed when naming a target
MAX_EMBEDDED_DEPTH = 4    # magic bodies inside magic bodies
# Characters of code read per notebook (about 10 us and 0.5 kB of memory each, in the
# grader's own process): a lab's whole notebook holds under 50,000; a cell larger than
# what is left of the budget is listed as not scanned.
SCAN_BUDGET = 400_000
DEEP_TIMEOUT = 30         # seconds for the child interpreter's parse of one deep cell
DEEP_STACK = 512 * 2**20  # its parsing thread's stack
DEEP_RECURSION = 1_000_000
DEEP_MEMORY = 3 * 2**30   # its address-space limit


def _is_history_name(name: str) -> bool:
    return name in SESSION_HISTORY or REBOUND_HISTORY.fullmatch(name) is not None


def _root_name(node: ast.AST) -> str | None:
    for _ in range(MAX_CHAIN):
        if not isinstance(node, (ast.Attribute, ast.Subscript)):
            break
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    """``a.b().c`` for an attribute/call chain (at most MAX_CHAIN links, then ``…``)."""
    parts = []
    for _ in range(MAX_CHAIN):
        if isinstance(node, ast.Attribute):
            parts.append("." + node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append("()")
            node = node.func
        else:
            if isinstance(node, ast.Name):
                parts.append(node.id)
            break
    else:
        parts.append("…")
    return "".join(reversed(parts)).lstrip(".")


def _targets(target: ast.AST):
    """The attribute targets inside an assignment target (tuples and lists unpacked)."""
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
        elif isinstance(node, ast.Attribute):
            yield node


def _is_namespace(node) -> bool:
    """``globals()``, ``locals()``, ``vars()``, ``<shell>.user_ns``, ``<module>.__dict__``."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NAMESPACE_CALLS) or (
        isinstance(node, ast.Attribute) and node.attr in {"user_ns", "user_global_ns", "__dict__"})


def _constant_str(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _scan_python(source: str) -> dict:
    """Scan one cell's Python (already transformed by IPython), iteratively.

    Returns ``found`` [(line, what)], ``reads`` [(line, history name loaded)], ``bound``
    [names the cell binds], ``embedded`` [(line offset, Python text of a magic's body)].
    Raises what :func:`ast.parse` raises."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    reads: list[tuple[int, str]] = []
    bound: set[str] = set()
    embedded: list[tuple[int, str]] = []

    def add(node, what):
        found.append((getattr(node, "lineno", 0), what))

    def targets(verb, *nodes):
        for target in nodes:
            for attr in _targets(target):
                if _root_name(attr) in WATCHED_MODULES:
                    add(attr, f"{verb} {_dotted(attr)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets("replaces", *node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets("replaces", node.target)
        elif isinstance(node, ast.Delete):
            targets("deletes", *node.targets)
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            first = _constant_str(node.args[0]) if node.args else None
            if last in {"setattr", "delattr"} and node.args and _root_name(node.args[0]) in WATCHED_MODULES:
                add(node, f"{last} on {_dotted(node.args[0])}")
            elif last in {"set_custom_exc", "settrace", "setprofile"}:
                add(node, f"calls {name}")
            elif last == "register" and "events" in name:
                add(node, f"registers an IPython event hook ({name})")
            elif last in {"currentframe", "_getframe", "getouterframes", "getinnerframes"} or name in {
                    "inspect.stack", "inspect.trace"}:
                add(node, f"inspects the call stack ({name})")
            elif last in {"import_module", "__import__"} and first is not None \
                    and any(g in first for g in GRADER_NAMES):
                add(node, f"imports {first!r}")
            elif last == "get" and first is not None and _is_history_name(first) \
                    and isinstance(node.func, ast.Attribute) and _is_namespace(node.func.value):
                reads.append((node.lineno, first))
            elif last in MAGIC_CALLS and first is not None:
                magic = (first.split() or [""])[0].lstrip("%")
                if magic in HISTORY_MAGICS:
                    add(node, f"reads the input/output history (%{magic})")
                elif magic in PYTHON_MAGICS:
                    cell_magic = last == "run_cell_magic"
                    body = node.args[2 if cell_magic else 1] if len(node.args) > (2 if cell_magic else 1) else None
                    text = _constant_str(body)
                    if text:  # a line magic's body is on its own line, a cell magic's from the next
                        embedded.append((node.lineno - (not cell_magic), text))
        elif isinstance(node, ast.Attribute):
            if node.attr in FRAME_ATTRS:
                add(node, f"reads a frame's {node.attr}")
            elif node.attr == "modules" and _root_name(node) == "sys":
                add(node, "looks through sys.modules")
            elif node.attr == "history_manager":
                add(node, "reads the input/output history (history_manager)")
        elif isinstance(node, ast.Subscript):
            key = _constant_str(node.slice)
            if key is not None and _is_history_name(key) and isinstance(node.ctx, ast.Load) \
                    and _is_namespace(node.value):
                reads.append((node.lineno, key))
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node.ctx, ast.Load) and _is_history_name(node.id):
                reads.append((node.lineno, node.id))
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                bound.add(alias.asname or alias.name.split(".")[0])
                if module is None and alias.name.split(".")[0] in {"emlab_grader", "emlab_judge"}:
                    add(node, f"imports {alias.name}")
            if module is not None and module.split(".")[0] in {"emlab_grader", "emlab_judge"}:
                add(node, f"imports from {node.module}")
    return {"found": found, "reads": reads, "bound": sorted(bound), "embedded": embedded}


def _scan_deep(source: str) -> dict:
    """:func:`_scan_python` in a child interpreter with a large stack and recursion limit;
    ``{"problem": why}`` when even that cannot read the cell."""
    try:
        run = subprocess.run([sys.executable, "-I", "-S", __file__, "--deep"],
                             input=source.encode("utf-8", "surrogatepass"), capture_output=True,
                             timeout=DEEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"problem": f"too large to scan in {DEEP_TIMEOUT} s"}
    except (OSError, ValueError) as exc:
        return {"problem": f"the scanner could not start ({exc})"}
    try:
        out = json.loads(run.stdout)
    except ValueError:
        out = None
    if run.returncode < 0 or (run.returncode == 0 and not isinstance(out, dict)):
        return {"problem": "nested too deeply"}  # the child's stack overflowed
    if run.returncode != 0:
        return {"problem": f"the scanner failed (exit status {run.returncode})"}
    return out


def _parse_and_scan(source: str) -> dict:
    try:
        return _scan_python(source)
    except (RecursionError, MemoryError):
        return _scan_deep(source)
    except (SyntaxError, ValueError, TypeError, UnicodeError, OverflowError):
        return {"syntax": True}  # the kernel cannot run it either


def _ipython_python(text: str) -> str:
    """The Python that IPython's kernel runs for ``text`` (magics, ``!`` and ``?`` lines
    made calls); line magics and shell lines dropped when IPython is not importable."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(text)
    except Exception:  # noqa: BLE001  (any input: never raise)
        kept = []
        for line in text.splitlines():
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")):
                word = stripped.lstrip("%!").split(maxsplit=1)
                kept.append(f"get_ipython().run_line_magic({(word or [''])[0]!r}, '')"
                            if stripped.startswith("%") else "")
            else:
                kept.append(line)
        return "\n".join(kept)


@dataclass
class _CellScan:
    found: list[tuple[int, str]] = field(default_factory=list)
    reads: list[tuple[int, str]] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)
    problem: str | None = None


def _scan_cell(text: str) -> _CellScan:
    """Everything the scan reads in one cell's source, magic bodies included."""
    cell = _CellScan()
    queue = [(0, text, 0)]  # (line offset, text, depth)
    while queue:
        offset, text, depth = queue.pop()
        lines = text.split("\n")
        start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
        head = lines[start].strip() if start < len(lines) else ""
        if head.startswith("%%"):  # a cell magic: its body is Python only for some magics
            magic = (head[2:].split() or [""])[0]
            if magic in HISTORY_MAGICS:
                cell.found.append((offset + start + 1, f"reads the input/output history (%%{magic})"))
            if magic in PYTHON_MAGICS and depth < MAX_EMBEDDED_DEPTH:
                queue.append((offset + start + 1, "\n".join(lines[start + 1:]), depth + 1))
            continue
        result = _parse_and_scan(_ipython_python(text))
        if result.get("problem"):
            cell.problem = cell.problem or result["problem"]
            continue
        if result.get("syntax"):
            continue
        cell.found += [(offset + line, what) for line, what in result["found"]]
        cell.reads += [(offset + line, name) for line, name in result["reads"]]
        cell.bound |= set(result["bound"])
        if depth < MAX_EMBEDDED_DEPTH:
            queue += [(offset + line, body, depth + 1) for line, body in result["embedded"]]
    return cell


def _signs(cell: _CellScan, notebook_bound: set[str]) -> list[tuple[int, str]]:
    """The cell's signs, history reads included where the history is what is read."""
    signs = set(cell.found)
    for line, name in cell.reads:
        own = cell.bound if REBOUND_HISTORY.fullmatch(name) else notebook_bound
        if name not in own:
            signs.add((line, f"reads the input/output history ({name})"))
    return sorted(signs)


def _safe_scan_cell(text) -> _CellScan:
    if not isinstance(text, str):
        text = "".join(t for t in text if isinstance(t, str)) if isinstance(text, list) else ""
    try:
        return _scan_cell(text)
    except Exception as exc:  # noqa: BLE001  (any input: never raise)
        return _CellScan(problem=f"the scanner failed ({type(exc).__name__})")


def scan_source(source: str) -> list[tuple[int, str]]:
    """(line, what) for each sign of interference in one cell's code (the cell on its own:
    a history name it binds itself is its own); [] if it cannot be read."""
    cell = _safe_scan_cell(source)
    return _signs(cell, cell.bound)


@dataclass
class NotebookScan:
    """What the scan found in a notebook: ``signs`` of tampering, one line each naming the
    cell and line; ``unscanned``, cells that could not be read, with why (not a sign of
    tampering by itself: for the report's reasons, not its flags)."""

    signs: list[str] = field(default_factory=list)
    unscanned: list[str] = field(default_factory=list)


def scan(nb, *, skip_locked: bool = True) -> NotebookScan:
    """Scan a notebook's code cells: student code only (locked cells are the course's,
    though the names they bind count as bound)."""
    result = NotebookScan()
    scanned = []
    budget = SCAN_BUDGET
    for index, cell in enumerate(getattr(nb, "cells", None) or []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {})
        meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        gid = meta.get("grade_id")
        where = f"cell {index + 1}" + (f" ({gid})" if isinstance(gid, str) and gid else "")
        source = cell.get("source", "")
        size = len(source) if isinstance(source, str) else sum(len(t) for t in source if isinstance(t, str)) \
            if isinstance(source, list) else 0
        if size > budget:  # left unread; smaller cells after it still are read
            result.unscanned.append(f"{where} was not scanned for tampering (the notebook's code is over the "
                                    f"{SCAN_BUDGET:,} characters the scan reads)")
            continue
        budget -= size
        scanned.append((where, bool(skip_locked and meta.get("locked")), _safe_scan_cell(source)))
    bound = set().union(*(c.bound for _, _, c in scanned))
    for where, locked, cell in scanned:
        if locked:
            continue
        result.signs += [f"{where}, line {line}: {what}" for line, what in _signs(cell, bound)]
        if cell.problem:
            result.unscanned.append(f"{where} could not be scanned for tampering ({cell.problem})")
    return result


def scan_notebook(nb, *, skip_locked: bool = True) -> list[str]:
    """One line per sign, naming the cell: student code only (locked cells are the course's)."""
    return scan(nb, skip_locked=skip_locked).signs


def _deep_main() -> None:
    """Child interpreter: scan the cell on stdin with a large stack, print JSON."""
    import resource
    import threading

    for limit, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, DEEP_MEMORY)):
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass
    source = sys.stdin.buffer.read().decode("utf-8", "surrogatepass")
    out: dict = {}

    def work():
        try:
            out.update(_scan_python(source))
        except (RecursionError, MemoryError):
            out.update(problem="nested too deeply")
        except Exception:  # noqa: BLE001
            out.update(syntax=True)

    sys.setrecursionlimit(DEEP_RECURSION)
    threading.stack_size(DEEP_STACK)
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__" and sys.argv[1:] == ["--deep"]:
    _deep_main()
