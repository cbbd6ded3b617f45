"""The sandbox a student's kernel runs in while it is graded.

Under bubblewrap the kernel sees an allow-list of folders and nothing else:

- read-only: the system folders (``/usr``, ``/etc``, ``/lib``, ...), the Python installation
  and virtual environment, and of the course only the helper package ``emlab/``, ``data/``
  and the in-kernel grading API ``autograder/emlab_grader/`` (no reference, no expected
  value); the grader's copy of the submission's files at ``/run/submission``, and the
  kernel's connection file;
- read-write: a ``/tmp`` of its own, a tmpfs capped at ``Limits.disk`` bytes, which holds
  the working folder ``/tmp/work`` (the kernel's launcher, :mod:`emlab_grader.kernel`,
  copies the submission's files there); and the folder of its kernel's sockets;
- nothing of the grader's: no solutions, no gradebook, no ``autograded/`` or
  ``submitted/`` folder, no home, no other folder of the machine (``/work``, ``/home``,
  ``/srv``). Nothing the kernel writes lands on the grader's disk, so no link it plants
  can redirect a write, chmod or copy of the grader's; the graded notebook is the one
  nbgrader holds in memory;
- its own PID namespace (it sees only its own processes), no network
  (``--unshare-net``), an empty environment but for a few variables;
- as root, the kernel runs as an unprivileged uid of its own (one per grading slot), so
  the process limit is per submission and no file outside its folder is writable;
- resource limits (``prlimit``): address space, CPU seconds, processes, file size; the
  wall clock is enforced by the harness;
- interrupts by message (``interrupt_mode: message``): a signal sent to bubblewrap would
  not reach the kernel inside, a message does, so a runaway cell is interrupted at its
  time limit like anywhere else;
- as root, a warm kernel (:mod:`.kernel_forkserver`): the same sandbox, built by the same
  bubblewrap command, holding a process that waits, with the kernel forked into it from a
  server that imported the scientific stack once; started cold whenever that fails.

Where bubblewrap cannot run, :func:`sandbox_status` says why, and the kernel runs with the
resource limits only, in a throw-away folder of the grader's; the grading report then says
in bold that it was unsandboxed.

Kernel and client talk over Unix sockets (``transport="ipc"``) in a folder bound into the
sandbox: TCP on loopback is cut by ``--unshare-net``. The kernel is started with ``-P``
(no working folder on ``sys.path`` before the cells) by :mod:`emlab_grader.kernel`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from .cgroup import SlotGroup

__all__ = ["Limits", "SandboxSpec", "sandbox_status", "kernel_argv", "kernel_env", "write_kernelspec",
           "SandboxKernelManager", "KERNEL_NAME", "sandbox_env", "HOLDER_COMMAND", "kill_uid", "uid_processes",
           "matplotlib_fontlist", "SANDBOX_FILES", "SANDBOX_WORKDIR"]

KERNEL_NAME = "emlab-sandbox"
# read-only in every sandbox (symlinks, as in merged-/usr systems, are recreated as links)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# of /etc and /sys only what the interpreter, numpy and matplotlib read: a grading server's
# /etc can hold tokens (pip.conf, npmrc, environment) that no kernel needs
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/hosts", "/etc/fonts", "/etc/mime.types",
                "/etc/os-release", "/etc/alternatives", "/etc/matplotlibrc", "/sys/devices/system/cpu")
GiB = 1024 ** 3
# The graded notebook's figures: the same pixels and cropping as in JupyterLab (nbgrader's
# default, bbox_inches="tight"), compressed with zlib's fastest level. A tenth of a lab's
# grading time went to compressing its PNGs; they come out about 5% larger.
FIGURE_KWARGS = "--InlineBackend.print_figure_kwargs={'bbox_inches': 'tight', 'pil_kwargs': {'compress_level': 1}}"


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. memory in bytes (address space of each process), cpu in
    CPU-seconds per process, wall in seconds for the whole submission, nproc processes
    and threads of the sandbox's uid, fsize the largest file it may write (bytes), disk the
    size of the sandbox's ``/tmp`` (bytes), which holds the working folder too."""

    memory: int = 2 * GiB
    cpu: int = 600
    wall: int = 900
    nproc: int = 64
    fsize: int = 256 * 1024 ** 2
    disk: int = 512 * 1024 ** 2

    @classmethod
    def from_env(cls) -> "Limits":
        def num(name, default):
            return int(float(os.environ.get(name, default)))
        return cls(memory=num("EMLAB_MEMORY_LIMIT", cls.memory), cpu=num("EMLAB_CPU_LIMIT", cls.cpu),
                   wall=num("EMLAB_WALL_LIMIT", cls.wall), nproc=num("EMLAB_NPROC_LIMIT", cls.nproc),
                   fsize=num("EMLAB_FSIZE_LIMIT", cls.fsize), disk=num("EMLAB_DISK_LIMIT", cls.disk))


SANDBOX_FILES = "/run/submission"  # the grader's copy of the submission's files, read-only
SANDBOX_WORKDIR = "/tmp/work"       # the kernel's working folder, on the capped /tmp


@dataclass(frozen=True)
class SandboxSpec:
    """What one submission's kernel may see.

    course_root : the course folder (hidden but for the read-only parts below)
    files : the grader's copy of the submission (checked notebooks and the regular files
        beside them), shown read-only; the kernel works on a copy of it
    runtime_dir : the folder of the connection file (read-only in the sandbox)
    socket_dir : the folder of the kernel's ipc sockets (read-write; emptied before each
        kernel start by :class:`SandboxKernelManager`)
    scratch : a throw-away folder of the grader's for a kernel that runs unsandboxed (its
        working folder and an empty folder to start in); unused under bubblewrap
    uid : the unprivileged uid the kernel runs as when grading as root (None: keep ours)
    secrets : further folders to hide (replaced by an empty tmpfs)
    cgroup : the slot's control group (:mod:`.cgroup`), which the kernel joins before it
        starts: memory and processes limited for the sandbox as a whole
    fontlist : matplotlib's font list, built by the grader (:func:`matplotlib_fontlist`),
        shown read-only in the kernel's matplotlib folder so that no kernel rebuilds it
    """

    course_root: Path
    files: Path
    runtime_dir: Path
    socket_dir: Path
    scratch: Path | None = None
    uid: int | None = None
    secrets: tuple[Path, ...] = ()
    fontlist: Path | None = None
    cgroup: "SlotGroup | None" = None


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


def _python_roots() -> list[Path]:
    """Folders the kernel's interpreter needs: the venv and the base installation."""
    roots = []
    for p in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}:
        path = Path(p).resolve()
        if path.name == "bin":
            path = path.parent
        roots.append(path)
    return sorted(set(roots))


def _helper_package() -> list[Path]:
    """Where the installed ``emlab`` package and its data live (the course's, normally)."""
    import emlab
    from emlab.data import data_dir

    return [Path(emlab.__file__).resolve().parent, data_dir().resolve()]


def venv_bin() -> Path:
    """The virtual environment's ``bin`` folder by its real path: the sandbox binds the
    interpreter's folders by their real paths (:func:`_python_roots`), so a course whose
    ``.venv`` is a link to an environment elsewhere still finds its Python there."""
    return Path(sys.prefix).resolve() / "bin"


def _launcher() -> list[str]:
    """The kernel's command: the venv's Python, no unsafe path first on sys.path (-P),
    started by the grading API's launcher ({connection_file} left in)."""
    return [str(venv_bin() / "python"), "-P", "-m", "emlab_grader.kernel",
            "-f", "{connection_file}", "--HistoryManager.hist_file=:memory:", FIGURE_KWARGS]


# what holds a warm kernel's sandbox open: says it is ready, then waits
HOLDER = ("/bin/sh", "-c", "echo ready && exec sleep infinity")
HOLDER_COMMAND = "sleep infinity"  # its command line once running


def _rlimits(limits: Limits) -> dict[str, int]:
    """The per-process resource limits of a kernel (``prlimit``'s and setrlimit's names)."""
    return {"as": limits.memory, "cpu": limits.cpu, "nproc": limits.nproc, "fsize": limits.fsize, "core": 0}


def kernel_argv(spec: SandboxSpec, limits: Limits, *, sandboxed: bool, warm=None) -> list[str]:
    """The kernelspec argv for one submission's kernel ({connection_file} left in).

    warm: a running :class:`emlab_judge.kernel_forkserver.ForkServer` (sandboxed, as root):
    the kernel is then forked from it into the same sandbox, or started cold if that fails."""
    python = _launcher()
    limit = ["prlimit", *(f"--{name}={value}" for name, value in _rlimits(limits).items()), "--"] \
        if shutil.which("prlimit") else []
    drop = []
    # the uid of its own only inside bubblewrap: outside it the kernel could not reach a
    # course folder that only the grader may read
    if sandboxed and spec.uid is not None and os.geteuid() == 0 and shutil.which("setpriv"):
        drop = ["setpriv", f"--reuid={spec.uid}", f"--regid={spec.uid}", "--clear-groups",
                "--no-new-privs", "--"]
    join = spec.cgroup.wrap if spec.cgroup is not None else (lambda argv: argv)
    if not sandboxed:
        return join(limit + drop + python)
    bwrap = _bwrap_args(spec, limits)
    cold = join(bwrap + limit + drop + python)
    if warm is None or not drop:
        return cold
    from . import kernel_forkserver

    # the same sandbox, holding only a process that waits; the kernel is forked into it
    # (under the kernel's own limits and uid: nothing in the sandbox has more than the kernel)
    holder = join(bwrap[:1] + ["--info-fd", "@INFO_FD@"] + bwrap[1:] + limit + drop + list(HOLDER))
    module_at = python.index("-m") + 1
    request = {"module": python[module_at], "argv": python[module_at + 1:], "env": sandbox_env(spec),
               "cwd": "/tmp", "uid": spec.uid, "rlimits": _rlimits(limits),
               "cgroups": [str(folder / "cgroup.procs") for folder in spec.cgroup.folders] if spec.cgroup else []}
    return kernel_forkserver.launcher_argv(warm, holder, cold, request)


def sandbox_env(spec: SandboxSpec) -> dict[str, str]:
    """The whole environment of a sandboxed kernel (bubblewrap clears the grader's)."""
    env = {
        "PATH": f"{venv_bin()}:/usr/local/bin:/usr/bin:/bin",
        "HOME": SANDBOX_WORKDIR,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "agg",
        "MPLCONFIGDIR": "/tmp",
        "IPYTHONDIR": "/tmp/ipython",
        "XDG_CACHE_HOME": "/tmp/cache",  # fontconfig's and others' caches
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
        "PYTHONPATH": str(spec.course_root.resolve() / "autograder"),
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "EMLAB_SANDBOXED": "1",
        "EMLAB_RECORD": "1",
        "EMLAB_SUBMISSION_FILES": SANDBOX_FILES,
        "EMLAB_WORKDIR": SANDBOX_WORKDIR,
        "EMLAB_KERNEL_START_DIR": "/",
    }
    for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    return env


def _bwrap_args(spec: SandboxSpec, limits: Limits) -> list[str]:
    """bubblewrap's command line up to the command it runs: the allow-list, the
    environment and the namespaces of one submission's sandbox."""
    course = spec.course_root.resolve()
    # An allow-list: the sandbox's root is empty but for the system folders (read-only),
    # the Python installation, the course's student-safe parts and the submission's copy.
    args = ["bwrap", "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--size", str(limits.disk), "--tmpfs", "/tmp"]
    if spec.fontlist is not None and spec.fontlist.is_file():
        args += ["--ro-bind", str(spec.fontlist), f"/tmp/{spec.fontlist.name}"]  # MPLCONFIGDIR is /tmp
    binds: list[Path] = []  # folders bound from the host (anything below them exists already)
    for folder in SYSTEM_DIRS:
        path = Path(folder)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            args += ["--ro-bind", folder, folder]
            binds.append(path)
    made: set[Path] = set()
    for item in SYSTEM_FILES:
        path = Path(item)
        if not (path.exists() or path.is_symlink()):
            continue
        for parent in reversed(path.parents):  # open to the kernel's uid (bwrap would make them 0700)
            if parent != Path("/") and parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), item]
        elif path.exists():
            args += ["--ro-bind", item, item]
    created: set[Path] = set()
    visible = _python_roots() + _helper_package() + [course / "autograder" / "emlab_grader"]
    for path, writable in [*((p, False) for p in visible), (spec.runtime_dir.resolve(), False),
                           (spec.socket_dir.resolve(), True)]:
        if not writable and (not path.exists() or any(path.is_relative_to(b) for b in binds)):
            continue
        for parent in reversed(path.parents):
            # folders inside a bound folder exist already; inside /tmp (a tmpfs) bwrap would
            # create them private (0700), so they are made here, open to the kernel's uid
            if parent == Path("/") or parent in created or any(parent.is_relative_to(b) for b in binds):
                continue
            args += ["--perms", "0755", "--dir", str(parent)]
            created.add(parent)
        args += ["--bind" if writable else "--ro-bind", str(path), str(path)]
        binds.append(path)
    args += ["--perms", "0755", "--dir", str(Path(SANDBOX_FILES).parent),
             "--ro-bind", str(spec.files.resolve()), SANDBOX_FILES]
    for secret in spec.secrets:  # anything secret inside a visible folder
        secret = Path(secret).resolve()
        if secret.exists() and any(secret.is_relative_to(b) and secret != b for b in binds):
            args += ["--perms", "0755", "--tmpfs", str(secret)]
    env = sandbox_env(spec)
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid", "--die-with-parent",
             "--new-session", "--chdir", "/tmp"]
    return args


def kernel_env(spec: SandboxSpec, *, sandboxed: bool) -> dict[str, str]:
    """Variables the kernelspec adds to the kernel's environment. Under bubblewrap none
    (the sandbox sets its own, see :func:`kernel_argv`); unsandboxed, the working folder
    and the empty start folder in ``spec.scratch``."""
    if sandboxed:
        return {}
    if spec.scratch is None:
        raise ValueError("an unsandboxed kernel needs a scratch folder")
    start = Path(spec.scratch) / "start"
    start.mkdir(parents=True, exist_ok=True)
    return {"EMLAB_SUBMISSION_FILES": str(spec.files), "EMLAB_WORKDIR": str(Path(spec.scratch) / "work"),
            "EMLAB_KERNEL_START_DIR": str(start), "EMLAB_RECORD": "1"}


def matplotlib_fontlist(folder: Path) -> Path | None:
    """Build matplotlib's font list (``fontlist-v*.json``) in ``folder`` with the kernels'
    interpreter, once, and return it (None if matplotlib is missing or fails). Without it
    every kernel would look through the system's fonts again (``fc-list``, a few tenths of
    a second of CPU per submission)."""
    folder = Path(folder)
    found = sorted(folder.glob("fontlist-v*.json"))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MPLCONFIGDIR": str(folder), "XDG_CACHE_HOME": str(folder / "cache")}
        try:
            subprocess.run([str(Path(sys.prefix) / "bin" / "python"), "-c", "import matplotlib.font_manager"],
                           env=env, capture_output=True, timeout=120, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        found = sorted(folder.glob("fontlist-v*.json"))
    return found[-1] if found else None


def write_kernelspec(data_dir: Path, argv: list[str], env: dict[str, str] | None = None) -> Path:
    """Install the kernelspec ``emlab-sandbox`` under ``data_dir/kernels``. Interrupts go
    by message: a SIGINT sent to bubblewrap or prlimit would not reach the kernel."""
    folder = Path(data_dir) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "EM Lab grading sandbox", "language": "python",
        "interrupt_mode": "message", "env": env or {},
        "metadata": {"debugger": False},
    }, indent=1))
    return folder


def uid_processes(uid: int) -> list[int]:
    """PIDs of the processes running as ``uid``, zombies left out (a zombie is dead already:
    it waits only for its parent, often the machine's init, to collect its exit status)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state not in {"Z", "X"}:
            pids.append(int(entry.name))
    return pids


def kill_uid(uid: int) -> int:
    """SIGKILL every live process of the sandbox's own uid, each by its PID, until none is
    left (a fork bomb's children may still be forking while the first are killed); return
    how many were killed."""
    killed = 0
    for _ in range(20):
        pids = uid_processes(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                continue
        time.sleep(0.02)
    return killed


# The largest message the grader takes from a kernel, on every channel: an output is capped
# at 2 MB and a record at 16 MB once received (execute.OutputBudget), but only once it is
# whole in the grader's memory. A larger frame closes the connection it came on (ZeroMQ
# reconnects it): what it carried is lost (a record in it is judged missing), and so may be
# the messages sent while it reconnects, so the cell can cost its time limit. Large enough
# for any output a cell can make on purpose (a 100 MB image is taken, then cut to 2 MB).
MAX_MESSAGE_BYTES = 128 * 1024 ** 2


def _bounded_context(context):
    """``context``, set so that every socket made from it takes no message over
    MAX_MESSAGE_BYTES."""
    import zmq

    context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    return context


class SandboxKernelManager(AsyncKernelManager):
    """Unix-socket transport; the connection file handed to the kernel's uid.

    Reads EMLAB_SANDBOX_UID (the uid the kernel drops to, if any), EMLAB_SANDBOX_RUNTIME
    (the folder of the connection file, read-only in the sandbox) and EMLAB_SANDBOX_SOCKETS
    (the folder bound read-write for the sockets). Before each start the sockets' folder
    is made anew: whatever a previous kernel left there (a link, say) is gone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        _bounded_context(self.context)
        runtime = os.environ.get("EMLAB_SANDBOX_RUNTIME")
        self._sockets = os.environ.get("EMLAB_SANDBOX_SOCKETS")
        if runtime and self._sockets:
            self.ip = os.path.join(self._sockets, "kernel")
            self.connection_file = os.path.join(runtime, f"kernel-{os.getpid()}.json")

    @property
    def _uid(self) -> int | None:
        uid = os.environ.get("EMLAB_SANDBOX_UID")
        return int(uid) if uid and os.geteuid() == 0 else None

    def client(self, **kwargs):
        """A client whose sockets take no message over MAX_MESSAGE_BYTES (its context is its
        own, closed with it)."""
        import zmq.asyncio

        if "context" in kwargs:
            return super().client(**kwargs)
        client = super().client(context=_bounded_context(zmq.asyncio.Context()), **kwargs)
        client._created_context = True
        return client

    def kill_sandbox_processes(self) -> int:
        """Kill every process of the sandbox's uid (a fork bomb's children included)."""
        return kill_uid(self._uid) if self._uid is not None else 0

    def _fresh_socket_dir(self) -> None:
        if not self._sockets:
            return
        shutil.rmtree(self._sockets, ignore_errors=True)  # never follows a link
        os.mkdir(self._sockets, 0o700)
        if self._uid is not None:
            os.chown(self._sockets, self._uid, self._uid)

    def seal_socket_dir(self) -> None:
        """Once the kernel has bound its sockets: the folder back to the grader, so the
        kernel can create nothing more on the grader's disk."""
        if self._sockets and self._uid is not None and os.path.isdir(self._sockets) \
                and not os.path.islink(self._sockets):
            os.chown(self._sockets, os.geteuid(), os.getegid())
            os.chmod(self._sockets, 0o755)

    def write_connection_file(self, **kwargs):
        result = super().write_connection_file(**kwargs)
        if self._uid is not None:
            os.chown(self.connection_file, self._uid, self._uid)
        return result

    async def _async_pre_start_kernel(self, **kw):
        self._fresh_socket_dir()
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        # what the kernel writes to its file descriptors reaches no file of the grader's
        # (nbgrader's log): its outputs come as messages, capped on arrival
        kw["stdout"] = subprocess.DEVNULL
        kw["stderr"] = subprocess.DEVNULL
        return cmd, kw
