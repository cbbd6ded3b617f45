"""`make lab` (python -m autograder.launch_lab) serves JupyterLab on loopback with the labs,
nbgrader's extensions and the course's configuration. The server is stopped by its PID."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import REPO, VENV_PYTHON, isolated_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 60.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


@pytest.fixture
def lab_server(tmp_path):
    port, token = free_port(), "emlab-test-token"
    env = isolated_env(tmp_path, EMLAB_LAB_PORT=str(port), EMLAB_LAB_TOKEN=token,
                       EMLAB_GRADEBOOK_URL=f"sqlite:///{tmp_path / 'gradebook.db'}")
    log = (tmp_path / "lab.log").open("w+")
    proc = subprocess.Popen([str(VENV_PYTHON), "-m", "autograder.launch_lab"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = get(f"{base}/api/status?token={token}", timeout=2)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"JupyterLab did not start (exit {proc.poll()}):\n{log.read()[-3000:]}")
            time.sleep(0.3)
        yield base, token, log
    finally:
        proc.terminate()  # by PID: the launcher exec()s into the server
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_make_lab_serves_the_labs_with_nbgrader(lab_server):
    base, token, log = lab_server
    log.seek(0)
    banner = log.read()
    assert re.search(rf"http://127\.0\.0\.1:\d+/lab/tree/notebooks/\S+\?token={token}", banner), banner

    status, body = get(f"{base}/api/contents/notebooks/03-old-faithful/old_faithful.ipynb?token={token}")
    model = json.loads(body)
    assert status == 200 and model["type"] == "notebook"
    assert any("e_step" in "".join(c["source"]) for c in model["content"]["cells"])

    status, page = get(f"{base}/lab?token={token}")
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    names = {ext["name"] for ext in config.get("federated_extensions", [])}
    assert "@jupyter/nbgrader" in names, f"nbgrader's JupyterLab extension is not loaded: {sorted(names)}"
    # the server's root is the course (formgrader needs it) and the browser opens the lab
    root = urllib.request.urlopen(f"{base}/?token={token}", timeout=10)
    assert root.geturl().split("?")[0].endswith("/lab/tree/notebooks/03-old-faithful/old_faithful.ipynb"), \
        root.geturl()

    # nbgrader's server extensions answer, with this course's configuration
    status, _ = get(f"{base}/formgrader?token={token}")
    assert status == 200
    status, body = get(f"{base}/formgrader/api/assignments?token={token}")
    assert status == 200 and "03-old-faithful" in {a["name"] for a in json.loads(body)}, body
    status, body = get(f"{base}/formgraders?token={token}")
    assert status == 200 and "emlab" in body, body
    assert (REPO / "autograder" / "exchange").is_dir()


def test_allow_root_only_as_root():
    from autograder.launch_lab import lab_command
    argv = lab_command(8888, "t", "notebooks")
    assert ("--allow-root" in argv) == (os.geteuid() == 0)
    assert "--ip=127.0.0.1" in argv and "--no-browser" in argv
