"""``emlab-grade``: every instructor command of the course, from a plain shell.

    .venv/bin/emlab-grade nbgrader <command> [args]   nbgrader under the course configuration
    .venv/bin/emlab-grade autograde|grades|lms-export|feedback [args]
                                                      the grading harness (python -m emlab_judge)
    .venv/bin/emlab-grade trusted-kernel install      the kernel trusted runs (nbval, run-sources) use
    .venv/bin/emlab-grade env                         the course root and the environment set

Without it a bare ``nbgrader ...`` run from the repository root finds no
``nbgrader_config.py`` (the course's is ``autograder/nbgrader_config.py``), so it makes a
gradebook in the working folder and a system-wide exchange, and ``python -m emlab_judge``
is not importable. This command finds the course (from the working folder up, the
outermost folder holding an ``autograder/nbgrader_config.py`` of yours that only you may
write, so never a student's folder inside the course; else the folder holding this
virtual environment), sets what the Makefile sets (``JUPYTER_CONFIG_PATH``,
``PYTHONPATH``, the environment's ``bin`` first on ``PATH``) and runs the command from the
course root, so nothing is created outside the course folder and the user's Jupyter
folders. Its exit status is the command's.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

__all__ = ["course_root", "course_env", "main"]

CONFIG = Path("autograder") / "nbgrader_config.py"


def _trusted_config(folder: Path) -> bool:
    """``folder/autograder/nbgrader_config.py`` is a regular file of this user's (or root's) that
    no one else may write: nbgrader executes it as Python."""
    try:
        st = os.lstat(folder / CONFIG)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid in {os.getuid(), 0} and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def course_root(start: Path | None = None) -> Path:
    """The course folder, found as git finds a repository, with a course's own folders in mind.

    From ``start`` (default: the working folder) up, every folder holding a trusted
    ``autograder/nbgrader_config.py`` (a regular file of this user's that nobody else may write)
    is a candidate, and the OUTERMOST one is the course: a submission folder inside the course
    (``autograder/submitted/<student>/...``) may hold a student's own ``autograder/`` folder,
    and it must never be taken for the course. Without any candidate, the folder this
    environment lives in (``<course>/.venv``). Raises SystemExit when neither is a course."""
    start = Path.cwd() if start is None else Path(start)
    candidates = [folder for folder in [start.resolve(), *start.resolve().parents] if _trusted_config(folder)]
    if candidates:
        return candidates[-1]
    home = Path(sys.prefix).parent
    if _trusted_config(home):
        return home
    raise SystemExit(f"emlab-grade: no course here: neither {start} nor a folder above it, nor {home}, "
                     f"holds {CONFIG} (a file of yours that only you may write)")


def course_env(root: Path, base: dict | None = None) -> dict:
    """``base`` (default: this process's environment) with the course's settings: nbgrader reads
    ``<root>/autograder/nbgrader_config.py``, ``emlab_judge`` and ``emlab_grader`` are
    importable, the environment's commands (nbgrader's ``alembic``) come first on PATH."""
    env = dict(os.environ if base is None else base)
    autograder = str(root / "autograder")
    env["JUPYTER_CONFIG_PATH"] = autograder
    env["PYTHONPATH"] = os.pathsep.join([autograder] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                        if p and p != autograder])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    env["PYTHONNOUSERSITE"] = "1"
    return env


USAGE = __doc__.split("\n\n")[1]
# the first word that names another program than the harness (python -m emlab_judge)
MODULES = {"nbgrader": "nbgrader", "trusted-kernel": "emlab_judge.trusted_kernel"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print("usage:\n" + USAGE)
        return 0 if args else 2
    root = course_root()
    env = course_env(root)
    if args[0] == "env":
        print(f"course root: {root}")
        for name in ("JUPYTER_CONFIG_PATH", "PYTHONPATH", "PATH"):
            print(f"{name}={env[name]}")
        return 0
    module, rest = (MODULES[args[0]], args[1:]) if args[0] in MODULES else ("emlab_judge", args)
    if module == "nbgrader" and not env.get("EMLAB_EXCHANGE"):
        # the course's own exchange (autograder/exchange, as make lab makes it): nbgrader's
        # exchange commands refuse to start without its root
        (root / "autograder" / "exchange").mkdir(exist_ok=True)
    try:
        return subprocess.call([sys.executable, "-m", module, *rest], cwd=root, env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
