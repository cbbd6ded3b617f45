"""make student-bundle: the zip holds what students need and nothing of the grader's."""

from __future__ import annotations

import subprocess
import zipfile

from conftest import REPO, VENV_PYTHON, isolated_env

from autograder.student_bundle import leaks


def test_bundle_holds_the_labs_and_no_secret(tmp_path):
    out = tmp_path / "bundle.zip"
    proc = subprocess.run([str(VENV_PYTHON), "-m", "autograder.student_bundle", "--out", str(out)], cwd=REPO,
                          env=isolated_env(tmp_path), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        names = {n.removeprefix("emlab-student/") for n in zf.namelist()}
        files = [(n.removeprefix("emlab-student/"), zf.read(n)) for n in zf.namelist()]
    for needed in ["README.md", "requirements.lock", "environment.yml", "pyproject.toml", "data/faithful.csv",
                   "data/PROVENANCE.md", "emlab/__init__.py", "emlab/checks.py",
                   "notebooks/03-old-faithful/old_faithful.ipynb"]:
        assert needed in names, f"the bundle lacks {needed}"
    assert not any(n.startswith(("solutions/", "autograder/", "tests/", ".git")) for n in names), sorted(names)
    assert not leaks(files), leaks(files)
    for name, data in files:
        text = data.decode("utf-8", errors="replace")
        for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "emlab_grader", "emlab_judge", "MARK SCHEME"):
            assert secret not in text, f"{name} contains {secret!r}"


def test_leak_detector_finds_planted_secrets():
    planted = [("notebooks/x/x.ipynb", b'{"source": "### BEGIN SOLUTION"}'),
               ("emlab/x.py", b"from emlab_judge import reference"),
               ("emlab/y.py", b"def m_step(X, gamma):\n    pass\n"),
               ("autograder/emlab_judge/reference.py", b"def e_step(): pass")]
    found = leaks(planted)
    assert len(found) == 4, found
