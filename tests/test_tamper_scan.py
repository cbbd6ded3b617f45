"""The tampering scan flags code that interferes with grading, and no honest answer."""

from __future__ import annotations

import nbformat
import pytest

import hostile_lab03 as H
from conftest import REPO
from emlab_judge.tamper import scan, scan_notebook, scan_source
from grading_support import solution_sources, split_functions

ANSWERS = ("e_step", "m_step", "loglik")


def honest_sources():
    yield "model answer", solution_sources(REPO / "solutions" / H.ASSIGNMENT / "old_faithful.ipynb", ANSWERS)
    for path in sorted((REPO / "tests" / "banks" / "lab03").rglob("*.py")):
        yield path.stem, split_functions(path.read_text(), ANSWERS)


@pytest.mark.parametrize("name,answers", list(honest_sources()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_sign_in_honest_or_merely_buggy_answers(name, answers):
    for gid, source in answers.items():
        assert scan_source(source) == [], f"{name}/{gid}"


def test_the_release_notebook_is_clean():
    release = nbformat.read(REPO / "notebooks" / H.ASSIGNMENT / "old_faithful.ipynb", as_version=4)
    assert scan_notebook(release, skip_locked=False) == []


@pytest.mark.parametrize("code,sign", [
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "replaces np.allclose"),
    ("import numpy\nnumpy.testing.assert_allclose = print", "replaces numpy.testing.assert_allclose"),
    ("import numpy\nsetattr(numpy, 'isclose', None)", "setattr on numpy"),
    ("get_ipython().set_custom_exc((Exception,), lambda *a: None)", "set_custom_exc"),
    ("import inspect\ninspect.currentframe().f_back.f_locals", "inspects the call stack"),
    ("import sys\n[m for m in sys.modules]", "sys.modules"),
    ("x = _ih[-1]", "history"),
    ("import scipy.special\nscipy.special.logsumexp = max", "replaces scipy.special.logsumexp"),
    ("from emlab_judge import reference", "imports from emlab_judge"),
])
def test_signs_are_found(code, sign):
    found = " | ".join(what for _, what in scan_source(code))
    assert sign in found, found


def test_scan_names_the_cell():
    release = nbformat.read(REPO / "notebooks" / H.ASSIGNMENT / "old_faithful.ipynb", as_version=4)
    good = solution_sources(REPO / "solutions" / H.ASSIGNMENT / "old_faithful.ipynb", ANSWERS)
    nb = H.honest(release, {**good, "m_step": H.WRONG_M_STEP + H.PATCH_COMPARISONS})
    signs = scan_notebook(nb)
    assert signs and all("(m_step)" in s for s in signs), signs


# ---------------------------------------------------------------- odd and deep input never raises

DEEP = {
    "a 1,500-term sum": "x = " + "+".join(["1"] * 1500),
    "a 20,000-term sum": "x = " + "+".join(["1"] * 20_000),
    "20,000 chained calls": "x = f" + "()" * 20_000,
    "20,000 chained attributes": "x = a" + ".b" * 20_000,
    "nested lists": "x = " + "[" * 190 + "]" * 190,
    "1,000 nested parentheses": "x = " + "(" * 1000 + "1" + ")" * 1000,
    "10,000 unary minuses": "x = " + "-" * 10_000 + "1",
    "a null byte": "x = 1\0\nimport numpy as np\nnp.allclose = max",
    "a lone surrogate": "x = '\udc80'",
    "a syntax error": "def f(:\n    pass",
    "an empty cell": "",
}


@pytest.mark.parametrize("code", list(DEEP.values()), ids=list(DEEP))
def test_odd_or_deep_code_never_raises_and_is_no_sign(code):
    assert scan_source(code) == []
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    result = scan(nb)
    assert result.signs == []
    assert all(line.startswith("cell 1 could not be scanned") for line in result.unscanned), result.unscanned


def test_a_patch_beside_a_deep_expression_is_still_found():
    """The deep parse happens in a child interpreter: what it finds comes back."""
    code = "import numpy as np\nnp.allclose = lambda *a, **k: True\nx = " + "+".join(["1"] * 20_000)
    assert scan_source(code) == [(2, "replaces np.allclose")]


def test_a_cell_too_deep_for_any_parser_is_reported_unscanned_not_tampering():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("y = " + "-" * 10_000 + "1")])
    result = scan(nb)
    assert result.signs == [] and scan_notebook(nb) == []
    assert result.unscanned == ["cell 2 could not be scanned for tampering (nested too deeply)"]


def test_malformed_cells_never_raise():
    nb = nbformat.from_dict({"cells": [{"cell_type": "code", "source": ["x = ", 3, "_ih"]},
                                       {"cell_type": "code"}, {"cell_type": "code", "source": None},
                                       "not a cell", {"cell_type": "code", "source": "Out", "metadata": []}]})
    result = scan(nb)
    assert result.unscanned == []
    assert result.signs == ["cell 1, line 1: reads the input/output history (_ih)",
                            "cell 5, line 1: reads the input/output history (Out)"]


# ---------------------------------------------------------------- honest names

@pytest.mark.parametrize("code", [
    "Out = compute(x)\nprint(Out)",
    "In = 3\nIn + 1",
    "for In in range(3):\n    print(In)",
    "def show(Out):\n    return Out",
    "f = lambda In: In + 1",
    "import numpy as In\nIn.zeros(3)",
    "from math import pi as Out\nOut * 2",
    "values = [Out for Out in range(3)]",
    "total = sum(_ for _ in range(3))",
    "_, b = divmod(7, 2)\nprint(_)",
    "(Out := 4) + Out",
    "with open('f') as In:\n    In.read()",
    "try:\n    pass\nexcept ValueError as Out:\n    print(Out)",
    "for _i in range(3):\n    print(_i)",
    "class In:\n    pass\nIn()",
    "match point:\n    case [Out, *In]:\n        print(Out, In)",
    "result.Out = 3\nprint(result.Out, f(In=2), {'In': 1}['In'], options.get('Out'), get('In'))",
], ids=lambda c: c.splitlines()[0][:40])
def test_a_variable_the_student_binds_is_not_history(code):
    assert scan_source(code) == [], code


@pytest.mark.parametrize("code,name", [
    ("print(Out)", "Out"),
    ("text = In[-1]", "In"),
    ("x = _ih[-1]", "_ih"),
    ("x = _oh", "_oh"),
    ("x = _i1", "_i1"),
    ("x = _3", "_3"),
    ("x = _ + 1", "_"),
    ("previous = _ii", "_ii"),
    ("h = get_ipython().history_manager.get_range()", "history_manager"),
    ("%history -n 1-5", "%history"),
    ("cells = %hist -o", "%hist"),
    ("get_ipython().run_line_magic('recall', '3')", "%recall"),
    ("src = globals()['_ih']", "_ih"),
    ("src = get_ipython().user_ns['In']", "In"),
    ("src = get_ipython().user_ns.get('_ih', [])", "_ih"),
    ("def peek():\n    return In[-1]", "In"),
])
def test_reading_the_history_is_flagged(code, name):
    found = " | ".join(what for _, what in scan_source(code))
    assert f"reads the input/output history ({name})" in found, found


def test_a_binding_anywhere_in_the_notebook_makes_the_name_the_students():
    cells = ["Out = {}", "def record(k, v):\n    Out[k] = v\n    return Out", "print(Out)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    assert scan_notebook(nb) == []
    alone = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cells[2])])
    assert scan_notebook(alone) == ["cell 1, line 1: reads the input/output history (Out)"]


def test_ipython_rebinds_input_names_before_every_cell():
    """``_i``, ``_iN`` and ``_N`` are set again by IPython before each cell: a binding in
    another cell does not make them the student's."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("_i = 'mine'"),
                                         nbformat.v4.new_code_cell("print(_i)")])
    assert scan_notebook(nb) == ["cell 2, line 1: reads the input/output history (_i)"]


@pytest.mark.parametrize("code,line,sign", [
    ("%%capture\nimport numpy as np\nnp.allclose = lambda *a, **k: True", 3, "replaces np.allclose"),
    ("\n%%time\nimport sys\nsys.settrace(None)", 4, "calls sys.settrace"),
    ("%time np.isclose = max", 1, "replaces np.isclose"),
    ("%%capture out\n%%time\nget_ipython().set_custom_exc((Exception,), None)", 3, "set_custom_exc"),
    ("files = !ls\nimport numpy as np\nnp.allclose = max", 3, "replaces np.allclose"),
])
def test_magic_bodies_and_shell_lines_are_read_as_the_kernel_reads_them(code, line, sign):
    found = scan_source(code)
    assert any(at == line and sign in what for at, what in found), found
