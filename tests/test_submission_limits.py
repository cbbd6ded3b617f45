"""What one submission can put in front of the grader is bounded: a cell's source and a
notebook's, the code the tamper scan reads, the reasons and messages a result keeps, the
messages a kernel may send, the memory of an nbgrader process; and nothing a submission
writes (a lone surrogate, a number of 5,000 digits, an id the command line would rewrite)
stops a report from being written or the right student from being graded."""

from __future__ import annotations

import json
import resource
import time

import nbformat
import pytest

from conftest import REPO
from emlab_judge import preflight as P
from emlab_judge.results import MAX_LINE, MAX_LINES, SubmissionResult
from emlab_judge.tamper import SCAN_BUDGET, scan
from grading_support import grade_id

ASSIGNMENT = "03-old-faithful"
NOTEBOOK = "old_faithful.ipynb"


def release():
    return nbformat.read(REPO / "notebooks" / ASSIGNMENT / NOTEBOOK, as_version=4)


def _with(*cells) -> bytes:
    nb = release()
    nb.cells.extend(cells)
    return nbformat.writes(nb).encode()


def test_the_release_notebooks_are_well_within_the_source_limits():
    for path in sorted((REPO / "notebooks").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        sizes = [len(c.source) for c in nb.cells]
        assert max(sizes) * 10 < P.MAX_CELL_SOURCE, path
        assert sum(sizes) * 10 < P.MAX_NOTEBOOK_SOURCE, path
        assert sum(len(c.source) for c in nb.cells if c.cell_type == "code") * 4 < SCAN_BUDGET, path


def test_an_oversized_code_cell_raises_instead_of_running_and_is_named():
    big = "x = 1\n" * (P.MAX_CELL_SOURCE // 6 + 10)
    result = P.preflight(_with(nbformat.v4.new_code_cell(big)), release())
    assert result.gradable
    last = result.notebook.cells[-1]
    assert last.cell_type == "code" and len(last.source) < 300 and last.source.startswith("raise RuntimeError(")
    compile(last.source, "<cell>", "exec")  # a valid cell that raises when run
    [reason] = [r for r in result.reasons if "characters, over the" in r]
    assert f"{len(big):,} characters" in reason and "raises an error instead of running" in reason
    # every other cell, the answers included, is as submitted
    assert [grade_id(c) for c in result.notebook.cells[:-1]] == [grade_id(c) for c in release().cells]


def test_text_past_the_notebook_budget_is_dropped_with_a_reason():
    chunk = "An answer with $x^2$. " * (P.MAX_CELL_SOURCE // 23)
    cells = [nbformat.v4.new_markdown_cell(chunk) for _ in range(P.MAX_NOTEBOOK_SOURCE // len(chunk) + 2)]
    result = P.preflight(_with(*cells), release())
    assert result.gradable
    total = sum(len(c.source) for c in result.notebook.cells)
    assert total <= P.MAX_NOTEBOOK_SOURCE
    dropped = [c for c in result.notebook.cells if "did not keep this cell's text" in c.source]
    assert dropped and all(len(c.source) < 300 for c in dropped)
    assert any("over the" in r and "notebook's text" in r for r in result.reasons)


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "9" * 4400])
def test_a_number_too_long_to_read_makes_the_file_ungradable_with_a_reason(number):
    raw = nbformat.writes(release()).replace('"nbformat": 4', f'"nbformat": 4, "x": {number}', 1).encode()
    result = P.preflight(raw, release())
    assert not result.gradable and "not a notebook that can be read" in result.fatal


def test_the_tamper_scan_reads_at_most_its_budget_and_says_what_it_left():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nnp.allclose = lambda *a, **k: True"),
        nbformat.v4.new_code_cell("x = 1\n" * (SCAN_BUDGET // 6 + 1)),
        nbformat.v4.new_code_cell("import numpy as np\nnp.testing.assert_allclose = print")])
    start, before = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = scan(nb)
    seconds, grown_mb = time.process_time() - start, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert any("cell 1" in s and "allclose" in s for s in found.signs)
    assert any("cell 3" in s for s in found.signs)  # read: the big cell was skipped, not the rest
    assert [u for u in found.unscanned if "cell 2" in u and f"{SCAN_BUDGET:,} characters" in u]
    assert seconds < 10 and grown_mb < 400, (seconds, grown_mb)


def test_a_result_keeps_a_bounded_number_of_lines_each_bounded_and_valid_utf8():
    result = SubmissionResult("ada", ASSIGNMENT, reasons=[f"reason {i} " + "w " * 3000 for i in range(10 * MAX_LINES)],
                              flags=["bad \ud800 flag"], messages={"test_e_step": ["m"] * (MAX_LINES + 5)})
    result.bound()
    assert len(result.reasons) == MAX_LINES + 1 and result.reasons[-1].startswith(f"... and {9 * MAX_LINES:,} more")
    assert all(len(r) <= MAX_LINE + 2 for r in result.reasons)
    assert result.reasons[0].endswith(" …") and not result.reasons[0].endswith("w  …")
    assert result.flags == ["bad \\ud800 flag"]
    assert len(result.messages["test_e_step"]) == MAX_LINES + 1
    json.dumps(result.to_json()).encode("utf-8")  # and every string encodes


def test_a_lone_surrogate_in_a_reason_does_not_stop_the_run_report(tmp_path):
    from emlab_judge.report import write_report

    results = [SubmissionResult("\udcff-id", ASSIGNMENT, reasons=["CellTimeoutError: \ud800"], flags=["x \udfff"]),
               SubmissionResult("ben", ASSIGNMENT, score=9, max_score=9)]
    path = write_report(results, tmp_path)
    text = path.read_text("utf-8")
    assert "ben" in text and "\\ud800" in text
    html = (tmp_path / "report.html").read_text("utf-8")
    assert "ben" in html and "\\udfff" in html
    assert json.loads((tmp_path / "results.json").read_text("utf-8"))[1]["student"] == "ben"


def test_an_unreadable_stored_result_is_shown_not_left_out(tmp_path):
    from emlab_judge.course import Course
    from emlab_judge.results import stored_result_path, stored_results

    course = Course(tmp_path)
    good = stored_result_path(course, "ben", ASSIGNMENT)
    good.parent.mkdir(parents=True)
    good.write_text(json.dumps(SubmissionResult("ben", ASSIGNMENT).to_json()))
    (good.parent / "broken-123.json").write_text("{not json")
    (good.parent / f".{good.name}.4242.0a1b.tmp").write_text("{half")  # a write a killed run left
    got = {r.student: r for r in stored_results(course)}
    assert set(got) == {"ben", "broken-123"}
    assert got["ben"].status == "graded"
    assert got["broken-123"].status == "failed" and "could not be read" in got["broken-123"].reasons[0]


def test_kernel_clients_take_no_message_over_the_limit():
    import zmq

    from emlab_judge.sandbox import MAX_MESSAGE_BYTES, SandboxKernelManager

    km = SandboxKernelManager(kernel_name="python3")
    client = km.client()
    try:
        assert client.context.getsockopt(zmq.MAXMSGSIZE) == MAX_MESSAGE_BYTES
        assert km.context.getsockopt(zmq.MAXMSGSIZE) == MAX_MESSAGE_BYTES
        socket = client.context.socket(zmq.SUB)
        assert socket.getsockopt(zmq.MAXMSGSIZE) == MAX_MESSAGE_BYTES
        socket.close(0)
    finally:
        client.context.term()


def test_an_oversized_message_is_refused_before_it_is_read():
    """ZeroMQ drops the connection of a frame over MAXMSGSIZE: the receiver never holds it."""
    import zmq

    from emlab_judge.sandbox import MAX_MESSAGE_BYTES, _bounded_context

    with zmq.Context() as plain:
        ctx = _bounded_context(zmq.Context())
        try:
            pull = ctx.socket(zmq.PULL)
            port = pull.bind_to_random_port("tcp://127.0.0.1")
            push = plain.socket(zmq.PUSH)
            push.connect(f"tcp://127.0.0.1:{port}")
            push.send(b"x" * (MAX_MESSAGE_BYTES + 1))
            push.send(b"small")
            assert pull.poll(5000) and pull.recv() == b"small"
            push.close(0)
            pull.close(0)
        finally:
            ctx.term()


def test_an_nbgrader_process_has_a_bounded_address_space(tmp_path):
    import multiprocessing

    from emlab_judge import nbgrader_process as NP

    def child(queue):
        NP._limit_memory({"EMLAB_GRADER_MEMORY_LIMIT": str(3 * 2**30)})
        queue.put(resource.getrlimit(resource.RLIMIT_AS)[0])
        try:
            bytearray(4 * 2**30)
            queue.put("allocated")
        except MemoryError:
            queue.put("MemoryError")

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=child, args=(queue,))
    proc.start()
    limit, outcome = queue.get(timeout=60), queue.get(timeout=60)
    proc.join(60)
    assert limit == 3 * 2**30 and outcome == "MemoryError"


def test_student_ids_reach_nbgrader_literally():
    """A leading ~ or surrounding quotes would be rewritten on nbgrader's command line; the
    harness hands the id over through the configuration, as a value, glob-escaped."""
    import glob
    import os
    import subprocess
    import sys

    code = ("from traitlets.config.loader import PyFileConfigLoader\n"
            "loader = PyFileConfigLoader('nbgrader_config.py', path=sys.argv[1])\n"
            "print(repr(loader.load_config().CourseDirectory.student_id))\n")
    for student in ("~root", "'quoted'", "\"dq\"", "[ab]", "a b"):
        env = {**os.environ, "EMLAB_HARNESS": "1", "EMLAB_STUDENT_ID": student}
        out = subprocess.run([sys.executable, "-c", "import sys\n" + code, str(REPO / "autograder")], env=env,
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        assert out == repr(glob.escape(student))
