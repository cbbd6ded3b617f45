"""The shape of the grading code, read from its source (nothing is imported or run):

- no import cycle among the trusted package's modules (``emlab_judge``), counting imports
  made inside functions and a package's discovery of its own modules (``labs/``);
- no module of ``autograder/`` uses another module's private name (``from .x import _y``,
  ``x._y``), and none imports from a module a name that module only re-exports (the
  harness keeps its old names importable for callers outside; inside, each name is
  imported from its home);
- the kernel-side package ``emlab_grader`` imports nothing of ``emlab_judge``, even inside
  a function;
- the names callers have imported from ``emlab_judge.harness`` are still there.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
AUTOGRADER = REPO / "autograder"
PACKAGES = ("emlab_judge", "emlab_grader")
FIRST_PARTY = (*PACKAGES, "emlab")


def module_name(path: Path, root: Path | None = None) -> str:
    parts = list(path.relative_to(root or AUTOGRADER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules(root: Path | None = None, packages=PACKAGES) -> dict[str, Path]:
    """{dotted name: file} of every module of ``packages`` under ``root`` (autograder/)."""
    root = root or AUTOGRADER
    return {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))
            if "__pycache__" not in p.parts}


def resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if not level:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str, modules) -> str | None:
    """The module of ``modules`` that importing ``name`` (or an attribute of it) loads."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """{module: modules it imports}, with imports inside functions, and with every direct
    submodule for a package that discovers its own modules (its ``__init__`` uses
    ``__path__``, as ``labs/`` does)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(name, is_package, node.level, node.module)
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif is_package and isinstance(node, ast.Name) and node.id == "__path__":
                targets = [m for m in modules if m.rpartition(".")[0] == name]
            for target in targets:
                found = _known(target, modules)
                if found and found != name:
                    graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every set of modules that import one another (strongly connected, more than one, or
    one importing itself), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _first_party(name: str) -> bool:
    return name.split(".")[0] in FIRST_PARTY


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def private_uses(source: str, module: str, is_package: bool = False, modules=()) -> list[str]:
    """Where ``source`` (the module ``module``) uses a private name of another first-party
    module: ``from M import _x``, ``import M._x``, or ``M._x`` with ``M`` bound to a module."""
    tree = ast.parse(source)
    found = []
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _first_party(alias.name):
                    continue
                if any(_is_private(part) for part in alias.name.split(".")):
                    found.append(f"line {node.lineno}: import {alias.name}")
                module_aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, is_package, node.level, node.module)
            if not _first_party(base):
                continue
            for alias in node.names:
                if _is_private(alias.name) or any(_is_private(part) for part in base.split(".")):
                    found.append(f"line {node.lineno}: from {base} import {alias.name}")
                elif f"{base}.{alias.name}" in modules or not modules:
                    module_aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            dotted = _dotted(node.value)
            if dotted and dotted.split(".")[0] in module_aliases:
                found.append(f"line {node.lineno}: {dotted}.{node.attr}")
    return found


def _defined_here(path: Path) -> set[str]:
    """Top-level names a module defines itself (not imported, not a plain alias of one)."""
    names = set()
    statements = list(ast.parse(path.read_text()).body)
    while statements:
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not isinstance(node.value, (ast.Name, type(None))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With)):  # top-level blocks: their statements too
            for block in ("body", "orelse", "finalbody"):
                statements.extend(getattr(node, block, []))
            statements.extend(s for h in getattr(node, "handlers", []) for s in h.body)
    return names


def _autograder_sources() -> list[Path]:
    return sorted(p for p in AUTOGRADER.rglob("*.py") if "__pycache__" not in p.parts)


def _module_of(path: Path) -> tuple[str, bool]:
    """(dotted name, is a package) of a file under autograder/ (top-level scripts by file name)."""
    return module_name(path), path.name == "__init__.py"


def test_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_graph_counts_function_level_imports_and_discovery(tmp_path):
    """The cycle this package had (judge imported the labs inside judge(); each lab imported
    the judge's helpers) is found: a function-level import and a package that discovers its
    own modules both count."""
    pkg = tmp_path / "emlab_judge"
    (pkg / "labs").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "judge.py").write_text("def judge():\n    from .labs import lab_modules\n    return lab_modules()\n")
    (pkg / "labs" / "__init__.py").write_text("def lab_modules():\n    return discover(__name__, __path__)\n")
    (pkg / "labs" / "lab01.py").write_text("from ..judge import close\n")
    graph = import_graph(package_modules(tmp_path, ("emlab_judge",)))
    assert cycles(graph) == [["emlab_judge.judge", "emlab_judge.labs", "emlab_judge.labs.lab01"]]
    (pkg / "compare.py").write_text("RTOL = 1e-6\n")
    (pkg / "labs" / "lab01.py").write_text("from ..compare import close\n")
    assert cycles(import_graph(package_modules(tmp_path, ("emlab_judge",)))) == []


def test_no_import_cycle_in_the_trusted_package():
    modules = package_modules()
    assert len([m for m in modules if m.startswith("emlab_judge.")]) >= 20, sorted(modules)
    graph = import_graph(modules)
    assert "emlab_judge.labs" in graph["emlab_judge.judge"]  # the graph sees the judge's own imports
    trusted = [c for c in cycles(graph) if any(m.split(".")[0] == "emlab_judge" for m in c)]
    assert not trusted, trusted


def test_kernel_side_never_imports_the_trusted_side_even_in_a_function():
    graph = import_graph(package_modules())
    found = {m: sorted(t for t in targets if t.split(".")[0] == "emlab_judge")
             for m, targets in graph.items() if m.split(".")[0] == "emlab_grader"}
    assert not any(found.values()), found


def test_private_name_detector_finds_every_form():
    modules = {"emlab_judge.harness", "emlab_judge.batch", "emlab_judge.kernel_forkserver"}
    for code in ["from .harness import _store_result", "from .harness import (STOP, _nbgrader)",
                 "from emlab_judge.harness import _nbgrader as run", "from . import harness\nharness._stage()",
                 "import emlab_judge.harness\nemlab_judge.harness._stage()",
                 "import emlab_judge.harness as h\nx = h._SLOT_UID", "from ._private import x"]:
        assert private_uses(code, "emlab_judge.batch", modules=modules), code
    for code in ["from .harness import store_result as _store_result", "self._x = 1\nself._x += 1",
                 "import atexit\natexit._run_exitfuncs()", "from .harness import __all__",
                 "from .sandbox import Limits\nLimits._fields", "server = get()\nserver._stop()"]:
        assert not private_uses(code, "emlab_judge.batch", modules=modules), code


def test_no_module_uses_another_modules_private_names():
    modules = set(package_modules())
    found = {}
    for path in _autograder_sources():
        name, is_package = _module_of(path)
        if uses := private_uses(path.read_text(), name, is_package, modules):
            found[str(path.relative_to(REPO))] = uses
    assert not found, found


def test_names_are_imported_from_their_home_not_a_re_export():
    """Inside autograder/, a name is imported from the module that defines it (a package's
    ``__init__`` may re-export: it is the package's face)."""
    modules = package_modules()
    defined = {m: _defined_here(p) for m, p in modules.items() if p.name != "__init__.py"}
    found = []
    for path in _autograder_sources():
        name, is_package = _module_of(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = resolve(name, is_package, node.level, node.module)
            if base not in defined:
                continue
            for alias in node.names:
                if alias.name != "*" and alias.name not in defined[base] and f"{base}.{alias.name}" not in modules:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {alias.name} from {base}")
    assert not found, found


def test_harness_reads_as_its_stages():
    source = (AUTOGRADER / "emlab_judge" / "harness.py").read_text()
    assert len(source.splitlines()) <= 160
    tree = ast.parse(source)
    functions = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    assert "grade_submission" in functions and len(functions) <= 3, functions


@pytest.mark.parametrize("name", ["Course", "SubmissionResult", "grade_submission", "discover", "sync_gradebook",
                                  "already_graded", "submission_fingerprint", "grading_code_digest", "stored_results",
                                  "stored_result_path", "slot_uid", "STOP", "stop_all", "MAX_LINE", "MAX_LINES",
                                  "store_result", "run_nbgrader"])
def test_harness_keeps_the_names_callers_imported(name):
    harness = importlib.import_module("emlab_judge.harness")
    assert hasattr(harness, name) and name in harness.__all__


def test_harness_keeps_no_private_alias():
    """Callers import the stage modules' public names; the harness re-exports no private one."""
    harness = importlib.import_module("emlab_judge.harness")
    aliases = [name for name, value in vars(harness).items()
               if name.startswith("_") and not name.startswith("__") and callable(value)
               and getattr(value, "__module__", None) != harness.__name__]
    assert not aliases, aliases


def test_judge_keeps_its_comparison_helpers():
    judge = importlib.import_module("emlab_judge.judge")
    compare = importlib.import_module("emlab_judge.compare")
    for name in ("RTOL", "ATOL", "close", "first_match", "max_diff"):
        assert getattr(judge, name) is getattr(compare, name)
