"""Preflight keeps what an honest written answer holds (attachments: images pasted into a
markdown answer), checked, so that feedback and the formgrader can show it."""

from __future__ import annotations

import base64
import io
import json

import nbformat
import pytest

from conftest import REPO
from emlab_judge.preflight import MAX_ATTACHMENT_BYTES, PLACEHOLDER, PLACEHOLDER_MIME, preflight
from grading_support import grade_id, run_nbgrader, temporary_course

ASSIGNMENT = "03-old-faithful"
NOTEBOOK = "old_faithful.ipynb"
ANSWER = "q_generative"  # a manually graded markdown answer


def _png() -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.plot([0, 1, 2], [0, 1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


PNG = _png()


def release():
    return nbformat.read(REPO / "notebooks" / ASSIGNMENT / NOTEBOOK, as_version=4)


def submission(text: str, attachments=None) -> tuple[bytes, int]:
    """The release notebook with the written answer ``text`` (and raw ``attachments``), as bytes."""
    nb = release()
    [index] = [i for i, c in enumerate(nb.cells) if grade_id(c) == ANSWER]
    data = json.loads(nbformat.writes(nb))
    data["cells"][index]["source"] = text
    if attachments is not None:
        data["cells"][index]["attachments"] = attachments
    return json.dumps(data).encode(), index


def answer_cell(result):
    return next(c for c in result.notebook.cells if grade_id(c) == ANSWER)


def test_an_image_pasted_into_a_written_answer_is_kept():
    raw, _ = submission("My sketch:\n\n![sketch](attachment:sketch.png)", {"sketch.png": {"image/png": PNG}})
    result = preflight(raw, release())
    assert result.gradable and result.reasons == []
    cell = answer_cell(result)
    assert cell.attachments == {"sketch.png": {"image/png": PNG}}
    nbformat.validate(result.notebook)
    assert json.loads(nbformat.writes(result.notebook))  # writes and reads back


def test_multiline_base64_and_raw_cell_attachments_are_kept():
    lines = [PNG[i:i + 76] + "\n" for i in range(0, len(PNG), 76)]
    raw, index = submission("![a](attachment:a.png)", {"a.png": {"image/png": lines}})
    data = json.loads(raw)
    data["cells"].insert(index + 1, {"cell_type": "raw", "metadata": {}, "source": "notes",
                                     "attachments": {"b.png": {"image/png": PNG}}})
    result = preflight(json.dumps(data).encode(), release())
    assert result.reasons == []
    assert answer_cell(result).attachments == {"a.png": {"image/png": PNG}}
    raw_cell = result.notebook.cells[index + 1]
    assert raw_cell.cell_type == "raw" and raw_cell.attachments == {"b.png": {"image/png": PNG}}
    nbformat.validate(result.notebook)


@pytest.mark.parametrize("attachments,why", [
    ("not a dict", "not a mapping"),
    ({"": {"image/png": PNG}}, "not a valid attachment name"),
    ({"bad\nname.png": {"image/png": PNG}}, "not a valid attachment name"),
    ({"x.png": "iVBOR"}, "no MIME type and data"),
    ({"x.png": {}}, "no MIME type and data"),
    ({"x.png": {"image/png": "not base64 at all!"}}, "not base64"),
    ({"x.png": {"image/png": "ünïcode"}}, "not base64"),
    ({"x.png": {"image/png": 12}}, "not text"),
    ({"x.png": {"application/json": {"a": 1}}}, "not a MIME type with base64 data"),
    ({"x.png": {"not a mime": PNG}}, "not a MIME type with base64 data"),
])
def test_a_malformed_attachment_is_dropped_with_a_reason(attachments, why):
    raw, _ = submission("text ![x](attachment:x.png)", attachments)
    result = preflight(raw, release())
    assert result.gradable
    assert any(why in r for r in result.reasons), result.reasons
    cell = answer_cell(result)
    # the image the text shows becomes a placeholder: nbconvert refuses a missing attachment
    assert cell.attachments == {"x.png": {PLACEHOLDER_MIME: PLACEHOLDER}}
    assert any("placeholder" in r for r in result.reasons), result.reasons
    nbformat.validate(result.notebook)


def test_attachments_over_the_notebook_limit_are_dropped_with_a_reason():
    big = base64.b64encode(b"\0" * (MAX_ATTACHMENT_BYTES * 6 // 10)).decode()
    raw, _ = submission("![one](attachment:one.png) ![two](attachment:two.png) ![small](attachment:small.png)",
                            {"one.png": {"image/png": big}, "two.png": {"image/png": big},
                             "small.png": {"image/png": PNG}})
    result = preflight(raw, release())
    cell = answer_cell(result)
    assert cell.attachments["one.png"] == {"image/png": big}
    assert cell.attachments["small.png"] == {"image/png": PNG}  # what still fits is kept
    assert cell.attachments["two.png"] == {PLACEHOLDER_MIME: PLACEHOLDER}
    assert any("'two.png'" in r and "over the 10 MB limit" in r for r in result.reasons), result.reasons
    nbformat.validate(result.notebook)


def test_a_reference_to_no_attachment_gets_a_placeholder_and_the_notebook_renders():
    from nbconvert import HTMLExporter

    raw, _ = submission("![a](attachment:never.png) and ![b][ref]\n\n[ref]: attachment:also.png")
    result = preflight(raw, release())
    cell = answer_cell(result)
    assert set(cell.attachments) == {"never.png", "also.png"}
    html, _ = HTMLExporter().from_notebook_node(result.notebook)  # raised "missing attachment" before
    assert f"data:{PLACEHOLDER_MIME};base64,{PLACEHOLDER}" in html


def test_attachments_on_a_code_cell_are_dropped():
    raw, _ = submission("answer")
    data = json.loads(raw)
    code = next(i for i, c in enumerate(data["cells"]) if c["cell_type"] == "code")
    data["cells"][code]["attachments"] = {"x.png": {"image/png": PNG}}
    result = preflight(json.dumps(data).encode(), release())
    assert any("attachments of a code cell dropped" in r for r in result.reasons), result.reasons
    assert "attachments" not in result.notebook.cells[code]
    nbformat.validate(result.notebook)


def test_stock_feedback_shows_the_attachment(tmp_path):
    """``nbgrader generate_feedback`` (stock) on the preflighted notebook, graded in the
    gradebook, writes feedback HTML with the image in it."""
    from nbgrader.api import Gradebook

    course = temporary_course(tmp_path, [ASSIGNMENT])
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force",
                 f"--CourseDirectory.release_directory={course.scratch / 'release'}", timeout=300)
    raw, _ = submission("My sketch:\n\n![sketch](attachment:sketch.png)", {"sketch.png": {"image/png": PNG}})
    result = preflight(raw, release())
    graded = course.autograder / "autograded" / "ada" / ASSIGNMENT
    graded.mkdir(parents=True)
    nbformat.write(result.notebook, graded / NOTEBOOK)
    with Gradebook(course.db_url, course_id="emlab") as gb:
        gb.update_or_create_student("ada")
        gb.add_submission(ASSIGNMENT, "ada")
    run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--student=ada", "--force", timeout=300)
    html = (course.autograder / "feedback" / "ada" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert f"data:image/png;base64,{PNG}" in html
