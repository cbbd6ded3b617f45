"""Fixes to nbgrader 0.9.6 that the course needs. :func:`install` puts them in place; it is
called from ``autograder/nbgrader_config.py``, so they hold for every nbgrader step and for
the formgrader's server run under the course configuration.

- **Student ids taken literally once found.** nbgrader finds a step's submissions with
  ``glob`` on the path pattern built from the assignment and student ids, then globs each
  folder it found a second time to list its notebooks. A folder whose name holds glob
  characters (a student id ``x[ab]``) is found by an escaped pattern, but the second glob
  reads its name as a pattern again and finds nothing: the student is silently not graded.
  The second step lists the folder found, with its name escaped.
- **The formgrader serves a submission's own files only, inert.** Its
  ``/formgrader/submissions/<id>/<path>`` handler serves from the course root and decodes
  ``%2F``, so ``..%2F..%2F..%2Fsolutions%2F...`` reached any file of the course (the raw
  submissions, the solutions) on the instructor's origin, as ``text/html`` where the name
  says so. Here a path that leaves the submission's graded folder, or passes through a link,
  is not found, and every file is sent with ``Content-Security-Policy: sandbox`` (no script
  runs, no access to the instructor's session) and ``X-Content-Type-Options: nosniff``.
- **The formgrader's pages escape what they show.** Its Jinja environment has no
  autoescape, and its pages print ids (a student id is the name of a folder a student
  chose: ``<img src=x onerror=...>`` is a valid one) into HTML and into JavaScript strings;
  its API sends JSON as ``text/html``. Here every page is rendered with autoescape (an id
  shows as text, and cannot close a script's string), and the API's answers are sent as
  plain text with ``nosniff`` (a browser that opens one shows text, runs nothing).
"""

from __future__ import annotations

import glob
import os
import re
import sys

__all__ = ["install", "submission_file_path", "INERT_HEADERS"]

# sent with every file the formgrader serves from a submission's folder
INERT_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


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


def submission_file_path(folder: str, path: str) -> str | None:
    """``folder/path`` when it stays inside ``folder`` (a submission's graded folder) and no
    part of it below ``folder`` is a link; None otherwise."""
    folder = os.path.abspath(folder)
    full = os.path.normpath(os.path.join(folder, path))
    if full == folder or os.path.commonpath([full, folder]) != folder:
        return None
    here = folder
    for part in os.path.relpath(full, folder).split(os.sep):
        here = os.path.join(here, part)
        if os.path.islink(here):
            return None
    return full


def _submission_files_parse_url_path(self, url_path):
    """nbgrader's ``SubmissionFilesHandler.parse_url_path``, kept to the submission's folder."""
    from nbgrader.api import MissingEntry
    from tornado import web

    match = re.match(r"([^/]+)/(.*)", url_path.lstrip("/"))
    if match is None:
        raise web.HTTPError(404)
    submission_id, path = match.groups()
    try:
        submission = self.gradebook.find_submission_notebook_by_id(submission_id)
        assignment_id, student_id = submission.assignment.assignment.name, submission.student.id
    except MissingEntry:
        raise web.HTTPError(404, "Invalid submission: {}".format(submission_id)) from None
    folder = self.coursedir.format_path(self.coursedir.autograded_directory, student_id, assignment_id)
    full = submission_file_path(folder, path)
    if full is None:
        raise web.HTTPError(404)
    return web.StaticFileHandler.parse_url_path(self, full)


def _inert_headers(self, path) -> None:
    for name, value in INERT_HEADERS.items():
        self.set_header(name, value)


def _render_escaped(self, name, **ns):
    """nbgrader's ``BaseHandler.render``, with the environment's autoescape on (templates
    compiled before are compiled again)."""
    env = self.settings["nbgrader_jinja2_env"]
    if env.autoescape is not True:
        env.autoescape = True
        if env.cache is not None:
            env.cache.clear()
    return env.get_template(name).render(**ns)


def _json_headers(self) -> None:
    """The API's default headers: the server's own, then its JSON sent as plain text, never
    sniffed. Not ``application/json``: the formgrader's scripts parse the text themselves
    (``JSON.parse``), and jQuery would hand them an object already parsed."""
    _json_headers.server_defaults(self)
    self.set_header("Content-Type", "text/plain; charset=UTF-8")
    self.set_header("X-Content-Type-Options", "nosniff")


def _patch_formgrader(handlers, base) -> None:
    handlers.SubmissionFilesHandler.parse_url_path = _submission_files_parse_url_path
    handlers.SubmissionFilesHandler.set_extra_headers = _inert_headers
    base.BaseHandler.render = _render_escaped
    if base.BaseApiHandler.set_default_headers is not _json_headers:
        _json_headers.server_defaults = base.BaseApiHandler.set_default_headers
        base.BaseApiHandler.set_default_headers = _json_headers


def install() -> None:
    """Put the fixes in place in this process (idempotent)."""
    from nbgrader.converters.base import BaseConverter

    BaseConverter.init_notebooks = _init_notebooks
    # The formgrader imports its handlers before it reads this configuration; a grading
    # process never imports them (nor pays for their import here).
    handlers = sys.modules.get("nbgrader.server_extensions.formgrader.handlers")
    base = sys.modules.get("nbgrader.server_extensions.formgrader.base")
    if handlers is not None and base is not None:
        _patch_formgrader(handlers, base)
