"""Warm grading kernels: each submission's kernel forked, in its own sandbox, from a process
that has imported the scientific stack once.

A fresh kernel spends about half a lab's grading time importing NumPy, SciPy, matplotlib,
scikit-learn and IPython and drawing its first figure: stock ``nbgrader autograde`` pays
that for every submission, and so did the harness. Here a fork server, started once per
batch, imports them (and draws a figure once); every kernel is a ``fork`` of it. The
sandbox is unchanged: bubblewrap still builds it, one per submission, and the forked
kernel enters it before it runs anything of the student's.

How one kernel starts (every step as root but the last line):

1. jupyter_client runs the *launcher* (``kernel_forkserver.py launch``) as the kernel's
   command. It starts bubblewrap with the submission's allow-list, limits and control
   group exactly as for a cold kernel (:func:`emlab_judge.sandbox.kernel_argv`), but the
   command inside is a *holder* that only waits (as the sandbox's uid);
2. once the holder says it is ready, the launcher sends the server the PID bubblewrap
   reports for the sandbox (with a pidfd of it, so a reused PID is noticed), the
   kernel's arguments, environment, limits, uid and control groups;
3. the server forks a child, which joins the control groups, opens the sandbox's
   namespaces (mount, PID, network, IPC, UTS), checks that each differs from its own
   (never a kernel outside a sandbox) and enters them, then forks the kernel: a member of
   the sandbox's PID namespace, with its root, its ``/tmp``, no network;
4. the kernel closes every inherited file descriptor, sets the resource limits, drops to
   the sandbox's uid (groups cleared, ``no_new_privs``), takes the sandbox's environment,
   reseeds its random generators and runs :mod:`emlab_grader.kernel` as ``python -P -m``
   would;
5. the launcher waits on the kernel's pidfd, passes on SIGTERM/SIGINT, and exits with the
   kernel's status. When the launcher dies, bubblewrap dies with it (``--die-with-parent``)
   and the kernel with the sandbox's PID namespace.

Anything that goes wrong before the kernel runs (no server, a refused request, a sandbox
that is not one) makes the launcher start the cold kernel instead, with the very same
sandbox: warm kernels make grading faster, never less safe.

The server imports only installed libraries and the course's student-safe packages
(``emlab``, ``emlab_grader``): never :mod:`emlab_judge`, whose references must not be in
a kernel's memory. It runs by path (``python -P kernel_forkserver.py serve``), so not even
``emlab_judge/__init__.py`` is loaded; this module imports nothing but the standard
library at its top. Its environment is the kernels' but for its own folders (home,
matplotlib's, IPython's, temporary: in a private folder of the grader's that also holds the
grader's font list); a forked kernel takes the sandbox's environment and works out those
folders again, as a cold kernel would. Its socket is in that private (0700) folder, which
no sandbox shows.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time

__all__ = ["ForkServer", "shared", "stop", "launcher_argv", "is_server", "usable", "PRELOAD"]

# Imported by the server once: what the labs' notebooks, the kernel and the in-kernel
# grading API import. Installed libraries and the course's student-safe packages only.
PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "scipy.special", "scipy.stats", "scipy.linalg",
           "scipy.optimize", "matplotlib", "matplotlib.pyplot", "matplotlib.colors", "matplotlib.patches",
           "matplotlib_inline.backend_inline", "sklearn.mixture", "sklearn.cluster", "sklearn.datasets",
           "IPython", "IPython.core.interactiveshell", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "ipykernel.zmqshell", "emlab", "emlab.data", "emlab.em", "emlab.plotting", "emlab.checks",
           "emlab_grader", "emlab_grader.api")
READY = b"ready\n"
MAX_REQUEST = 1 << 20  # bytes of one request
_CLONE = {"ipc": 0x08000000, "uts": 0x04000000, "net": 0x40000000, "pid": 0x20000000, "mnt": 0x00020000}
_NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")  # mount last: it changes what /proc is
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38
# variables the server's imports set (scikit-learn's KMP_*): a cold kernel's imports set them too
_SET_BY_IMPORTS: dict[str, str] = {}
# the address space the server's imports took: a warm kernel's limit is raised by it, so a
# student's arrays have at least the room they would have in a cold kernel
_PRELOADED_BYTES = 0
KERNEL_MODULE = "emlab_grader.kernel"


# ---------------------------------------------------------------------------- the server

def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _preload() -> list[str]:
    """Import PRELOAD and draw one figure with text and mathematics (fonts, glyph caches and
    the mathtext parser loaded once); return the modules that failed to import."""
    import importlib

    failed = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional library: kernels import it themselves
            failed.append(name)
    try:
        import io

        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, 1], label=r"$\mu_k$")
        ax.set_title(r"$\log p(x \mid \theta)$")
        ax.legend()
        fig.savefig(io.BytesIO(), format="png")
        plt.close("all")
    except Exception:
        pass
    _drop_open_files()
    return failed


def _drop_open_files() -> None:
    """Forget the font files the warm-up left open (matplotlib caches FT2Font objects, each
    holding a file): a kernel closes every inherited descriptor, and a cached object closed
    later would close whatever file then had its number."""
    import gc

    for module, names in (("matplotlib.mathtext", ("MathTextParser._parse_cached",)),
                          ("matplotlib.font_manager", ("_get_font", "get_font"))):
        mod = sys.modules.get(module)
        for dotted in names:
            obj = mod
            for part in dotted.split("."):
                obj = getattr(obj, part, None)
            if obj is not None and hasattr(obj, "cache_clear"):
                obj.cache_clear()
    gc.collect()


def _open_fds() -> list[int]:
    """The descriptors open in this process (not the one the listing itself used)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the listing's own, closed by now
        found.append(int(fd))
    return sorted(found)


def _vm_size() -> int:
    """This process's address space in bytes (VmSize)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def serve(listen_fd: int) -> None:
    """Fork a kernel for each request on the listening socket ``listen_fd`` (bound by the
    grader), until the parent (the grader) is gone or SIGTERM."""
    global _SET_BY_IMPORTS, _PRELOADED_BYTES
    parent = os.getppid()
    before, vm_before = dict(os.environ), _vm_size()
    _preload()
    _SET_BY_IMPORTS = {k: v for k, v in os.environ.items() if before.get(k) != v}
    _PRELOADED_BYTES = max(0, _vm_size() - vm_before)
    if not _single_threaded():  # a fork would copy a lock some thread holds
        raise SystemExit("the kernel fork server has threads after its imports; not serving")
    # a kernel inherits no open file: standard streams and the listening socket only (the
    # kernel closes every descriptor past 2; an object still holding one would close a
    # file of the kernel's later)
    extra = [fd for fd in _open_fds() if fd > 2 and fd != listen_fd]
    if extra:
        raise SystemExit(f"the kernel fork server holds open files after its imports ({extra}); not serving")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the system
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = socket.socket(fileno=listen_fd)
    server.settimeout(1.0)
    print("ready", flush=True)
    while os.getppid() == parent:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if os.fork() == 0:  # the child handles the request; the server goes on listening
            code = 1
            try:
                server.close()
                code = _spawn(conn)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        conn.close()


def _recv_request(conn: socket.socket) -> tuple[dict, int]:
    """The request (JSON, one line) and the pidfd sent with it."""
    import array

    conn.settimeout(10)
    fds = array.array("i")
    msg, ancdata, _, _ = conn.recvmsg(MAX_REQUEST, socket.CMSG_LEN(fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
    while not msg.endswith(b"\n"):
        more = conn.recv(MAX_REQUEST)
        if not more or len(msg) + len(more) > MAX_REQUEST:
            raise ValueError("request cut short or too long")
        msg += more
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request carries exactly one pidfd")
    return json.loads(msg), fds[0]


def _send(conn: socket.socket, payload: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(payload).encode() + b"\n"
    if fds:
        socket.send_fds(conn, [data], list(fds))
    else:
        conn.sendall(data)


def _sandbox_namespaces(pid: int, pidfd: int) -> dict[str, int]:
    """Open the namespaces of the sandbox's process ``pid`` (still the process ``pidfd``
    names: checked after they are open). Each must differ from this process's own."""
    opened: dict[str, int] = {}
    try:
        signal.pidfd_send_signal(pidfd, 0)
        for name in _NAMESPACES:
            opened[name] = os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        signal.pidfd_send_signal(pidfd, 0)  # still alive: the PID was not reused meanwhile
        for name, fd in opened.items():
            if os.fstat(fd).st_ino == os.stat(f"/proc/self/ns/{name}").st_ino:
                raise PermissionError(f"the sandbox shares this process's {name} namespace")
        return opened
    except BaseException:
        for fd in opened.values():
            os.close(fd)
        raise


def _valid_request(request) -> str | None:
    """Why ``request`` is refused, or None. Fail closed: a kernel is forked only into a
    sandbox, as an unprivileged uid, into the grader's control groups, running the kernel."""
    if not isinstance(request, dict):
        return "not a request"
    uid = request.get("uid")
    if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
        return "the kernel's uid must be an unprivileged one"
    if request.get("module") != KERNEL_MODULE:
        return f"only {KERNEL_MODULE} is started"
    if not isinstance(request.get("pid"), int) or request["pid"] <= 1:
        return "no sandbox named"
    cgroups = request.get("cgroups", [])
    if not isinstance(cgroups, list) or not all(
            isinstance(c, str) and c.startswith("/sys/fs/cgroup/") and "/emlab-" in c and ".." not in c
            and c.endswith("/cgroup.procs") for c in cgroups):
        return "control groups must be the grader's own"
    if not isinstance(request.get("argv"), list) or not isinstance(request.get("env"), dict) \
            or not isinstance(request.get("rlimits", {}), dict):
        return "malformed request"
    return None


def _spawn(conn: socket.socket) -> int:
    """In the server's child: enter the sandbox, fork the kernel, hand the launcher its
    pidfd once the kernel says it is confined, wait for it and report its status."""
    request, pidfd = _recv_request(conn)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        refused = _valid_request(request)
        if refused:
            raise PermissionError(refused)
        for procs in request["cgroups"]:  # joined before the namespaces: /sys is not in them
            with open(procs, "a") as fh:
                fh.write("0")
        namespaces = _sandbox_namespaces(int(request["pid"]), pidfd)
        libc = _libc()
        for name in _NAMESPACES:
            _check(libc.setns(namespaces[name], _CLONE[name]), f"setns {name}")
            os.close(namespaces[name])
        os.close(pidfd)
    except BaseException as exc:
        _send(conn, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    go_r, go_w = os.pipe()
    kernel = os.fork()
    if kernel == 0:
        os.close(go_r)
        _become_kernel(go_w, request)  # never returns
    os.close(go_w)
    # the kernel says "confined" (uid dropped, capabilities gone, limits set) before any
    # of the student's code runs; otherwise it is killed and the launcher starts it cold
    import select

    confined = select.select([go_r], [], [], 20)[0] and os.read(go_r, 1) == b"1"
    os.close(go_r)
    if not confined:
        os.kill(kernel, signal.SIGKILL)
        os.waitpid(kernel, 0)
        _send(conn, {"error": "the kernel could not confine itself"})
        return 1
    kernel_fd = os.pidfd_open(kernel)
    try:
        _send(conn, {"started": True}, (kernel_fd,))
    except OSError:
        os.kill(kernel, signal.SIGKILL)
    os.close(kernel_fd)
    while True:
        _, status = os.waitpid(kernel, 0)
        if os.WIFSTOPPED(status):  # a kernel that made this process its tracer: stopped for good
            os.kill(kernel, signal.SIGKILL)
            continue
        break
    try:
        _send(conn, {"status": os.waitstatus_to_exitcode(status)})
    except (OSError, ValueError):
        pass
    return 0


def _capabilities_gone() -> bool:
    with open("/proc/self/status") as fh:
        caps = {k: v.strip() for k, _, v in (line.partition(":") for line in fh) if k.startswith("Cap")}
    return all(int(caps.get(name, "1"), 16) == 0 for name in ("CapPrm", "CapEff", "CapAmb"))


def _become_kernel(go_fd: int, request: dict) -> None:
    """In the sandbox's namespaces, still root: become the submission's kernel. Writes "1"
    on ``go_fd`` once confined."""
    code = 1
    try:
        os.setsid()
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.chdir(request.get("cwd", "/tmp"))
        import resource

        for name, value in request.get("rlimits", {}).items():
            value = int(value) + (_PRELOADED_BYTES if name == "as" else 0)
            resource.setrlimit(getattr(resource, f"RLIMIT_{name.upper()}"), (value, value))
        libc = _libc()
        uid = int(request["uid"])
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid) or os.getgroups():
            raise PermissionError("could not drop to the sandbox's uid")
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        if not _capabilities_gone():
            raise PermissionError("capabilities left after the uid was dropped")
        _check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")  # as after an exec
        os.environ.clear()
        # the sandbox's environment, what the imports added to it, and the working folder
        # bubblewrap's --chdir sets
        os.environ.update({**request["env"], **_SET_BY_IMPORTS, "PWD": os.getcwd()})
        _rebase_paths()
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()  # the legacy global generator, from fresh entropy
        for name, module in list(sys.modules.items()):  # the server's own module, under any name
            if getattr(module, "__file__", None) == __file__:
                del sys.modules[name]
        module, argv = KERNEL_MODULE, [str(a) for a in request["argv"]]
        request.clear()
        os.write(go_fd, b"1")
        os.closerange(3, 2 ** 31 - 1)  # every inherited descriptor, the "go" pipe included
        import runpy

        sys.argv = [module, *argv]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _rebase_paths() -> None:
    """Forget the folders the server's imports worked out from its own environment, so the
    kernel works them out from the sandbox's, as a cold kernel would: the temporary folder,
    matplotlib's configuration and cache folders (its user styles, its TeX cache)."""
    import tempfile
    from pathlib import Path

    tempfile.tempdir = None
    mpl = sys.modules.get("matplotlib")
    if mpl is None:
        return
    for name, fmt in (("get_configdir", "CONFIGDIR=%s"), ("get_cachedir", "CACHEDIR=%s")):
        inner = getattr(getattr(mpl, name, None), "__wrapped__", None)
        if inner is not None and hasattr(mpl, "_logged_cached"):
            setattr(mpl, name, mpl._logged_cached(fmt)(inner))
    style = sys.modules.get("matplotlib.style")
    if style is not None and isinstance(getattr(style, "USER_LIBRARY_PATHS", None), list):
        style.USER_LIBRARY_PATHS[:] = [os.path.join(mpl.get_configdir(), "stylelib")]
    tex = sys.modules.get("matplotlib.texmanager")
    if tex is not None and hasattr(tex, "TexManager"):
        tex.TexManager._cache_dir = Path(mpl.get_cachedir(), "tex.cache")


# ---------------------------------------------------------------------------- the launcher

def launch(spec_json: str, connection_file: str) -> int:
    """The kernel's command (see the module's docstring). ``spec_json`` (base64): {"socket",
    "holder": bubblewrap's argv ending in the holder, "cold": the cold kernel's argv,
    "request": what the server is sent}; "@CONNECTION_FILE@" and "@INFO_FD@" in them are
    filled in here."""
    import select
    import subprocess

    import base64

    spec = json.loads(base64.b64decode(spec_json, validate=True))

    def fill(argv):
        return [a.replace("@CONNECTION_FILE@", connection_file) for a in argv]

    cold = fill(spec["cold"])
    info_r, info_w = os.pipe()
    try:
        holder = subprocess.Popen([a.replace("@INFO_FD@", str(info_w)) for a in spec["holder"]],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  pass_fds=(info_w,), start_new_session=False)
    except OSError:
        os.execvp(cold[0], cold)
    os.close(info_w)
    kernel_fd = None
    try:
        child_pid = _read_info(info_r, deadline=time.monotonic() + 30)
        if _parent_of(child_pid) != holder.pid:  # the sandbox this launcher started, no other
            raise RuntimeError("the PID bubblewrap reported is not its sandbox's")
        ready = select.select([holder.stdout], [], [], 30)[0] and holder.stdout.read(len(READY)) == READY
        if not ready or holder.poll() is not None:
            raise RuntimeError("the sandbox did not start")
        pidfd = os.pidfd_open(child_pid)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(30)
        conn.connect(spec["socket"])
        request = {**spec["request"], "pid": child_pid, "argv": fill(spec["request"]["argv"])}
        _send(conn, request, (pidfd,))
        os.close(pidfd)
        reply, fds = _recv_reply(conn)
        if not reply.get("started") or len(fds) != 1:
            raise RuntimeError(reply.get("error", "the fork server refused"))
        kernel_fd = fds[0]
    except Exception:
        holder.kill()
        holder.wait()
        os.execvp(cold[0], cold)  # the same sandbox, started cold
    # the kernel runs: pass signals on, wait for it, exit with its status
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: _forward(kernel_fd, signum))
    conn.settimeout(None)
    status = 1
    while True:
        try:
            readable = select.select([kernel_fd, conn], [], [])[0]
        except InterruptedError:
            continue
        if conn in readable:
            reply, _ = _recv_reply(conn)
            status = reply.get("status", 1) if reply else 1
            break
        if kernel_fd in readable:  # gone; its status follows on conn (or the server is gone)
            reply, _ = _recv_reply(conn, timeout=5)
            status = reply.get("status", 1) if reply else 1
            break
    holder.kill()
    holder.wait()
    return status if status >= 0 else 128 - status


def _forward(kernel_fd: int, signum: int) -> None:
    try:
        signal.pidfd_send_signal(kernel_fd, signum)
    except OSError:
        pass


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rpartition(b")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _read_info(fd: int, deadline: float) -> int:
    """bubblewrap's --info-fd JSON: the PID of the sandbox's first process."""
    import select

    data = b""
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            break
        chunk = os.read(fd, 4096)
        data += chunk
        try:
            return int(json.loads(data)["child-pid"])
        except (ValueError, KeyError):
            if not chunk or len(data) > 65536:
                break
    raise RuntimeError("bubblewrap reported no sandbox")


def _recv_reply(conn: socket.socket, timeout: float | None = None) -> tuple[dict | None, list[int]]:
    conn.settimeout(timeout)
    try:
        msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
    except (OSError, socket.timeout):
        return None, []
    try:
        return json.loads(msg.split(b"\n", 1)[0]), list(fds)
    except ValueError:
        return None, list(fds)


# ---------------------------------------------------------------------------- the grader's handle

class ForkServer:
    """One running server: its process (stopped by PID) and its socket."""

    def __init__(self, env: dict[str, str], fontlist=None, folder=None):
        import shutil
        import subprocess
        import tempfile
        from pathlib import Path

        self.process = None
        # 0700, the grader's; in the system's temporary folder: a Unix socket's path is short
        self.folder = Path(tempfile.mkdtemp(prefix="emlab-kernels-", dir=folder))
        self.socket = str(self.folder / "s")
        # the venv by its real path: the sandbox binds the interpreter's folders by their real
        # paths, and a forked kernel imports from the server's sys.path
        python = str(Path(os.path.realpath(sys.prefix)) / "bin" / "python")
        self.env = dict(env)
        # the server's own folders (the kernels' are /tmp and /tmp/work in their sandboxes):
        # matplotlib's, holding the grader's font list, IPython's, the home folder
        home = self.folder / "home"
        home.mkdir(mode=0o700)
        if fontlist:
            shutil.copyfile(fontlist, home / Path(fontlist).name)
        server_env = {**env, "HOME": str(home), "MPLCONFIGDIR": str(home), "XDG_CACHE_HOME": str(home / "cache"),
                      "IPYTHONDIR": str(home / "ipython"), "TMPDIR": str(home), "JUPYTER_RUNTIME_DIR": str(home)}
        # the grader binds the socket (in its 0700 folder) and hands the server the listening end
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket)
        listener.listen(16)
        argv = [python, "-P", os.path.abspath(__file__), "serve", str(listener.fileno())]
        try:
            self.process = subprocess.Popen(argv, env=server_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, cwd=str(home), pass_fds=(listener.fileno(),))
        finally:
            listener.close()
        import select

        line = b""
        if select.select([self.process.stdout], [], [], 120)[0]:
            line = self.process.stdout.readline()
        if line != READY:
            self.stop()
            raise RuntimeError("the kernel fork server did not start")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and os.path.exists(self.socket)

    def stop(self) -> None:
        import shutil

        if self.process is None:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except Exception:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_SERVER: ForkServer | None = None
_FAILED = False
_LOCK = threading.Lock()


def usable() -> bool:
    """Warm kernels need root (to enter a sandbox's namespaces and drop to its uid) and
    pidfds (Linux 5.3); EMLAB_WARM_KERNELS=off turns them off."""
    if os.environ.get("EMLAB_WARM_KERNELS", "").lower() in {"0", "off", "no", "false"}:
        return False
    return os.geteuid() == 0 and sys.platform == "linux" and hasattr(os, "pidfd_open")


def shared(env: dict[str, str], fontlist=None) -> ForkServer | None:
    """The batch's server, started on first use (None where warm kernels cannot run here,
    or the server failed to start: kernels then start cold). A server started for another
    environment (another course) is replaced."""
    global _SERVER, _FAILED
    import atexit

    with _LOCK:
        if _SERVER is not None and _SERVER.alive() and _SERVER.env == dict(env):
            return _SERVER
        if _SERVER is not None:
            _SERVER.stop()
            _SERVER = None
        if _FAILED or not usable():
            return None
        try:
            _SERVER = ForkServer(env, fontlist)
            atexit.register(stop)
        except (OSError, RuntimeError):
            _FAILED, _SERVER = True, None
        return _SERVER


def stop() -> None:
    """Stop the batch's server by its PID (kernels it forked are not touched: each is
    waited for, or killed, with its sandbox)."""
    global _SERVER, _FAILED
    if _SERVER is not None:
        _SERVER.stop()
    _SERVER, _FAILED = None, False


def is_server(cmdline: str) -> bool:
    """Whether a process's command line (spaces for NULs) is this server's, as a warm kernel's
    is: it was forked from the server without an exec."""
    parts = cmdline.split()
    return len(parts) >= 3 and parts[-2] == "serve" and parts[-3].endswith("/emlab_judge/kernel_forkserver.py")


def launcher_argv(server: ForkServer, holder: list[str], cold: list[str], request: dict) -> list[str]:
    """The kernelspec argv of a warm kernel ({connection_file} filled in by jupyter_client)."""
    import base64

    def mark(argv):  # the connection file is filled in by the launcher, not in the JSON
        return [a.replace("{connection_file}", "@CONNECTION_FILE@") for a in argv]

    spec = {"socket": server.socket, "holder": holder, "cold": mark(cold),
            "request": {**request, "argv": mark(request["argv"])}}
    # base64: jupyter_client fills in every {name} it knows in the argv, JSON's included
    return [str(os.path.join(os.path.realpath(sys.prefix), "bin", "python")), "-P", os.path.abspath(__file__), "launch",
            base64.b64encode(json.dumps(spec).encode()).decode(), "{connection_file}"]


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "serve" and argv[1].isdigit():
        serve(int(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "launch":
        return launch(argv[1], argv[2])
    print("usage: kernel_forkserver.py serve LISTENING_FD | launch SPEC CONNECTION_FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
