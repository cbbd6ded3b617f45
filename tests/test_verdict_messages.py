"""The one-line summary of why a judged cell failed names the real failure: an error before
any warning text that came first on stderr, cut at a word boundary."""

from __future__ import annotations

import nbformat

from emlab_judge.verdicts import _cell_errored, shorten


def _cell(*outputs):
    return nbformat.v4.new_code_cell("check()", outputs=list(outputs))


WARNING = nbformat.v4.new_output("stream", name="stderr",
                                 text="/tmp/work/x.py:3: RuntimeWarning: divide by zero encountered in log\n  y = np.log(p)\n")
ERROR = nbformat.v4.new_output("error", ename="AssertionError", evalue="gamma rows must sum to 1", traceback=[])


def test_an_error_is_named_before_a_warning_that_came_first():
    assert _cell_errored(_cell(WARNING, ERROR)) == "AssertionError: gamma rows must sum to 1"


def test_stderr_alone_is_quoted_by_its_first_line():
    got = _cell_errored(_cell(WARNING))
    assert got.startswith("output on stderr (") and "RuntimeWarning: divide by zero" in got and "np.log" not in got


def test_nothing_shown_is_no_error():
    assert _cell_errored(_cell(nbformat.v4.new_output("stream", name="stdout", text="ok\n"))) == ""


def test_summaries_end_at_a_word_boundary():
    text = "the responsibilities of point 17 do not sum to one across components " * 10
    short = shorten(text, 100)
    assert len(short) <= 102 and short.endswith(" …")
    assert text.startswith(short[:-2]) and short[:-2].split()[-1] in text.split()
    assert shorten("short text", 100) == "short text"
    assert shorten("x" * 300, 100) == "x" * 100 + " …"  # no space: cut at the limit
