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
