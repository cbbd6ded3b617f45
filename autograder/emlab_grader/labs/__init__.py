"""One module per lab, ``labNN.py``, discovered by name: no shared registry to edit.

Each declares ``ASSIGNMENT`` (the nbgrader id, e.g. ``"03-old-faithful"``), ``CASES``
({graded function: a callable returning its hidden-check inputs, a list of
:class:`emlab_grader.cases.Case`}) and ``PROPERTIES`` ({graded function: a callable
``(kwargs, output) -> message or None``} for facts any correct output has). Nothing here
may hold a reference implementation or an expected value: this package is visible to the
student's kernel while it is graded.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from types import ModuleType

__all__ = ["lab_modules", "discover"]


def discover(package_name: str, package_path) -> dict[str, ModuleType]:
    """{assignment id: module} for every ``labNN`` module of a package."""
    found = {}
    for info in pkgutil.iter_modules(package_path):
        if re.fullmatch(r"lab\d\d", info.name):
            module = importlib.import_module(f"{package_name}.{info.name}")
            found[module.ASSIGNMENT] = module
    return dict(sorted(found.items()))


@functools.cache
def lab_modules() -> dict[str, ModuleType]:
    """{assignment id: module} of the in-kernel grading API's lab modules."""
    return discover(__name__, __path__)
