"""Run one ``nbgrader`` command in a process of its own, without paying nbgrader's imports.

Importing nbgrader's applications (nbconvert, nbclient, SQLAlchemy, alembic, traitlets)
takes 2-3 CPU-seconds: stock ``nbgrader autograde`` pays it once per batch, a process per
submission would pay it every time. Here a fork server (``multiprocessing``'s
"forkserver" start method) imports them once; each command then runs in a fresh child
forked from it, so every submission still gets a process of its own (its own memory and
modules, its own session to be killed as a group, killed with the harness) at the cost of
a ``fork``.

The child puts itself in a new session, dies with its parent, takes the environment and
working folder it is given (before nbgrader reads its configuration: every path in
``nbgrader_config.py`` comes from the environment) and writes its output to a file.

The server listens on a socket file in a private (0700) temporary folder of the grader's:
a sandboxed kernel cannot reach it (its ``/tmp`` is its own, its uid another, its network
namespace empty).

As with any ``multiprocessing`` program, a script that grades (``grade_folder``) must
guard its top level with ``if __name__ == "__main__":`` (``python -m emlab_judge``,
``python -m bench`` and pytest need nothing).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys

__all__ = ["start", "stop", "PRELOAD"]

# imported once by the fork server; every child starts with them loaded. nbgrader's own
# (2-3 CPU-seconds), then what the judge step and the sanitiser import in every child
# (NumPy, SciPy's stats and optimisers, bleach: about 0.8 CPU-seconds a submission). Only
# installed libraries: the course's own modules (emlab, emlab_grader, emlab_judge) are
# imported by each child from the course it grades.
PRELOAD = ["nbgrader.apps.nbgraderapp", "nbgrader.preprocessors", "nbgrader.api", "nbclient",
           "jupyter_client.manager", "nbconvert.preprocessors", "sqlalchemy", "sqlite3", "alembic.command",
           "IPython", "ipykernel.kernelspec", "psutil",
           "numpy", "scipy.linalg", "scipy.special", "scipy.stats", "scipy.optimize", "bleach", "threadpoolctl",
           "difflib", "pydoc", "unittest"]

_CONTEXT = None


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(PRELOAD)
    return _CONTEXT


def _die_with_parent() -> None:
    """Be killed when the parent dies, even by SIGKILL (Linux): when the harness dies its
    fork server exits, and with it every grader it forked (and their kernels: bwrap
    --die-with-parent)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _blas_threads(env: dict[str, str]) -> None:
    """Give the BLAS that the fork server loaded (with NumPy) the thread count the child's
    environment asks for: OpenBLAS reads ``OPENBLAS_NUM_THREADS`` only when it is loaded,
    which for a forked child was in the server, under the server's environment."""
    wanted = env.get("OPENBLAS_NUM_THREADS") or env.get("OMP_NUM_THREADS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(wanted), user_api="blas")


GRADER_MEMORY = 8 * 1024 ** 3  # address space of one nbgrader process (EMLAB_GRADER_MEMORY_LIMIT)


def _limit_memory(env: dict[str, str]) -> None:
    """Cap this process's address space: whatever a kernel sends it (a flood of large
    messages, say), it fails alone, and the harness reports the submission, instead of
    taking the machine's memory. Its kernel sets its own, lower, limit."""
    import resource

    try:
        limit = int(float(env.get("EMLAB_GRADER_MEMORY_LIMIT") or GRADER_MEMORY))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _child(args: list[str], cwd: str, env: dict[str, str], log_path: str) -> None:
    """In the forked child: become ``python -m nbgrader ARGS`` run in ``cwd`` with ``env``."""
    os.setsid()
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd in (1, 2):
        os.dup2(log, fd)
    os.close(log)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # what PYTHONPATH would have put first, had this been a new interpreter
    sys.path[:0] = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p not in sys.path]
    sys.argv = ["nbgrader", *args]
    _blas_threads(env)
    _limit_memory(env)
    from nbgrader.apps.nbgraderapp import main

    main()  # exits non-zero (SystemExit) when the command fails


def start(args: list[str], cwd: str, env: dict[str, str], log_path: str):
    """Start ``nbgrader ARGS`` in a forked child; returns the started
    ``multiprocessing.Process`` (its ``pid`` leads the child's process group; ``join`` it,
    then read ``exitcode`` and the output written to ``log_path``)."""
    process = _context().Process(target=_child, args=(list(args), str(cwd), dict(env), str(log_path)),
                                 name=f"nbgrader {' '.join(args[:1])}", daemon=False)
    process.start()
    return process


def stop() -> None:
    """Stop the fork server, if one runs, and wait for it by its PID (a batch calls this
    when it ends; the next command starts a new one). The children it forked are not
    touched: each is waited for, or killed, by whoever started it."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if server is not None and getattr(server, "_forkserver_pid", None) is not None and hasattr(server, "_stop"):
        server._stop()
