"""The visible checks are decisive: every bank mutant fails the visible check of each function
its bug touches with the hint for its own mistake (a student sees the mistake while working,
not only in the grade), every correct implementation passes them all. A mutant's docstring
names the mistake the visible check must recognise, ``Visible mistake: e_step.swapped_groups``
(a name from the lab's spec in ``emlab/specs``); a generic "wrong value" does not count. Mutants right on every ordinary case and wrong only
on the far point (``ORDINARY_RIGHT`` in their docstring) are left to the hidden checks: the
visible checks use small hand-checkable inputs, where nothing underflows.

The visible part of each test cell is the source notebook's test cell without its hidden
block, run on the bank module's functions."""

from __future__ import annotations

import contextlib
import io
import re

import nbformat
import pytest

from conftest import REPO
from emlab.specs import specs_of
from emlab.visible import VisibleCheckFailure
from emlab_judge.verdicts import checked_functions
from grading_support import ORDINARY_RIGHT

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
LABS = {"lab01": ("01-two-means", "two_means.ipynb"), "lab02": ("02-lower-bound", "lower_bound.ipynb"),
        "lab03": ("03-old-faithful", "old_faithful.ipynb"), "lab04": ("04-saddle-point", "saddle_point.ipynb"),
        "lab05": ("05-em-in-practice", "em_in_practice.ipynb")}


def _imports(nb) -> str:
    """The notebook's import statements and the functions its locked cells define (the checks
    a test cell calls are often imported in the first cell, and take the lab's own E step),
    magics left out."""
    import ast

    lines = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("solution") or meta.get("grade"):
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines += [ast.get_source_segment(source, node) for node in tree.body
                  if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    return "\n".join(lines) + "\n"


def _visible_parts(assignment, notebook) -> dict[str, str]:
    """{function: the notebook's imports, then the visible part of the function's test cell}."""
    nb = nbformat.read(REPO / "solutions" / assignment / notebook, as_version=4)
    imports = _imports(nb)
    parts = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        found = checked_functions(cell) if cell.cell_type == "code" and meta.get("grade") else []
        for _, function in found:
            parts[function] = imports + HIDDEN.sub("", cell.source)
    return parts


def _modules(lab):
    folder = REPO / "tests" / "banks" / lab
    for path in sorted(folder.glob("*.py")) + sorted((folder / "more").glob("*.py")):
        yield path


def _passes(visible: str, namespace: dict) -> tuple[bool, str, str | None]:
    """(passed, the failure in words, the recognised mistake's name or None)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(visible, "<visible check>", "exec"), dict(namespace))
        return True, "", None
    except VisibleCheckFailure as exc:
        return False, f"{type(exc).__name__}: {exc}", exc.mistake
    except Exception as exc:  # an exception from the function itself
        return False, f"{type(exc).__name__}: {exc}", None


def _named_mistakes(doc: str) -> dict[str, str]:
    """{function: mistake} from a docstring's ``Visible mistake: f.name, g.name.`` line."""
    found = re.search(r"^Visible mistakes?: (.+?)\.?$", doc, re.M)
    pairs = [item.strip().split(".", 1) for item in found.group(1).split(",")] if found else []
    return {function: mistake for function, mistake in pairs}


@pytest.mark.parametrize("lab", sorted(LABS))
def test_every_mutant_fails_the_visible_check_of_what_its_bug_touches(lab):
    parts = _visible_parts(*LABS[lab])
    problems = []
    for path in _modules(lab):
        source = path.read_text()
        namespace = {"__name__": f"bank_{path.stem}"}
        exec(compile(source, str(path), "exec"), namespace)
        doc = (namespace.get("__doc__") or "").strip()
        targets = re.match(r"([\w, ]+):", doc).group(1).split(", ") if path.stem.startswith("buggy_") else []
        named = _named_mistakes(doc)
        specs = specs_of(lab)
        for function in named:
            if function not in targets or named[function] not in _mistake_names(specs[function]):
                problems.append(f"{path.name}: names {function}.{named[function]}, not a mistake of the spec of "
                                f"a function its bug touches")
        for function, visible in parts.items():
            ok, why, mistake = _passes(visible, namespace)
            if path.stem.startswith("correct_") and not ok:
                problems.append(f"{path.name}: a correct {function} fails its visible check: {why[:200]}")
            if function not in targets or ORDINARY_RIGHT in doc and function not in named:
                continue
            if ok:
                problems.append(f"{path.name}: its bug in {function} passes the visible check")
            elif function not in named:
                problems.append(f"{path.name}: the docstring names no visible mistake for {function} (the check "
                                f"said {mistake or 'nothing specific'}: {why[:160]})")
            elif mistake != named[function]:
                problems.append(f"{path.name}: {function}'s visible check should recognise {named[function]!r}, "
                                f"but said {mistake!r}: {why[:200]}")
    assert not problems, "\n".join(problems)


def _mistake_names(spec) -> set[str]:
    """Every mistake a spec can name: its function-wide and per-case mistakes, its non-finite
    hint, and the runner's own (an argument modified, no return value, not a tuple)."""
    names = {m.name for m in spec.mistakes} | {spec.nonfinite.name}
    names |= {m.name for case in spec.cases for m in case.mistakes}
    return names | {"modified_input", "no_return", "not_a_tuple", "not_integer", "signature"}



EM_RUNNERS = re.compile(r"^[^#\n]*\b(run_em|run_two_means_em|em_path|alternating_path)\(", re.M)


def test_every_em_run_a_lab_shows_is_followed_by_the_monotone_check():
    """A cell that runs EM (or lab 04's alternating maximisation) at top level also checks that
    l never went down (check_monotone), so a student whose functions disagree sees it there.
    Runs inside a function (a widget's callback) and the heuristics that may lower l on
    purpose (the reset, split-and-merge) are left out."""
    missing = []
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code":
                continue
            top_level = "\n".join(line for line in cell.source.splitlines() if not line.startswith((" ", "\t"))
                                  or not _inside_def(cell.source, line))
            if EM_RUNNERS.search(top_level) and "check_monotone(" not in cell.source:
                missing.append(f"{path.parent.name} cell {index}: {cell.source.splitlines()[0][:70]}")
    assert not missing, "EM runs without a monotone check:\n" + "\n".join(missing)


def _inside_def(source: str, line: str) -> bool:
    """Whether ``line`` of ``source`` sits in the body of a function defined in it."""
    lines = source.splitlines()
    at = lines.index(line)
    for previous in reversed(lines[:at]):
        if previous and not previous.startswith((" ", "\t")):
            return previous.startswith(("def ", "async def "))
    return False
