"""File access for trusted code that must never follow a link or block on a special file.

Every read of a submission and every write of the grader goes through here:

- :func:`read_regular` opens with ``O_NOFOLLOW | O_NONBLOCK`` and reads only a regular
  file with one link (a hard link to a course file is refused like a symbolic one), at
  most ``max_bytes``: a FIFO, device, socket, directory or link raises
  :class:`UnsafeFile` with a reason a person understands, at once;
- :func:`copy_submission` copies a submission folder into a new folder: regular files and
  sub-folders only, within a count, per-file and total size, and no file a browser would
  open as a page that runs script (:func:`active_content`: the formgrader serves the files
  beside a graded notebook from the Jupyter server's origin, with no sandbox), each
  refusal a reason;
- :func:`write_atomic` writes a file by a new temporary name in a folder opened without
  following links, then renames it into place (``rename`` replaces a link planted at the
  name; it never writes through one);
- :func:`entry_kind` names what a path is without following it.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["UnsafeFile", "read_regular", "write_atomic", "copy_submission", "CopyReport", "entry_kind",
           "open_dir", "active_content", "MiB"]

MiB = 1024 ** 2
# extensions a browser may open as a page that runs script, whatever a machine's MIME table says
ACTIVE_EXTENSIONS = {"html", "htm", "shtml", "shtm", "xhtml", "xht", "xml", "xsl", "xslt", "xsd", "dtd", "svg", "svgz",
                     "js", "mjs", "cjs", "jsx", "mht", "mhtml", "rdf", "rss", "atom", "xul", "xbl", "mml", "hta",
                     "htc", "swf", "wml", "wmls", "vml", "smil", "jsp", "asp", "aspx", "php", "phtml"}
# MIME types a browser renders as a document that can hold script
ACTIVE_TYPE = re.compile(r"html|xml|xsl|svg|javascript|ecmascript|jscript|mathml|x-component|\bhta\b|flash|"
                         r"shockwave|rfc822|multipart|wml", re.I)
# markup a browser sniffing a file of unknown type takes for a page
MARKUP = re.compile(r"<\s*(?:!doctype|\?xml|html|head|body|script|iframe|frameset|svg|math|object|embed|"
                    r"xsl:|[a-z]+:[a-z])", re.I)
SNIFF_BYTES = 1024
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


def _sniffed_text(head: bytes) -> str:
    """The first bytes of a file as text a browser would look at (a BOM says the encoding)."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom):].decode(codec, "ignore")
    return head.decode("latin-1").replace("\x00", "")


def _looks_like_markup(head: bytes) -> bool:
    text = _sniffed_text(head[:SNIFF_BYTES])
    return text.lstrip(" \t\r\n\f").startswith("<") or bool(MARKUP.search(text))


def active_content(name: str, head: bytes = b"") -> str | None:
    """What a browser would open the file ``name`` (its first bytes ``head``) as, when that
    is a page that can run script: HTML, XHTML, SVG, XML/XSL, JavaScript, any ``+xml``
    type (by extension, or by this machine's MIME table), or, for a file whose type is
    unknown, markup in its first bytes (a server or browser may sniff it). None otherwise."""
    lower = name.lower().rstrip(". ")
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    mime, _ = mimetypes.guess_type(lower, strict=False)
    if ext in ACTIVE_EXTENSIONS or (mime and ACTIVE_TYPE.search(mime)):
        return mime or f".{ext}"
    if mime in (None, "application/octet-stream") and _looks_like_markup(head):
        return "markup (HTML, SVG or XML) in a file of no known type"
    return None


def _active_refusal(path: str, what: str) -> str:
    """The reason an active file is not copied, and how to hand it in instead."""
    name = path.rsplit("/", 1)[-1]
    return (f"{path}: not copied: a browser would open it as {what}, a page that can run script in the grader's "
            f"browser; to hand it in, rename it {name}.txt (plain text) or put its content in the notebook")


@dataclass
class CopyReport:
    """What :func:`copy_submission` did: files copied (relative paths) and refusals."""

    copied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    total_bytes: int = 0


@dataclass(frozen=True)
class _Rules:
    """What :func:`copy_submission` copies."""

    skip: object
    max_file: int
    max_total: int
    max_files: int
    max_depth: int
    refuse_active: bool


def copy_submission(src, dest, *, skip=lambda rel: False, max_file: int = 20 * MiB, max_total: int = 100 * MiB,
                    max_files: int = 200, max_depth: int = 4, refuse_active: bool = True) -> CopyReport:
    """Copy the folder ``src`` into the new or empty folder ``dest``: regular files and
    folders only, never through a link (every folder is opened relative to its parent,
    without following links). ``skip(rel)`` leaves a relative path out silently (the
    notebooks, which are checked and written by the caller). With ``refuse_active``, no
    file a browser would open as a page that runs script is copied (:func:`active_content`).
    Everything refused is named in ``report.refused`` with why."""
    report = CopyReport()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        root = open_dir(src)
    except UnsafeFile as exc:
        report.refused.append(str(exc))
        return report
    rules = _Rules(skip, max_file, max_total, max_files, max_depth, refuse_active)
    try:
        _copy_dir(root, dest, "", 0, report, rules)
    finally:
        os.close(root)
    return report


def _copy_dir(dfd, dest: Path, rel: str, depth: int, report: CopyReport, rules: _Rules) -> None:
    """Copy what the folder ``dfd`` (at ``rel`` in the submission) holds into ``dest``."""
    try:
        names = sorted(os.listdir(dfd))
    except OSError as exc:
        report.refused.append(f"{rel or 'the submission folder'} cannot be listed ({exc.strerror})")
        return
    for name in names:
        path = f"{rel}{name}"
        if name.startswith(".") or rules.skip(path):
            continue
        try:
            st = os.lstat(name, dir_fd=dfd)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            _copy_subdir(dfd, name, dest, path, depth, report, rules)
        else:
            _copy_file(dfd, name, st, dest, path, report, rules)


def _copy_subdir(dfd, name: str, dest: Path, path: str, depth: int, report: CopyReport, rules: _Rules) -> None:
    """Copy the folder ``name`` of ``dfd`` into ``dest``, opened without following a link."""
    if depth >= rules.max_depth:
        report.refused.append(f"{path}/: folders nested deeper than {rules.max_depth} levels are not copied")
        return
    try:
        sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
    except OSError as exc:
        report.refused.append(f"{path}/ cannot be opened ({exc.strerror})")
        return
    try:
        (dest / name).mkdir(exist_ok=True)
        _copy_dir(sub, dest / name, path + "/", depth + 1, report, rules)
    finally:
        os.close(sub)


def _copy_file(dfd, name: str, st, dest: Path, path: str, report: CopyReport, rules: _Rules) -> None:
    """Copy the entry ``name`` of ``dfd`` (its ``lstat`` is ``st``) into ``dest``, or say why not."""
    if not stat.S_ISREG(st.st_mode):
        report.refused.append(f"{path} is a {entry_kind(st.st_mode)}: not copied (only regular files are)")
        return
    if rules.refuse_active and (what := active_content(name)):
        report.refused.append(_active_refusal(path, what))
        return
    if len(report.copied) >= rules.max_files:
        report.refused.append(f"{path}: more than {rules.max_files} files beside the notebook; the rest are not copied")
        return
    if report.total_bytes + st.st_size > rules.max_total:
        report.refused.append(f"{path}: the files beside the notebook exceed {rules.max_total / MiB:.0f} MiB in all; "
                              "not copied")
        return
    try:
        data = read_regular(name, rules.max_file, dir_fd=dfd)
    except UnsafeFile as exc:
        report.refused.append(f"{path}: not copied ({exc})")
        return
    if rules.refuse_active and (what := active_content(name, data[:SNIFF_BYTES])):
        report.refused.append(_active_refusal(path, what))
        return
    fd = os.open(dest / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    report.copied.append(path)
    report.total_bytes += len(data)
