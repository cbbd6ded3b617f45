"""The tampering scan flags code that interferes with grading, and no honest answer."""

from __future__ import annotations

import nbformat
import pytest

import hostile_lab03 as H
from conftest import REPO
from emlab_judge.tamper import scan_notebook, scan_source
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
