"""Each lab's intro says how a function's points are split over its hidden cases, and says it
truly: the paragraph is generated from the hidden-check specs (autograder/point_splits.py), and
the students' release carries the same paragraph."""

from __future__ import annotations

import nbformat

from autograder import point_splits as P
from conftest import REPO


def test_every_source_notebook_states_the_current_split():
    assert P.main(["--check"]) == 0, "run: python -m autograder.point_splits && make release"


def test_the_release_states_the_same_split_as_the_source():
    for source in sorted((REPO / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(source, as_version=4)
        if not P.graded_functions(nb):
            continue
        released = nbformat.read(REPO / "notebooks" / source.parent.name / source.name, as_version=4)
        paragraph = P.split_paragraph(nb)
        assert paragraph in nb.cells[0].source and paragraph in released.cells[0].source, source.name


def test_the_paragraph_counts_the_cases_of_each_function():
    nb = nbformat.read(REPO / "solutions" / "03-old-faithful" / "old_faithful.ipynb", as_version=4)
    from emlab_grader.cases import cases_for

    text = P.split_paragraph(nb)
    for assignment, function in P.graded_functions(nb):
        assert f"`{function}` {len(cases_for(assignment, function))} cases" in text
