"""The sandbox a student's kernel runs in while it is graded.

Under bubblewrap the kernel sees the root file system read-only, with these exceptions:

- the course folder is an empty tmpfs except, read-only, the Python environment, the
  helper package ``emlab/``, ``data/`` and the in-kernel grading API
  ``autograder/emlab_grader/`` (no reference, no expected value); the submission's own
  working directory is read-write;
- ``$HOME`` and ``/tmp`` are empty tmpfs (so no other student's files, no instructor files,
  no gradebook); extra secret folders (a gradebook outside the course, say) can be added;
- no network (``--unshare-net``), an empty environment but for a few variables;
- as root, the kernel runs as an unprivileged uid of its own (one per grading slot), so
  the process limit is per submission and no file outside its folder is writable;
- resource limits (``prlimit``): address space, CPU seconds, processes, file size; the
  wall clock is enforced by the harness.

Where bubblewrap cannot run, :func:`sandbox_status` says why, and the kernel runs with the
resource limits only; the grading report then says in bold that it was unsandboxed.

Kernel and client talk over Unix sockets (``transport="ipc"``) in a runtime folder bound
into the sandbox: TCP on loopback is cut by ``--unshare-net``. No ``--unshare-pid``:
ipykernel would see parent pid 1 and shut down.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

__all__ = ["Limits", "SandboxSpec", "sandbox_status", "kernel_argv", "write_kernelspec",
           "SandboxKernelManager", "KERNEL_NAME", "kill_uid"]

KERNEL_NAME = "emlab-sandbox"
GiB = 1024 ** 3


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. memory in bytes (address space of each process), cpu in
    CPU-seconds per process, wall in seconds for the whole submission, nproc processes
    and threads of the sandbox's uid, fsize the largest file it may write (bytes)."""

    memory: int = 2 * GiB
    cpu: int = 600
    wall: int = 900
    nproc: int = 64
    fsize: int = 256 * 1024 ** 2

    @classmethod
    def from_env(cls) -> "Limits":
        def num(name, default):
            return int(float(os.environ.get(name, default)))
        return cls(memory=num("EMLAB_MEMORY_LIMIT", cls.memory), cpu=num("EMLAB_CPU_LIMIT", cls.cpu),
                   wall=num("EMLAB_WALL_LIMIT", cls.wall), nproc=num("EMLAB_NPROC_LIMIT", cls.nproc),
                   fsize=num("EMLAB_FSIZE_LIMIT", cls.fsize))


@dataclass(frozen=True)
class SandboxSpec:
    """What one submission's kernel may see.

    course_root : the course folder (hidden but for the read-only parts below)
    workdir : the submission's working folder (read-write)
    runtime_dir : connection file and ipc sockets (read-write)
    uid : the unprivileged uid the kernel runs as when grading as root (None: keep ours)
    secrets : further folders to hide (replaced by an empty tmpfs)
    """

    course_root: Path
    workdir: Path
    runtime_dir: Path
    uid: int | None = None
    secrets: tuple[Path, ...] = ()


@functools.lru_cache(maxsize=None)
def sandbox_status() -> tuple[bool, str]:
    """(True, "bubblewrap <version>") when bwrap runs here, else (False, the reason)."""
    if os.environ.get("EMLAB_SANDBOX", "").lower() in {"0", "off", "no", "false"}:
        return False, "disabled by EMLAB_SANDBOX=off"
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False, "bubblewrap (bwrap) is not installed"
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                "--unshare-net", "--die-with-parent", "true"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap failed to start: {exc}"
    if probe.returncode != 0:
        return False, f"bwrap cannot create a sandbox here: {probe.stderr.strip() or probe.returncode}"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip()
    return True, version or "bubblewrap"


def _parents_between(top: Path, path: Path) -> list[Path]:
    """Folders strictly between ``top`` and ``path`` (top first)."""
    rel = path.relative_to(top)
    return [top.joinpath(*rel.parts[:i]) for i in range(1, len(rel.parts))]


def _bind(args: list[str], src: Path, hidden_roots: list[Path], *, writable: bool) -> None:
    for root in hidden_roots:
        if src.is_relative_to(root) and src != root:
            for parent in _parents_between(root, src):
                args += ["--perms", "0755", "--dir", str(parent)]
            break
    args += ["--bind" if writable else "--ro-bind", str(src), str(src)]


def _python_roots() -> list[Path]:
    """Folders the kernel's interpreter needs: the venv and the base installation."""
    roots = []
    for p in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}:
        path = Path(p).resolve()
        if path.name == "bin":
            path = path.parent
        roots.append(path)
    return sorted(set(roots))


def kernel_argv(spec: SandboxSpec, limits: Limits, *, sandboxed: bool) -> list[str]:
    """The kernelspec argv for one submission's kernel ({connection_file} left in)."""
    course = spec.course_root.resolve()
    python = [str(Path(sys.prefix) / "bin" / "python"), "-m", "ipykernel_launcher",
              "-f", "{connection_file}", "--HistoryManager.hist_file=:memory:"]
    limit = ["prlimit", f"--as={limits.memory}", f"--cpu={limits.cpu}", f"--nproc={limits.nproc}",
             f"--fsize={limits.fsize}", "--core=0", "--"] if shutil.which("prlimit") else []
    drop = []
    if spec.uid is not None and os.geteuid() == 0 and shutil.which("setpriv"):
        drop = ["setpriv", f"--reuid={spec.uid}", f"--regid={spec.uid}", "--clear-groups",
                "--no-new-privs", "--"]
    if not sandboxed:
        return limit + drop + python

    home = Path(os.path.expanduser("~")).resolve()
    hidden = [course, home, Path("/tmp")] + [Path(s).resolve() for s in spec.secrets]
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--tmpfs", "/tmp"]
    hidden_roots = []
    for secret in [course, home, *[Path(s).resolve() for s in spec.secrets]]:
        if secret == Path("/") or not secret.exists():
            continue
        if any(secret.is_relative_to(root) for root in hidden_roots + [Path("/tmp")]):
            continue  # already inside an empty tmpfs
        hidden_roots.append(secret)
        args += ["--perms", "0755", "--tmpfs", str(secret)]
    visible = _python_roots() + [course / "emlab", course / "data", course / "autograder" / "emlab_grader"]
    for path in visible:
        if path.exists() and any(path.is_relative_to(h) for h in hidden):
            _bind(args, path, hidden, writable=False)
    for path in (spec.workdir.resolve(), spec.runtime_dir.resolve()):
        _bind(args, path, hidden, writable=True)
    env = {
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(spec.workdir.resolve()),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "agg",
        "MPLCONFIGDIR": "/tmp",
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_RUNTIME_DIR": str(spec.runtime_dir.resolve()),
        "PYTHONPATH": str(course / "autograder"),
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "EMLAB_SANDBOXED": "1",
        "EMLAB_RECORD": "1",
    }
    for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session",
             "--chdir", str(spec.workdir.resolve())]
    return args + limit + drop + python


def write_kernelspec(data_dir: Path, argv: list[str]) -> Path:
    """Install the kernelspec ``emlab-sandbox`` under ``data_dir/kernels``."""
    folder = Path(data_dir) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "EM Lab grading sandbox", "language": "python",
        "metadata": {"debugger": False},
    }, indent=1))
    return folder


def kill_uid(uid: int) -> int:
    """SIGKILL every process left running as the sandbox's own uid, each by its PID."""
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return killed



class SandboxKernelManager(AsyncKernelManager):
    """Unix-socket transport in the runtime folder; files the kernel needs handed to its uid.

    Reads EMLAB_SANDBOX_UID (the uid the kernel drops to, if any) and
    EMLAB_SANDBOX_RUNTIME (the folder bound into the sandbox for the sockets)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        runtime = os.environ.get("EMLAB_SANDBOX_RUNTIME")
        if runtime:
            self.ip = os.path.join(runtime, "kernel")
            self.connection_file = os.path.join(runtime, f"kernel-{os.getpid()}.json")

    @property
    def _uid(self) -> int | None:
        uid = os.environ.get("EMLAB_SANDBOX_UID")
        return int(uid) if uid and os.geteuid() == 0 else None

    def kill_sandbox_processes(self) -> int:
        """Kill every process of the sandbox's uid (a fork bomb's children included)."""
        return kill_uid(self._uid) if self._uid is not None else 0

    def write_connection_file(self, **kwargs):
        result = super().write_connection_file(**kwargs)
        if self._uid is not None:
            os.chown(self.connection_file, self._uid, self._uid)
        return result

    async def _async_pre_start_kernel(self, **kw):
        cwd = kw.get("cwd")
        if self._uid is not None and cwd:
            for folder, dirs, files in os.walk(cwd):
                os.chown(folder, self._uid, self._uid)
                for name in files:
                    os.chown(os.path.join(folder, name), self._uid, self._uid)
        return await super()._async_pre_start_kernel(**kw)
