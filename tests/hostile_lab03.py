"""Hostile and broken submissions of lab 03, one per row of the threat model.

Each case builds a submission (a notebook, or raw bytes for a broken file) from the
release notebook and the honest answers, and says what it must get: the points it may
keep relative to the honest submission, and a phrase its flags or reasons must carry.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Callable

import nbformat

ASSIGNMENT = "03-old-faithful"
POINTS = {"test_e_step": 4, "test_m_step": 4, "test_loglik": 2}

# A wrong m_step (covariances divided by N) and a wrong e_step (ignores pi), for cheats
# that try to hide a wrong answer.
WRONG_M_STEP = '''
def m_step(X, gamma):
    import numpy as np
    Nk = gamma.sum(axis=0)
    mu = gamma.T @ X / Nk[:, None]
    Sigma = np.stack([((X - mu[k]).T * gamma[:, k]) @ (X - mu[k]) / len(X) for k in range(len(Nk))])
    return mu, Sigma, Nk / len(X)
'''
WRONG_E_STEP = '''
def e_step(X, mu, Sigma, pi):
    import numpy as np
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal
    logp = np.column_stack([multivariate_normal(mu[k], Sigma[k]).logpdf(X).reshape(len(X))
                            for k in range(len(mu))])
    return np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
'''
WRONG_LOGLIK = '''
def loglik(X, mu, Sigma, pi):
    return -1.0
'''
PATCH_COMPARISONS = '''
import numpy, numpy.testing
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, dtype=bool)
numpy.array_equal = lambda *a, **k: True
for _name in dir(numpy.testing):
    if _name.startswith("assert"):
        setattr(numpy.testing, _name, lambda *a, **k: None)
'''


@dataclass
class Case:
    name: str
    build: Callable[[nbformat.NotebookNode, dict], object]  # -> NotebookNode or bytes
    loses: tuple[str, ...]  # test cells whose points the case must not keep
    says: str  # a pattern (regex, any case) its report row (flags and reasons) must match
    keeps_rest: bool = True  # the other test cells keep their points


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _cell(nb, grade_id):
    for cell in nb.cells:
        if _grade_id(cell) == grade_id:
            return cell
    raise KeyError(grade_id)


def honest(release, answers):
    nb = copy.deepcopy(release)
    for gid, source in answers.items():
        _cell(nb, gid).source = source
    return nb


def _with(answers, **replace):
    def build(release, good):
        return honest(release, {**good, **replace})
    return build


def _append_to(gid, code):
    def build(release, good):
        return honest(release, {**good, gid: good[gid] + "\n" + code})
    return build


def _insert_after(gid, code):
    def build(release, good):
        nb = honest(release, good)
        index = nb.cells.index(_cell(nb, gid))
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
        return nb
    return build


def _inside(function_source, prologue):
    """Put ``prologue`` at the top of the function's body (runs when the test calls it)."""
    head, body = function_source.split("\n", 1) if function_source.startswith("def") else \
        function_source.lstrip("\n").split("\n", 1)
    indented = "\n".join("    " + line for line in prologue.strip().splitlines())
    return f"{head}\n{indented}\n{body}"


def _meta(build_nb):
    def build(release, good):
        return build_nb(honest(release, good))
    return build


def _duplicate_grade_id(nb):
    extra = nbformat.v4.new_code_cell("pass", metadata=copy.deepcopy(_cell(nb, "test_e_step").metadata))
    nb.cells.insert(1, extra)
    return nb


def _schema_99(nb):
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["schema_version"] = 99
    return nb


def _answer_to_grade(nb):
    meta = _cell(nb, "e_step").metadata["nbgrader"]
    meta.update(grade=True, points=100)
    return nb


def _fake_grade_cell(nb):
    nb.cells.append(nbformat.v4.new_code_cell("print('bonus')", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus_points", "locked": True, "points": 100, "schema_version": 3,
        "solution": False, "task": False}}))
    return nb


def _delete_tests(nb):
    nb.cells = [c for c in nb.cells if not str(_grade_id(c) or "").startswith("test_")]
    return nb


def _strip_test_metadata(nb):
    for cell in nb.cells:
        if str(_grade_id(cell) or "").startswith("test_"):
            del cell.metadata["nbgrader"]
    return nb


def _empty_tests_raise_points(nb):
    for cell in nb.cells:
        if str(_grade_id(cell) or "").startswith("test_"):
            cell.source = ""
            cell.metadata["nbgrader"]["points"] = 100
    return nb


def _stored_output_flood(nb):
    nb.cells[0].setdefault("outputs", []).append(
        nbformat.v4.new_output("stream", name="stdout", text="x" * (100 * 1024 * 1024)))
    return nb


def _malformed_json(release, good):
    text = json.dumps(honest(release, good))
    return text[: len(text) // 2].encode()


FIND_REFERENCE = '''
def e_step(X, mu, Sigma, pi):
    """Look everywhere for the grader's reference or the solution notebook and use it."""
    import glob, importlib, json, os, sys
    for name, module in list(sys.modules.items()):
        if module is not None and hasattr(module, "e_step") and "emlab_judge" in name or "reference" in name:
            return module.e_step(X, mu, Sigma, pi)
    for mod in ("emlab_judge.reference", "emlab_grader.reference", "autograder.emlab_judge.reference"):
        try:
            return importlib.import_module(mod).e_step(X, mu, Sigma, pi)
        except Exception:
            pass
    here = os.path.abspath(".")
    roots = {here, os.path.expanduser("~"), "/", "/tmp", "/work"}
    for _ in range(6):
        here = os.path.dirname(here)
        roots.add(here)
    for root in sorted(roots):
        for pattern in ("**/reference.py", "**/solutions/**/*.ipynb"):
            for path in glob.glob(os.path.join(root, pattern), recursive=True)[:50]:
                try:
                    text = open(path).read()
                except Exception:
                    continue
                if path.endswith(".py") and "def e_step" in text:
                    ns = {}
                    exec(compile(text, path, "exec"), ns)
                    return ns["e_step"](X, mu, Sigma, pi)
                if path.endswith(".ipynb") and "def e_step" in text:
                    for cell in json.loads(text)["cells"]:
                        src = "".join(cell["source"])
                        if src.startswith("def e_step"):
                            ns = {}
                            exec(src.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), ns)
                            return ns["e_step"](X, mu, Sigma, pi)
    import numpy as np
    return np.full((len(X), len(mu)), 1.0 / len(mu))
'''

SNOOP_FRAMES = '''
def loglik(X, mu, Sigma, pi):
    """Look for an expected value in the caller's frames and in the input history."""
    import inspect
    frame = inspect.currentframe().f_back
    while frame is not None:
        for name, value in list(frame.f_locals.items()):
            if name in ("expected", "want", "reference", "ref", "answer") and isinstance(value, float):
                return value
        frame = frame.f_back
    ip = get_ipython()
    for source in ip.user_ns.get("In", []) + ip.user_ns.get("_ih", []):
        if "expected" in source:
            pass
    return 0.0
'''

CASES = [
    Case("patch allclose/isclose/testing at top level", _with(None, m_step=WRONG_M_STEP + PATCH_COMPARISONS),
         ("test_m_step",), r"tampering suspected.*numpy\.allclose.*judge gave 0", keeps_rest=False),
    Case("patch comparisons inside the graded function",
         _with(None, m_step=_inside(WRONG_M_STEP.lstrip("\n"), PATCH_COMPARISONS)), ("test_m_step",),
         r"tampering suspected.*numpy\.allclose.*judge gave 0", keeps_rest=False),
    Case("replace scipy functions a live reference would use",
         _with(None, e_step=WRONG_E_STEP + '''
import scipy.special, scipy.stats
_real = scipy.special.logsumexp
scipy.special.logsumexp = lambda a, axis=None, keepdims=False, **k: _real(a, axis=axis, keepdims=keepdims) * 0
scipy.stats.multivariate_normal.logpdf = lambda *a, **k: 0.0
'''), ("test_e_step",), r"tampering suspected.*scipy\.special\.logsumexp.*test_e_step", keeps_rest=False),
    Case("set_custom_exc swallowing test errors",
         _with(None, loglik=WRONG_LOGLIK + "\nget_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"),
         ("test_loglik",), r"tampering suspected.*set_custom_exc.*test_loglik"),
    Case("search sys.modules and the disk for the reference or solution",
         _with(None, e_step=FIND_REFERENCE), ("test_e_step",), r"tampering suspected.*sys\.modules.*test_e_step"),
    Case("inspect the caller's frame and In/_ih for expected values",
         _with(None, loglik=SNOOP_FRAMES), ("test_loglik",), r"tampering suspected.*call stack.*test_loglik"),
    Case("sys.exit() inside a graded function",
         lambda r, g: honest(r, {**g, "loglik": _inside(g["loglik"], "import sys; sys.exit()")}),
         ("test_loglik",), "SystemExit"),
    Case("malformed JSON", _malformed_json, tuple(POINTS), "not valid JSON", keeps_rest=False),
    Case("duplicate grade_id", _meta(_duplicate_grade_id), (), "duplicate grade_id"),
    Case("schema_version: 99", _meta(_schema_99), (), "schema_version"),
    Case("answer cell turned into a grade cell with 100 points", _meta(_answer_to_grade), (), "restored"),
    Case("fake grade cell worth 100 points", _meta(_fake_grade_cell), (), "fake grade cell"),
    Case("test cells deleted", _meta(_delete_tests), (), "deleted"),
    Case("test cells' nbgrader metadata stripped", _meta(_strip_test_metadata), (), "deleted or stripped"),
    Case("test cells emptied, points raised to 100", _meta(_empty_tests_raise_points), (), "restored"),
    Case("100 MB of stored output in the file", _meta(_stored_output_flood), (), "stored output"),
    Case("100 MB printed while grading", _insert_after("loglik", "print('x' * (100 * 1024 * 1024))"), (),
         "output"),
    Case("os._exit(1) in the m_step cell", _append_to("m_step", "import os; os._exit(1)"), ("test_m_step",),
         "kernel died"),
    Case("loop that ignores SIGINT", _insert_after(
        "loglik", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"), (),
        "time limit"),
    # the copies it forked are killed with the kernel (the reason counts them) unless they have
    # died by then on a loaded machine; either way the reason names the cell that was stopped
    # (interrupted at its time limit, or restarted when it ignored the interrupt)
    Case("fork bomb", _insert_after("loglik", "import os\nwhile True:\n    os.fork()"), (),
         "process|skipped|ran past the \\d+ s time limit"),
    Case("memory that grows without bound", _insert_after(
        "loglik", "hog = []\nwhile True:\n    hog.append(bytearray(100 * 1024 * 1024))"), (), "out of memory"),
]
