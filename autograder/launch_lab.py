"""Start JupyterLab on the labs: ``make lab`` runs ``python -m autograder.launch_lab``.

- serves on 127.0.0.1 only, with a fresh random token, and prints the URL with it;
- the server's root is the course root (nbgrader's formgrader needs the course inside
  it) and the browser opens in ``notebooks/``, the student release;
- nbgrader's extensions read ``autograder/nbgrader_config.py`` (course id ``emlab``,
  exchange in ``autograder/exchange`` and the Assignments tab's fetch folder
  ``autograder/fetched``, created here so they exist and are writable);
- ``--allow-root`` only when running as root.

Environment: EMLAB_LAB_PORT (default 8888; the next free port is taken if busy),
EMLAB_LAB_OPEN (a path under the course root to open first), EMLAB_COURSE_ROOT (the course
root, as in autograder/nbgrader_config.py; default: this repository).
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

ROOT = Path(os.environ.get("EMLAB_COURSE_ROOT") or Path(__file__).resolve().parent.parent).resolve()


def free_port(preferred: int) -> int:
    for port in [preferred, *range(preferred + 1, preferred + 50)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_command(port: int, token: str, open_path: str) -> list[str]:
    argv = [
        sys.executable, "-m", "jupyterlab",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        f"--ServerApp.root_dir={ROOT}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.default_url=/lab/tree/{open_path}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    return argv


def main() -> None:
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in [str(ROOT / "autograder"), os.environ.get("JUPYTER_CONFIG_PATH", "")] if p
    )
    autograder = Path(os.environ.get("EMLAB_AUTOGRADER_DIR", ROOT / "autograder"))
    # nbgrader's exchange and the students' fetch folder (see nbgrader_config.py) must exist
    for folder in (os.environ.get("EMLAB_EXCHANGE", autograder / "exchange"),
                   os.environ.get("EMLAB_ASSIGNMENT_DIR", autograder / "fetched")):
        Path(folder).mkdir(parents=True, exist_ok=True)
    port = free_port(int(os.environ.get("EMLAB_LAB_PORT", "8888")))
    token = os.environ.get("EMLAB_LAB_TOKEN") or secrets.token_hex(24)
    open_path = os.environ.get("EMLAB_LAB_OPEN", "notebooks/03-old-faithful/old_faithful.ipynb")
    url = f"http://127.0.0.1:{port}/lab/tree/{open_path}?token={token}"
    print(f"\nEM Lab: JupyterLab is starting on the labs in notebooks/.\n    {url}\n"
          "Stop it with Ctrl-C.\n", flush=True)
    argv = lab_command(port, token, open_path)
    os.chdir(ROOT)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
