"""The kernel of trusted runs: an IPython kernel that holds the reference judge from the start.

    python -m emlab_judge.trusted_kernel -f CONNECTION_FILE     (what the kernelspec runs)
    python -m emlab_judge.trusted_kernel install                (kernelspec "emlab-trusted"
                                                                 in JUPYTER_DATA_DIR/kernels)

Trusted runs execute the instructor's own source notebooks (``solutions/``), never a
student's: ``make run-sources`` (:mod:`autograder.run_source`) and nbval on ``solutions/``
in ``make test`` (``--nbval-kernel-name emlab-trusted``). Their hidden test cells then
compare each output with the reference (``emlab_grader.check`` prints "all N hidden checks
passed", as the stored outputs say), because this launcher hands the judge in with
:func:`emlab_grader.api.use_judge` before the kernel runs any cell. The in-kernel package
``emlab_grader`` never imports this side itself; every other kernel (the grading sandbox's,
a student's) runs without the judge.

Otherwise the kernel is ipykernel's own, started as ``python -m ipykernel_launcher`` starts it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

__all__ = ["KERNEL_NAME", "kernelspec", "write_kernelspec", "install", "kernel_manager", "main"]

KERNEL_NAME = "emlab-trusted"
AUTOGRADER = Path(__file__).resolve().parent.parent  # holds emlab_grader and emlab_judge


def kernelspec(python: str | None = None) -> dict:
    """kernel.json of the trusted kernel: this launcher, run by ``python`` (default: this
    interpreter), with the course's grading packages importable."""
    return {
        "argv": [python or sys.executable, "-m", "emlab_judge.trusted_kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (EM Lab, trusted judge)",
        "language": "python",
        "env": {"PYTHONPATH": str(AUTOGRADER)},
        "metadata": {"debugger": True},
    }


def write_kernelspec(kernels_dir: Path) -> Path:
    """Write ``<kernels_dir>/emlab-trusted/kernel.json``; return its folder."""
    folder = Path(kernels_dir) / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(kernelspec(), indent=1) + "\n")
    return folder


def install() -> Path:
    """Install the kernelspec for this user (``JUPYTER_DATA_DIR/kernels``, as ``make test``
    sets it to a temporary folder); return where it went."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory(prefix="emlab-kernelspec-") as tmp:
        source = write_kernelspec(Path(tmp))
        return Path(KernelSpecManager().install_kernel_spec(str(source), KERNEL_NAME, user=True))


def kernel_manager(kernels_dir: Path):
    """A jupyter_client KernelManager for the trusted kernel, its kernelspec written to
    ``kernels_dir`` (a folder of the caller's, e.g. temporary) and found only there."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    write_kernelspec(kernels_dir)
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def _hand_in_judge() -> None:
    from emlab_grader.api import use_judge

    from .judge import judge

    use_judge(judge)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["install"]:
        print(f"installed the {KERNEL_NAME} kernelspec in {install()}")
        return 0
    _hand_in_judge()
    if sys.path and sys.path[0] == "":  # as ipykernel_launcher does
        del sys.path[0]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
