"""File access for trusted code that must never follow a link or block on a special file.

Every read of a submission and every write of the grader goes through here:

- :func:`read_regular` opens with ``O_NOFOLLOW | O_NONBLOCK`` and reads only a regular
  file with one link (a hard link to a course file is refused like a symbolic one), at
  most ``max_bytes``: a FIFO, device, socket, directory or link raises
  :class:`UnsafeFile` with a reason a person understands, at once;
- :func:`copy_submission` copies a submission folder into a new folder: regular files and
  sub-folders only, within a count, per-file and total size, each refusal a reason;
- :func:`write_atomic` writes a file by a new temporary name in a folder opened without
  following links, then renames it into place (``rename`` replaces a link planted at the
  name; it never writes through one);
- :func:`entry_kind` names what a path is without following it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["UnsafeFile", "read_regular", "write_atomic", "copy_submission", "CopyReport", "entry_kind",
           "open_dir", "MiB"]

MiB = 1024 ** 2
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


class UnsafeFile(OSError):
    """A path trusted code refuses to read or write: its reason is in ``str(exc)``."""


def entry_kind(mode: int) -> str:
    """'regular file', 'directory', 'symbolic link', 'FIFO', ... for an ``lstat`` mode."""
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISREG, "regular file"), (stat.S_ISDIR, "directory"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _describe(path, exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return f"{Path(path).name} is a symbolic link"
    if exc.errno == errno.ENOENT:
        return f"{Path(path).name} is missing"
    return f"{Path(path).name} cannot be read ({exc.strerror or exc})"


def read_regular(path, max_bytes: int, *, dir_fd: int | None = None, allow_hard_links: bool = False) -> bytes:
    """The bytes of a regular file, never following a link, never blocking.

    Raises UnsafeFile (with the reason) for a link, FIFO, device, socket, directory, a
    hard-linked file (unless ``allow_hard_links``), a file over ``max_bytes``, or a file
    that cannot be opened."""
    try:
        fd = os.open(path, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise UnsafeFile(_describe(path, exc)) from None
    try:
        st = os.fstat(fd)
        name = Path(path).name
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"{name} is a {entry_kind(st.st_mode)}, not a regular file")
        if st.st_nlink > 1 and not allow_hard_links:
            raise UnsafeFile(f"{name} is a hard link to another file")
        if st.st_size > max_bytes:
            raise UnsafeFile(f"{name} is {st.st_size / MiB:.1f} MiB, over the {max_bytes / MiB:.0f} MiB limit")
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 4 * MiB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # it grew while being read
            raise UnsafeFile(f"{name} is over the {max_bytes / MiB:.0f} MiB limit")
        return data
    finally:
        os.close(fd)


def open_dir(path) -> int:
    """A file descriptor of the folder ``path`` (its last component not a link)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnsafeFile(f"{Path(path).name} is not a folder that can be written safely ({exc.strerror})") from None


def write_atomic(folder, name: str, data: bytes | str, mode: int = 0o644) -> None:
    """Write ``folder/name`` whole or not at all, through no link: a link planted at
    ``name`` is replaced, never written through; ``folder`` itself must not be a link."""
    if "/" in name or name in {"", ".", ".."}:
        raise ValueError(f"not a file name: {name!r}")
    raw = data.encode() if isinstance(data, str) else data
    dfd = open_dir(folder)
    tmp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                     mode, dir_fd=dfd)
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass
        raise
    finally:
        os.close(dfd)


@dataclass
class CopyReport:
    """What :func:`copy_submission` did: files copied (relative paths) and refusals."""

    copied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    total_bytes: int = 0


def copy_submission(src, dest, *, skip=lambda rel: False, max_file: int = 20 * MiB, max_total: int = 100 * MiB,
                    max_files: int = 200, max_depth: int = 4) -> CopyReport:
    """Copy the folder ``src`` into the new or empty folder ``dest``: regular files and
    folders only, never through a link (every folder is opened relative to its parent,
    without following links). ``skip(rel)`` leaves a relative path out silently (the
    notebooks, which are checked and written by the caller). Everything refused is named
    in ``report.refused`` with why."""
    report = CopyReport()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        root = open_dir(src)
    except UnsafeFile as exc:
        report.refused.append(str(exc))
        return report
    try:
        _copy_dir(root, dest, "", 0, report, skip, max_file, max_total, max_files, max_depth)
    finally:
        os.close(root)
    return report


def _copy_dir(dfd, dest: Path, rel: str, depth, report, skip, max_file, max_total, max_files, max_depth) -> None:
    try:
        names = sorted(os.listdir(dfd))
    except OSError as exc:
        report.refused.append(f"{rel or 'the submission folder'} cannot be listed ({exc.strerror})")
        return
    for name in names:
        path = f"{rel}{name}"
        if name.startswith(".") or skip(path):
            continue
        try:
            st = os.lstat(name, dir_fd=dfd)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth >= max_depth:
                report.refused.append(f"{path}/: folders nested deeper than {max_depth} levels are not copied")
                continue
            try:
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
            except OSError as exc:
                report.refused.append(f"{path}/ cannot be opened ({exc.strerror})")
                continue
            try:
                (dest / name).mkdir(exist_ok=True)
                _copy_dir(sub, dest / name, path + "/", depth + 1, report, skip, max_file, max_total, max_files,
                          max_depth)
            finally:
                os.close(sub)
            continue
        if not stat.S_ISREG(st.st_mode):
            report.refused.append(f"{path} is a {entry_kind(st.st_mode)}: not copied (only regular files are)")
            continue
        if len(report.copied) >= max_files:
            report.refused.append(f"{path}: more than {max_files} files beside the notebook; the rest are not copied")
            continue
        if report.total_bytes + st.st_size > max_total:
            report.refused.append(f"{path}: the files beside the notebook exceed {max_total / MiB:.0f} MiB in all; "
                                  "not copied")
            continue
        try:
            data = read_regular(name, max_file, dir_fd=dfd)
        except UnsafeFile as exc:
            report.refused.append(f"{path}: not copied ({exc})")
            continue
        fd = os.open(dest / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        report.copied.append(path)
        report.total_bytes += len(data)
