"""Shared fixtures: paths of the course and an environment that keeps Jupyter,
IPython and matplotlib state out of $HOME."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENV_PYTHON = Path(sys.executable)
ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "solutions").glob("*/*.ipynb"))

sys.path.insert(0, str(REPO / "autograder"))
sys.path.insert(0, str(REPO))


@pytest.fixture(autouse=True, scope="session")
def trusted_judge_in_this_process():
    """The test process is a trusted run: emlab_grader.check called here compares with the
    reference, because the judge is handed in (emlab_grader never imports it itself)."""
    from emlab_grader.api import use_judge
    from emlab_judge.judge import judge

    use_judge(judge)
    yield
    use_judge(None)


def isolated_env(tmp: Path, **extra: str) -> dict[str, str]:
    """os.environ plus Jupyter/IPython/matplotlib dirs under ``tmp`` and the course config."""
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")]:
        path = tmp / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["JUPYTER_CONFIG_PATH"] = str(REPO / "autograder")
    env["PYTHONPATH"] = str(REPO / "autograder")
    env["PYTHONNOUSERSITE"] = "1"
    env["PATH"] = os.pathsep.join([str(VENV_PYTHON.parent), env.get("PATH", "")])  # nbgrader runs `alembic`
    env.update(extra)
    return env


@pytest.fixture
def jupyter_env(tmp_path):
    return isolated_env(tmp_path)


# The longest test files first, so that `make test`'s two workers (pytest-xdist, --dist
# loadfile: a file stays on one worker) end together instead of one of them finishing a long
# file alone. The order is the same on every worker, as xdist requires; files not listed keep
# their order, after these.
LONGEST_FIRST = [
    "test_hostile_boundary.py", "test_hostile_lab03.py", "test_harness_rerun.py", "test_bank_lab03.py", "test_postgres_gradebook.py",
    "test_bank_lab05.py", "test_bank_lab02.py", "test_bank_lab01.py", "test_bank_lab04.py",
    "test_browser_student.py", "test_browser_instructor.py", "test_harness_batch.py",
    "test_autograde_paths.py", "test_browser_autograde.py", "test_browser_xss.py",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept within


@pytest.fixture(autouse=True, scope="session")
def stop_nbgrader_fork_server():
    """The harness's fork server (emlab_judge.nbgrader_process), if a test started one
    outside a batch (which stops its own), is stopped by its PID when the session ends."""
    yield
    from emlab_judge import nbgrader_process

    nbgrader_process.stop()
