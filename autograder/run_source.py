"""Run source notebooks top to bottom in a fresh kernel and store their outputs in place.

    python -m autograder.run_source solutions/03-old-faithful/old_faithful.ipynb [...]
    make run-sources [ASSIGNMENT=id]

The stored outputs are what nbval compares in ``make test``, so a source notebook is
saved through here after every edit. The kernel is the trusted one nbval runs them in
(:mod:`emlab_judge.trusted_kernel`: the hidden tests compare with the reference), in the
notebook's folder with the in-kernel grading API importable; a cell that raises stops
the run and nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def run_source(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in place; return the seconds it took. Raises CellExecutionError."""
    nb = nbformat.read(path, as_version=4)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(ROOT / "autograder"), os.environ.get("PYTHONPATH", "")] if p)
    if str(ROOT / "autograder") not in sys.path:
        sys.path.insert(0, str(ROOT / "autograder"))
    from emlab_judge.trusted_kernel import kernel_manager

    with tempfile.TemporaryDirectory(prefix="emlab-run-source-") as kernels:
        client = NotebookClient(nb, km=kernel_manager(Path(kernels)), timeout=timeout,
                                resources={"metadata": {"path": str(path.parent)}}, record_timing=False,
                                store_widget_state=False)
        start = time.monotonic()
        client.execute(cleanup_kc=True)  # the kernel is shut down after the last cell
        seconds = time.monotonic() - start
    nbformat.write(nb, path)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="source notebooks (solutions/<id>/<name>.ipynb)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)
    failed = 0
    for path in args.notebooks:
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            failed += 1
            continue
        try:
            seconds = run_source(path.resolve(), args.timeout)
        except CellExecutionError as exc:
            print(f"{path}: a cell failed; nothing written\n{exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: ran in {seconds:.1f} s, outputs stored")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
