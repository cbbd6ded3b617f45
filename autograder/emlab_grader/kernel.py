"""Start the IPython kernel a submission is graded in: ``python -P -m emlab_grader.kernel -f CONN``.

What the stock launcher (``python -m ipykernel_launcher``) would do wrong here:

- Python puts the working folder first on ``sys.path`` and IPython puts it before
  ``site-packages``, so a file beside the notebook named ``ipykernel_launcher.py``,
  ``numpy.py`` or ``emlab_grader.py`` would run instead of the real one, before any cell;
- IPython reads ``ipython_config.py`` and ``ipython_kernel_config.py`` from folders that
  can hold the student's files.

So this launcher, run with ``-P`` (no unsafe path prepended) by the grader:

1. starts the kernel application in an empty folder, so no configuration file of the
   student's is found;
2. copies the submission's files (``EMLAB_SUBMISSION_FILES``, a read-only copy the grader
   made: regular files and folders only) into the working folder ``EMLAB_WORKDIR`` (in
   the sandbox, on its size-capped ``/tmp``) and moves there;
3. puts the working folder *last* on ``sys.path``: a student's own helper module beside
   the notebook can still be imported, but it never shadows an installed package or the
   grading API.

Nothing here judges anything; it only prepares the folder and starts the kernel.
"""

from __future__ import annotations

import os
import shutil
import sys

__all__ = ["main", "prepare_workdir"]


def prepare_workdir(files: str | None, workdir: str) -> str:
    """Create ``workdir``, copy the files of the folder ``files`` into it (links are not
    followed, though the grader's copy holds none) and return its absolute path."""
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    if files and os.path.isdir(files):
        shutil.copytree(files, workdir, symlinks=True, dirs_exist_ok=True)
    return os.path.abspath(workdir)


def main(argv: list[str] | None = None) -> None:
    workdir = os.environ.get("EMLAB_WORKDIR") or os.getcwd()
    start_in = os.environ.get("EMLAB_KERNEL_START_DIR") or "/"
    prepared = prepare_workdir(os.environ.get("EMLAB_SUBMISSION_FILES"), workdir)
    sys.path[:] = [p for p in sys.path if p not in ("", ".", prepared)]

    from ipykernel.kernelapp import IPKernelApp

    os.chdir(start_in)  # configuration is looked for here: nothing of the student's
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:] if argv is None else argv)
    sys.path[:] = [p for p in sys.path if p not in ("", ".")]
    sys.path.append(prepared)
    os.chdir(prepared)
    app.start()


if __name__ == "__main__":
    main()
