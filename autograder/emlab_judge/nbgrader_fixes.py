"""A fix to nbgrader 0.9.6 that the course needs: student ids taken literally once found.

nbgrader finds a step's submissions with ``glob`` on the path pattern built from the
assignment and student ids, then globs each folder it found a second time to list its
notebooks. A folder whose name holds glob characters (a student id ``x[ab]``) is found by
an escaped pattern, but the second glob reads its name as a pattern again and finds
nothing: the student is silently not graded. :func:`install` makes the second step list the
folder found, with its name escaped. Called from ``autograder/nbgrader_config.py``, so it
holds for every nbgrader step run under the course configuration.
"""

from __future__ import annotations

import glob
import os

__all__ = ["install"]


def _init_notebooks(self) -> None:
    """nbgrader's ``BaseConverter.init_notebooks``, with each found folder escaped before
    its notebooks are globbed."""
    from nbgrader.converters.base import NbGraderException

    self.assignments = {}
    self.notebooks = []
    assignment_glob = self._format_source(self.coursedir.assignment_id, self.coursedir.student_id)
    for assignment in glob.glob(assignment_glob):
        found = glob.glob(os.path.join(glob.escape(assignment), self.coursedir.notebook_id + ".ipynb"))
        if not found:
            self.log.warning("No notebooks were matched in '%s'", assignment)
            continue
        self.assignments[assignment] = found
    if not self.assignments:
        msg = "No notebooks were matched by '%s'" % assignment_glob
        self.log.error(msg)
        raise NbGraderException(msg)


def install() -> None:
    """Put the fix in place in this process (idempotent)."""
    from nbgrader.converters.base import BaseConverter

    BaseConverter.init_notebooks = _init_notebooks
