"""The submission folder, checked before anything reads it: links, special files, sizes, ids.

A submitted folder is written by a student (through the exchange, an LMS download or a copy),
and nbgrader trusts it completely: it globs the folder for notebooks, copies every other file
into the kernel's folder as the grader's user (following links), and reads ``timestamp.txt``
with a blocking ``open``. A link to the instructor's source or to ``gradebook.db`` is then
graded or handed to the kernel, a FIFO hangs the grader and a sparse 1 TiB file exhausts its
memory. So the folder is first *listed* without following anything (:func:`inspect_folder`):
only directories and regular files of bounded number and total size pass. Only then are the
files read, each opened relative to its parent directory's descriptor with ``O_NOFOLLOW`` and
``O_NONBLOCK`` and checked to be the regular file that was listed (:func:`digest` streams them
into a hash, :func:`copy_accepted` into a private copy nbgrader reads instead of the folder),
so a folder changed between the listing and the reading cannot slip a link or a FIFO in.

Notebooks the assignment does not have (``Untitled.ipynb``) are ignored, as nbgrader ignores
them: they are neither read, nor hashed, nor copied. Student ids that nbgrader would use as a
glob pattern or a path (``[g]01`` matches ``g01``) are refused by :func:`student_id_problem`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Limits of one submitted folder. The lesson needs one notebook of a few MB; a student may add a
# few files of their own (nbgrader copies them next to the notebook). A folder beyond these is
# not a submission of this assignment: it is refused before any file is read.
MAX_ENTRIES = 200  # files and folders, at any depth
MAX_BYTES = 256 * 2**20  # total apparent size of the files (a sparse file counts its full length)
MAX_DEPTH = 8  # folder nesting below the submission
TIMESTAMP_MAX_BYTES = 4096  # nbgrader's timestamp.txt holds one line
TIMESTAMP = "timestamp.txt"

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = _READ_FLAGS | os.O_DIRECTORY
_CHUNK = 2**20
# Characters nbgrader's glob and path handling give a meaning to, and the shell's option marker.
_GLOB_CHARS = set("[]*?")
_PATH_CHARS = set("/\\")


class FolderRefused(Exception):
    """The folder is not graded; the message is the reason recorded with the zero."""


@dataclass(frozen=True)
class Listing:
    """What the folder holds, as listed without following links or reading a file."""

    files: tuple[tuple[str, int], ...]  # (POSIX path relative to the folder, size), sorted
    ignored: tuple[str, ...]  # notebooks the assignment does not have: never read
    notebooks: tuple[str, ...]  # the assignment's notebooks present, as file names

    @property
    def accepted(self) -> tuple[tuple[str, int], ...]:
        """The files nbgrader may see: everything but the ignored notebooks."""
        ignored = set(self.ignored)
        return tuple((rel, size) for rel, size in self.files if rel not in ignored)


def student_id_problem(student: str) -> str:
    """Why ``student`` cannot be used as an nbgrader student id, or "".

    nbgrader puts the id into a glob pattern (``submitted/{student}/{assignment}``) and into
    paths and command lines: ``[g]01`` matches ``g01``'s folder, so ``g01``'s notebook would be
    graded in its place; ``*`` matches everyone; a leading ``-`` reads as an option; trailing
    spaces are stripped by nbgrader (``"g01 "`` becomes ``g01``); control characters break
    the logs and the CSV exports.
    """
    if not student:
        return "the student id is empty"
    bad = sorted(set(student) & (_GLOB_CHARS | _PATH_CHARS))
    if bad:
        return f"the student id {student!r} contains {' '.join(bad)}, which nbgrader reads as a pattern or a path"
    if student in (".", "..") or ".." in student:
        return f"the student id {student!r} contains '..', which nbgrader reads as a path"
    if student.startswith("-"):
        return f"the student id {student!r} starts with '-', which nbgrader's command line reads as an option"
    if student != student.strip():
        return f"the student id {student!r} starts or ends with white space, which nbgrader strips"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in student):
        return f"the student id {student!r} contains control characters"
    return ""


def inspect_folder(folder: Path, notebooks: Collection[str] | None, *, max_entries: int = MAX_ENTRIES,
                   max_bytes: int = MAX_BYTES) -> Listing:
    """List ``folder`` without following links or opening a file; raise FolderRefused if unsafe.

    ``notebooks`` are the assignment's notebook names (``nn_basics``): a ``.ipynb`` file in the
    folder's top level with any other name is ignored, as nbgrader ignores it, and one of them
    that is not a regular file (a folder named ``nn_basics.ipynb``) is refused. ``None`` keeps
    every notebook (the exchange copies them all). The walk stops at the first problem or
    limit, so a folder of a million files costs at most ``max_entries`` directory entries.
    """
    expected = {f"{name}.ipynb" for name in notebooks} if notebooks is not None else None
    files: list[tuple[str, int]] = []
    total = entries = 0
    with _opened_root(folder) as root_fd, _unreadable_as_refusal():
        for rel, st in _walk(root_fd, PurePosixPath()):
            entries += 1
            if entries > max_entries:
                raise FolderRefused(f"the folder holds more than {max_entries} files and folders")
            kind = _kind(st.st_mode)
            if kind == "link":
                raise FolderRefused(f"{rel} is a symbolic link (links are not graded)")
            if kind not in ("file", "folder"):
                raise FolderRefused(f"{rel} is a {kind}, not a file")
            top_level_notebook = len(rel.parts) == 1 and rel.name.endswith(".ipynb") and (
                expected is None or rel.name in expected)
            if kind == "folder":
                if top_level_notebook:
                    raise FolderRefused(f"{rel} is a folder, not a notebook file")
                if len(rel.parts) > MAX_DEPTH:
                    raise FolderRefused(f"the folder is nested more than {MAX_DEPTH} levels deep")
                continue
            if rel.as_posix() == TIMESTAMP and st.st_size > TIMESTAMP_MAX_BYTES:
                raise FolderRefused(f"{TIMESTAMP} is larger than {TIMESTAMP_MAX_BYTES} bytes")
            total += st.st_size
            if total > max_bytes:
                raise FolderRefused(f"the files are larger than {_size(max_bytes)} in total")
            files.append((rel.as_posix(), st.st_size))
    files.sort()
    top_notebooks = [rel for rel, _ in files if "/" not in rel and rel.endswith(".ipynb")]
    ignored = tuple(rel for rel in top_notebooks if expected is not None and rel not in expected)
    present = tuple(rel for rel in top_notebooks if rel not in ignored)
    return Listing(tuple(files), ignored, present)


def digest(folder: Path, listing: Listing) -> str:
    """SHA-256 over the accepted files' relative names and contents, read in bounded chunks."""
    h = hashlib.sha256()
    with _opened_root(folder) as root_fd:
        for rel, size in listing.accepted:
            h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            for chunk in _read_listed(root_fd, rel, size):
                h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()


def copy_accepted(folder: Path, listing: Listing, dest: Path) -> None:
    """Copy the accepted files into ``dest`` (created), each checked again as it is opened."""
    dest.mkdir(parents=True, exist_ok=True)
    with _opened_root(folder) as root_fd:
        for rel, size in listing.accepted:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as out:
                for chunk in _read_listed(root_fd, rel, size):
                    out.write(chunk)


def listing_digest(folder: Path) -> str:
    """A fingerprint of a refused folder from its entries' metadata alone (nothing is read).

    A refused folder is recorded as a zero; this tells the next batch whether it changed
    (an entry added, removed, resized or touched) without reading the files that made it unsafe.
    """
    h = hashlib.sha256()
    try:
        with _opened_root(folder) as root_fd:
            for n, (rel, st) in enumerate(_walk(root_fd, PurePosixPath())):
                if n > MAX_ENTRIES:
                    break
                h.update(f"{rel}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
    except (FolderRefused, OSError) as exc:
        h.update(str(exc).encode())
    return h.hexdigest()


def read_timestamp(folder: Path) -> str | None:
    """The text of ``folder/timestamp.txt`` (None when absent), read without blocking or following links.

    Raises FolderRefused when it is not a small regular file: a FIFO of that name would block
    nbgrader's plain ``open`` forever.
    """
    with _opened_root(folder) as root_fd:
        try:
            st = os.stat(TIMESTAMP, dir_fd=root_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(st.st_mode):
            raise FolderRefused(f"{TIMESTAMP} is a {_kind(st.st_mode)}, not a file")
        if st.st_size > TIMESTAMP_MAX_BYTES:
            raise FolderRefused(f"{TIMESTAMP} is larger than {TIMESTAMP_MAX_BYTES} bytes")
        data = b"".join(_read_listed(root_fd, TIMESTAMP, st.st_size))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FolderRefused(f"{TIMESTAMP} is not UTF-8 text") from None


# --- walking and reading beneath a directory descriptor ------------------------------------


@contextmanager
def _unreadable_as_refusal() -> Iterator[None]:
    """A folder the grader cannot list (permissions, a folder swapped for a file) is refused."""
    try:
        yield
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        raise FolderRefused(f"the folder cannot be listed{name} ({exc.strerror or exc})") from None


@contextmanager
def _opened_root(folder: Path) -> Iterator[int]:
    """The submission folder as a descriptor; the folder itself must not be a link either."""
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        raise FolderRefused(f"the submission folder cannot be opened as a folder ({exc.strerror})") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _walk(dir_fd: int, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, os.stat_result]]:
    """Every entry below ``dir_fd``, depth first, sorted; links and special files are not entered."""
    with os.scandir(dir_fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        rel = prefix / entry.name
        st = entry.stat(follow_symlinks=False)
        yield rel, st
        if stat.S_ISDIR(st.st_mode) and len(rel.parts) <= MAX_DEPTH:
            sub = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
            try:
                yield from _walk(sub, rel)
            finally:
                os.close(sub)


def _read_listed(root_fd: int, rel: str, size: int) -> Iterator[bytes]:
    """The content of listed regular file ``rel``: refused if it became a link, a FIFO or larger."""
    *parents, name = rel.split("/")
    opened: list[int] = []
    try:
        fd = root_fd
        for part in parents:
            fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            opened.append(fd)
        try:
            file_fd = os.open(name, _READ_FLAGS, dir_fd=fd)
        except OSError as exc:
            raise FolderRefused(f"{rel} cannot be read ({exc.strerror})") from None
        with os.fdopen(file_fd, "rb", buffering=0) as stream:
            st = os.fstat(file_fd)
            if not stat.S_ISREG(st.st_mode):
                raise FolderRefused(f"{rel} is a {_kind(st.st_mode)}, not a file")
            left = size
            while True:
                chunk = stream.read(min(_CHUNK, left + 1))
                if not chunk:
                    break
                left -= len(chunk)
                if left < 0:
                    raise FolderRefused(f"{rel} grew while it was being read")
                yield chunk
    except FileNotFoundError:
        raise FolderRefused(f"{rel} disappeared while it was being read") from None
    except NotADirectoryError:
        raise FolderRefused(f"a folder above {rel} was replaced while it was being read") from None
    except OSError as exc:
        if exc.errno == getattr(os, "ELOOP", 40):
            raise FolderRefused(f"a folder above {rel} became a symbolic link") from None
        raise
    finally:
        for fd in reversed(opened):
            os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file"
    return "special file"


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB"
