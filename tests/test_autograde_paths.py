"""One autograde path: every way of autograding under the course configuration is the harness.

Three throw-away copies of the course hold the same submissions of lab 03 (a hostile one,
a wrong m_step behind patched comparisons; an honest model answer; a malformed notebook),
each graded one way (the first also holds an honest student with a helper of their own
named ``check``, who must keep full marks):

- ``python -m emlab_judge autograde`` (what ``make autograde`` runs): the scores to match;
- ``nbgrader autograde`` under the course configuration (autograder/nbgrader_config.py);
- ``NbGraderAPI.autograde``, the call the formgrader's *Autograde* button makes, in a
  process that loads the configuration as the formgrader does.

Each gives exactly the harness's gradebook scores; the hostile submission is flagged and
loses the m_step points; the malformed one makes nbgrader report failure (the command
exits 1, the API call says ``success: False``) with the harness's reason, and every other
submission is graded. Where the harness cannot be loaded, ``nbgrader autograde`` refuses,
naming ``make autograde``, and grades nothing. And the kernel-side package never imports
the trusted side.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

import hostile_lab03 as H
from grading_support import (PYTHON, REPO, build_submission, run_nbgrader, scores_from_gradebook, solution_sources, submit,
                             temporary_course)

pytestmark = pytest.mark.xdist_group("nbgrader_batch")

NOTEBOOK = "old_faithful.ipynb"
ANSWERS = ("e_step", "m_step", "loglik")
HOSTILE, HONEST, OWN_CHECK, MALFORMED = "hostile", "honest", "own_check", "malformed"
FULL = {g: float(p) for g, p in H.POINTS.items()}

# A student's own helper named ``check``, defined in the first answer cell, called inside
# e_step and at the top of the loglik cell (after the e_step and m_step test cells): a
# hidden test that bound ``check`` would break both.
OWN_CHECK_HELPER = '''
def check(x):
    """My own helper: the data as a float array."""
    return np.asarray(x, dtype=float)
'''
OWN_CHECK_USE = "assert check([1.0, 2.0]).shape == (2,)\n"

# NbGraderAPI(...).autograde(...) as the formgrader's handler calls it: an nbgrader app
# loads the configuration (JUPYTER_CONFIG_PATH), then the API is made on its coursedir.
API_SCRIPT = textwrap.dedent('''
    import json, sys
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.auth import Authenticator

    app = NbGrader()
    app.initialize([])
    results = {}
    for student in sys.argv[2:]:
        app.load_config_file()  # the formgrader does it on every request
        api = NbGraderAPI(app.coursedir, Authenticator(parent=app), parent=app)
        results[student] = api.autograde(sys.argv[1], student)
    print("RESULTS " + json.dumps(results))
''')


def _harness_env(course) -> dict:
    return {**course.env, "EMLAB_CELL_TIMEOUT": "30", "JOBS": "2"}


def _course(tmp_path: Path, name: str, students: dict):
    """A copy of the course with lab 03 registered and ``students`` ({id: notebook or bytes})
    submitted."""
    course = temporary_course(tmp_path / name, [H.ASSIGNMENT])
    submit(course, H.ASSIGNMENT, NOTEBOOK, students)
    return course


def _submissions(release_path: Path, source_path: Path) -> dict:
    release = nbformat.read(release_path, as_version=4)
    good = solution_sources(source_path, ANSWERS)
    own = dict(good)
    own["e_step"] = OWN_CHECK_HELPER + "\n\n" + H._inside(good["e_step"].strip(), "X = check(X)")
    own["loglik"] = OWN_CHECK_USE + good["loglik"]
    hostile_case = next(c for c in H.CASES if c.name == "patch allclose/isclose/testing at top level")
    return {
        HOSTILE: hostile_case.build(release, good),
        HONEST: H.honest(release, good),
        OWN_CHECK: H.honest(release, own),
        MALFORMED: H._malformed_json(release, good),
    }


def _results(course) -> dict:
    """The harness's report of the run: {student: result}."""
    path = course.autograder / "report" / "results.json"
    assert path.exists(), f"no harness report in {path.parent}: the harness did not grade"
    return {r["student"]: r for r in json.loads(path.read_text())}


def _tampering(result) -> bool:
    return any(f.startswith("tampering suspected") for f in result["flags"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The same submissions graded three ways; returns {way: (course, scores, output)}."""
    tmp = tmp_path_factory.mktemp("paths")
    students = _submissions(REPO / "notebooks" / H.ASSIGNMENT / NOTEBOOK,
                            REPO / "solutions" / H.ASSIGNMENT / NOTEBOOK)
    out = {}

    course = _course(tmp, "harness", students)
    proc = subprocess.run([str(PYTHON), "-m", "emlab_judge", "autograde", f"--root={course.root}"],
                          cwd=course.scratch, env=_harness_env(course), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out["harness"] = (course, scores_from_gradebook(course, H.ASSIGNMENT), proc)

    others = {s: c for s, c in students.items() if s != OWN_CHECK}  # the harness's run covers that one
    course = _course(tmp, "cli", others)
    proc = subprocess.run([str(PYTHON), "-m", "nbgrader", "autograde", H.ASSIGNMENT], cwd=course.root,
                          env=_harness_env(course), capture_output=True, text=True, timeout=900)
    out["cli"] = (course, scores_from_gradebook(course, H.ASSIGNMENT), proc)

    course = _course(tmp, "api", others)
    proc = subprocess.run([str(PYTHON), "-c", API_SCRIPT, H.ASSIGNMENT, *others], cwd=course.root,
                          env=_harness_env(course), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and "RESULTS " in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    api = json.loads(proc.stdout.split("RESULTS ", 1)[1])
    out["api"] = (course, scores_from_gradebook(course, H.ASSIGNMENT), api)
    return out


def test_harness_grades_as_expected(graded):
    """The reference run itself: the honest students in full, the hostile one flagged."""
    course, scores, _ = graded["harness"]
    results = _results(course)
    for student in (HONEST, OWN_CHECK):
        assert {g: scores[student][g] for g in FULL} == FULL, (student, results[student])
        assert not _tampering(results[student]), results[student]
    assert scores[HOSTILE]["test_m_step"] == 0 and _tampering(results[HOSTILE]), results[HOSTILE]
    assert results[MALFORMED]["status"] == "ungradable", results[MALFORMED]


def _shared(expected: dict) -> dict:
    """The harness's scores of the students every copy holds."""
    return {s: v for s, v in expected.items() if s != OWN_CHECK}


def test_nbgrader_autograde_is_the_harness(graded):
    _, expected, _ = graded["harness"]
    course, scores, proc = graded["cli"]
    output = proc.stdout + proc.stderr
    assert scores == _shared(expected), output[-4000:]
    assert "through the grading harness" in output, output[-4000:]
    results = _results(course)
    assert _tampering(results[HOSTILE]) and "tampering suspected" in output, output[-4000:]
    assert not _tampering(results[HONEST])
    # the malformed notebook could not be graded at all: the command fails, with the reason
    assert proc.returncode == 1, output[-4000:]
    assert f"{MALFORMED}/{H.ASSIGNMENT} (ungradable)" in output and "not valid JSON" in output, output[-4000:]


def test_formgrader_autograde_is_the_harness(graded):
    _, expected, _ = graded["harness"]
    course, scores, api = graded["api"]
    assert scores == _shared(expected), api
    for student in (HOSTILE, HONEST):
        assert api[student]["success"], api[student]
        assert "through the grading harness" in api[student]["log"], api[student]
    assert "tampering suspected" in api[HOSTILE]["log"], api[HOSTILE]["log"]
    assert "tampering suspected" not in api[HONEST]["log"], api[HONEST]["log"]
    # nbgrader's way of reporting failure: success False, the error (shown by the formgrader)
    # carrying the harness's reason
    assert not api[MALFORMED]["success"] and "not valid JSON" in api[MALFORMED]["error"], api[MALFORMED]


def test_own_helper_named_check_keeps_full_marks(graded):
    """Graded through the harness: the hidden tests leave the student's ``check`` alone."""
    course, scores, _ = graded["harness"]
    assert {g: scores[OWN_CHECK][g] for g in FULL} == FULL, _results(course)[OWN_CHECK]
    assert scores[OWN_CHECK]["total"] == scores[HONEST]["total"]


def test_hidden_tests_bind_no_name():
    """Every hidden test block calls the grading API without binding a name, in the form the
    judge's pattern finds."""
    from emlab_judge.verdicts import checked_functions

    blocks = 0
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if "### BEGIN HIDDEN TESTS" not in cell.source:
                continue
            block = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
            tree = ast.parse(block)
            bound = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom, ast.Assign,
                                                                  ast.AnnAssign, ast.AugAssign, ast.NamedExpr,
                                                                  ast.FunctionDef, ast.ClassDef, ast.For,
                                                                  ast.With))]
            assert not bound, f"{path.name}: a hidden test binds a name: {ast.unparse(bound[0])}"
            assert checked_functions(cell) == [(path.parent.name, cell.metadata["nbgrader"]["grade_id"]
                                                .removeprefix("test_"))], (path.name, block)
            blocks += 1
    assert blocks >= 5


def test_selection_follows_nbgrader():
    """nbgrader's ids are glob patterns ('*' for all); an id naming a folder exactly is that
    folder, glob characters and all."""
    from emlab_judge.nbgrader_hook import select

    names = ["ab", "ac", "b", "[ab]"]
    assert select("*", names) is None and select("", names) is None
    assert select("a*", names) == ["ab", "ac"]
    assert select("[ab]", names) == ["[ab]"]
    assert select("[bc]", names) == ["b"]
    assert select("zz", names) == []


def test_refuses_when_the_harness_cannot_be_loaded(tmp_path):
    """A broken harness (its batch module, or the hook module itself, failing to import) makes
    ``nbgrader autograde`` refuse, naming make autograde: nothing is graded by stock nbgrader."""
    students = _submissions(REPO / "notebooks" / H.ASSIGNMENT / NOTEBOOK, REPO / "solutions" / H.ASSIGNMENT / NOTEBOOK)
    course = _course(tmp_path, "broken", {HONEST: students[HONEST]})
    run_nbgrader(course, "generate_assignment", H.ASSIGNMENT, "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}")
    judge = course.autograder / "emlab_judge"
    for broken in ("batch.py", "nbgrader_hook.py"):
        path = judge / broken
        kept = path.read_text()
        path.write_text("raise ImportError('broken for the test')\n")
        try:
            proc = subprocess.run([str(PYTHON), "-m", "nbgrader", "autograde", H.ASSIGNMENT], cwd=course.root,
                                  env=_harness_env(course), capture_output=True, text=True, timeout=300)
        finally:
            path.write_text(kept)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, (broken, output[-3000:])
        assert "autograde refused" in output and "make autograde" in output, (broken, output[-3000:])
        assert not (course.autograder / "autograded").exists(), f"{broken}: something was graded"
        assert scores_from_gradebook(course, H.ASSIGNMENT) == {}, broken


def test_config_finds_the_harness_without_pythonpath(tmp_path):
    """nbgrader run from the course root with no PYTHONPATH still loads the hook."""
    course = temporary_course(tmp_path, [H.ASSIGNMENT])
    env = {k: v for k, v in course.env.items() if k != "PYTHONPATH"}
    probe = ("from nbgrader.apps.baseapp import NbGrader\n"
             "app = NbGrader(); app.initialize([])\n"
             "from emlab_judge.nbgrader_hook import installed\n"
             "import emlab_judge\n"
             "print('HOOK', installed(), emlab_judge.__file__)\n")
    proc = subprocess.run([str(PYTHON), "-c", probe], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"HOOK True {course.autograder / 'emlab_judge' / '__init__.py'}" in proc.stdout, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- the kernel-side package

GRADER = REPO / "autograder" / "emlab_grader"
TRUSTED = "emlab_judge"


def _docstrings(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            ids.add(id(node.body[0].value))
    return ids


def trusted_side_uses(source: str, package: tuple[str, ...] = ("emlab_grader",)) -> list[str]:
    """Every way ``source`` (a module of ``package``) could reach the trusted package: an
    import or from-import of it, a relative import leaving emlab_grader, ``importlib`` or
    ``__import__`` given any code string naming it (docstrings aside), the name itself."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] == TRUSTED]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").split(".")[0] == TRUSTED:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            elif node.level > len(package):
                found.append(f"line {node.lineno}: a relative import that leaves emlab_grader")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TRUSTED in node.value \
                and id(node) not in docs:
            found.append(f"line {node.lineno}: a string naming {TRUSTED}: {node.value[:60]!r}")
        elif isinstance(node, ast.Name) and node.id == TRUSTED or isinstance(node, ast.Attribute) and node.attr == TRUSTED:
            found.append(f"line {node.lineno}: the name {TRUSTED}")
    return found


def test_detector_finds_every_form():
    for code in ["import emlab_judge", "import emlab_judge.judge as j", "from emlab_judge.judge import judge",
                 "from .. import emlab_judge", "import importlib\nimportlib.import_module('emlab_judge.judge')",
                 "__import__('emlab_judge')", "m = __import__(f'emlab_judge.{name}')",
                 "import sys\nj = sys.modules['emlab_judge']"]:
        assert trusted_side_uses(code), code
    assert trusted_side_uses("from ... import emlab_judge", ("emlab_grader", "labs"))
    assert not trusted_side_uses('"""Docs may name emlab_judge."""\nimport numpy\nfrom . import cases\n')
    assert not trusted_side_uses("from ..cases import Case", ("emlab_grader", "labs"))


def test_kernel_side_package_never_imports_the_trusted_side():
    files = sorted(GRADER.rglob("*.py"))
    assert len(files) >= 5, files
    found = {}
    for path in files:
        package = ("emlab_grader", *path.parent.relative_to(GRADER).parts)
        if uses := trusted_side_uses(path.read_text(), package):
            found[str(path.relative_to(REPO))] = uses
    assert not found, found


def test_kernel_side_package_loads_nothing_of_the_trusted_side():
    """Imported and run (every graded function's hidden cases) in a fresh interpreter where
    the trusted package is importable, the grading API loads none of it and judges nothing."""
    probe = textwrap.dedent('''
        import sys
        import emlab_grader
        from emlab_grader.cases import functions
        for assignment, function in functions():
            try:
                emlab_grader.check(assignment, function, lambda *a: None)
            except emlab_grader.HiddenCheckFailed:
                pass
        print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] == "emlab_judge"))
    ''')
    env = {**os.environ, "PYTHONPATH": str(REPO / "autograder")}
    proc = subprocess.run([str(PYTHON), "-c", probe], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LOADED []" in proc.stdout, proc.stdout[-2000:]


def test_trusted_kernel_hands_the_judge_in(tmp_path):
    """The trusted kernel (make run-sources, nbval on solutions/) judges a wrong answer in the
    kernel; a plain kernel does not."""
    from nbclient import NotebookClient

    from emlab_judge.trusted_kernel import kernel_manager

    wrong = "def loglik(X, mu, Sigma, pi):\n    return -1.0\n"
    hidden = '__import__("emlab_grader").check("03-old-faithful", "loglik", loglik)'
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(wrong), nbformat.v4.new_code_cell(hidden)])
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO / "autograder"), env_path] if p)
    try:
        NotebookClient(nb, km=kernel_manager(tmp_path / "kernels"), timeout=120,
                       allow_errors=True).execute(cleanup_kc=True)
        plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(wrong), nbformat.v4.new_code_cell(hidden)])
        NotebookClient(plain, kernel_name="python3", timeout=120, allow_errors=True).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    trusted_out = nb.cells[1].outputs
    assert any(o.get("ename") == "HiddenCheckFailed" for o in trusted_out), trusted_out
    plain_out = plain.cells[1].outputs
    assert not any(o.output_type == "error" for o in plain_out), plain_out
    assert "the grader judges the results" in "".join(o.get("text", "") for o in plain_out), plain_out
