"""notebooks/ is exactly what `make release` generates from solutions/, and holds no
solution, hidden test, grading API call or model answer."""

from __future__ import annotations

import ast
import json
import re
import subprocess

import nbformat
import pytest

from conftest import ASSIGNMENTS, REPO, VENV_PYTHON, isolated_env

SECRET_MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                  "emlab_grader", "BEGIN MARK SCHEME"]


def notebook_paths(folder):
    return sorted(p for p in (REPO / folder).glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def comparable(nb: dict) -> dict:
    """A notebook as nbgrader writes it, minus what legitimately varies between runs."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def test_every_source_has_a_release():
    assert ASSIGNMENTS, "no assignments in solutions/"
    for src in notebook_paths("solutions"):
        rel = REPO / "notebooks" / src.relative_to(REPO / "solutions")
        assert rel.exists(), f"{rel.relative_to(REPO)} is missing: run make release"


@pytest.mark.slow
def test_release_is_up_to_date(tmp_path):
    out = tmp_path / "release"
    env = isolated_env(tmp_path, EMLAB_GRADEBOOK_URL=f"sqlite:///{tmp_path / 'gradebook.db'}")
    for assignment in ASSIGNMENTS:
        proc = subprocess.run([str(VENV_PYTHON), "-m", "nbgrader", "generate_assignment", assignment, "--force",
                               f"--CourseDirectory.release_directory={out}"], cwd=REPO, env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    for committed in notebook_paths("notebooks"):
        fresh = out / committed.relative_to(REPO / "notebooks")
        assert fresh.exists(), f"{committed.relative_to(REPO)} has no source in solutions/"
        assert comparable(json.loads(committed.read_text())) == comparable(json.loads(fresh.read_text())), (
            f"{committed.relative_to(REPO)} differs from what make release generates: run make release")


@pytest.mark.parametrize("path", notebook_paths("notebooks"), ids=lambda p: p.parent.name)
def test_release_holds_no_secret(path):
    text = path.read_text()
    for marker in SECRET_MARKERS:
        assert marker not in text, f"{path.relative_to(REPO)} contains {marker!r}"
    source = nbformat.read(REPO / "solutions" / path.relative_to(REPO / "notebooks"), as_version=4)
    released = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    for cell in source.cells:
        for block in re.findall(r"BEGIN (?:SOLUTION|HIDDEN TESTS)(.*?)### END", cell.source, re.S):
            for line in block.splitlines():
                line = line.strip()
                if len(line) > 20 and not line.startswith("#"):
                    assert line not in released, f"solution line leaked into {path.name}: {line!r}"


@pytest.mark.parametrize("path", notebook_paths("solutions"), ids=lambda p: p.parent.name)
def test_source_notebook_structure(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {path.name}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("outputs") is not None for c in code)
    assert any(c.outputs for c in code), f"{path.name} has no stored outputs (nbval needs them)"
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            tree = ast.parse(cell.source)
            funcs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
            assert funcs == [meta["grade_id"]], (
                f"{path.name}: answer cell {meta['grade_id']!r} should define exactly one top-level "
                f"function of that name; defines {funcs}")
        if meta.get("grade"):
            assert meta.get("points", 0) > 0, f"{path.name}: grade cell {meta['grade_id']} has no points"


def test_readme_figures_are_the_labs_own():
    from autograder.readme_figures import FIGURES, figure_bytes
    for name, (notebook, grade_id) in FIGURES.items():
        path = REPO / "notebooks" / "figures" / name
        assert path.exists(), f"{path.relative_to(REPO)} is missing: run make release"
        assert path.read_bytes() == figure_bytes(REPO / notebook, grade_id), (
            f"{path.relative_to(REPO)} differs from the notebook's figure: run make release")
    assert "notebooks/figures/lab03_em_panel.png" in (REPO / "README.md").read_text()
