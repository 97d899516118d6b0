"""Reading zip archives that someone else made, without trusting their table of contents.

An LMS download and, worse, an archive a student uploaded into it can hold anything: names
that climb out of the target folder (``../../x``), absolute paths, symbolic links, device
files, names in a legacy encoding, and members whose compressed few bytes expand to gigabytes
while the header declares a few hundred. This module gives intake three things:

* :func:`entry_name` decodes a member name sensibly (the UTF-8 flag, Info-ZIP's Unicode path
  field, then UTF-8 and Shift_JIS/cp932 guesses for the many Japanese Windows zips that set no
  flag), so a Japanese file name is shown and matched as the student wrote it;
* :func:`unsafe` says why a member must not be taken (path escapes, links, special files,
  encryption), so a hostile upload is refused with a reason;
* :func:`copy_member` streams one member to a file while counting the bytes it really
  produces, against a per-file cap, a compression-ratio cap and the declared size, and removes
  the partial file when any of them is crossed.

Nothing here extracts a member to a path taken from the archive: callers choose every target
path themselves.
"""

from __future__ import annotations

import copy
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_UTF8_FLAG = 0x800  # general-purpose bit 11: the name is UTF-8
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH_FIELD = 0x7075  # Info-ZIP Unicode Path Extra Field: version, CRC-32 of the raw name, UTF-8 name
_CHUNK = 1 << 20
_MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How much one intake may write, whatever the archives declare.

    A real submission is about 50 kB and at most a few MB with outputs, and grading refuses a
    notebook over 64 MiB anyway (``triage.MAX_BYTES``); an archive a student zipped it into is no
    bigger. Text compresses at most about 10:1 to 50:1; a ratio of 200 is only reached by
    padding. The ratio cap applies only above ``ratio_floor``, since tiny members (an empty
    file, a short repeated line) legitimately have any ratio.
    """

    file_bytes: int = 64 * _MIB  # one notebook, or one archive inside a student's upload
    total_bytes: int = 2048 * _MIB  # everything one intake writes into the course
    ratio: int = 200
    ratio_floor: int = 1 * _MIB
    archive_entries: int = 10_000  # members of an archive inside a student's upload


class Refused(Exception):
    """A member (and so the upload holding it) cannot be taken; the message says why, in one line."""


def shown(name: str) -> str:
    """``name`` safe to print on one terminal line: control characters become escapes."""
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch).startswith("C") else ch for ch in name)


def quoted(name: str) -> str:
    """``name`` in quotes for a message, printable as :func:`shown` makes it."""
    return f"'{shown(name)}'"


def _unicode_path_field(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The UTF-8 name from Info-ZIP's extra field, if present and written for this very name."""
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body, extra = extra[4:4 + size], extra[4 + size:]
        if kind == _UNICODE_PATH_FIELD and len(body) >= 5 and body[0] == 1:
            (crc,) = struct.unpack("<L", body[1:5])
            if crc == zlib.crc32(raw):  # a stale field (the name was changed later) is ignored
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


def entry_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it, with ``/`` as the only separator.

    Without the UTF-8 flag, Python decodes a name as cp437, the zip format's old default, which
    turns a Japanese name into mojibake. Such zips come from Windows' own "send to compressed
    folder" (cp932) and from tools that write UTF-8 but do not say so, so the raw bytes are
    tried as UTF-8 first (it rarely decodes by accident), then as cp932, and only then left as
    cp437. Backslashes become ``/`` after decoding (a cp932 character may contain the byte
    0x5C), because Windows tools write them as separators and a name must not hide a path in them.
    """
    if info.flag_bits & _UTF8_FLAG:
        name = info.orig_filename
    else:
        raw = info.orig_filename.encode("cp437")
        name = _unicode_path_field(info, raw)
        for encoding in ("utf-8", "cp932"):
            if name is not None:
                break
            try:
                name = raw.decode(encoding)
            except UnicodeDecodeError:
                pass
        if name is None:
            name = info.orig_filename
    return name.replace("\\", "/")


def unsafe(info: zipfile.ZipInfo, name: str) -> str | None:
    """Why member ``info`` (decoded as ``name``) must not be taken, or ``None`` when it may."""
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return f"{quoted(name)} has control characters in its name"
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        return f"{quoted(name)} is an absolute path"
    if ".." in path.parts:
        return f"{quoted(name)} climbs out of its folder (zip slip)"
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return f"{quoted(name)} is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: made on a system without unix modes
        return f"{quoted(name)} is a special file (device, FIFO or socket)"
    if info.flag_bits & _ENCRYPTED_FLAG:
        return f"{quoted(name)} is password-protected"
    return None


def copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, target: Path, limit: int,
                limits: Limits) -> int:
    """Write member ``info`` to ``target`` (a new file) and return its size; raise :class:`Refused`.

    The declared sizes are checked first (cheap, and enough for an honest archive), then the
    bytes are counted as they come out of the decompressor: a member may declare 1 kB and
    expand to 1 GiB. Python's reader stops at the declared size, so the member is opened with
    a declared size of our own (one byte over the cap) to see what the data really holds; the
    CRC still guards the content. ``limit`` is the most this member may write (the per-file cap,
    or less when the intake's total is nearly used up). ``target`` is removed on any refusal.
    """
    def ratio_exceeded(size: int) -> bool:
        return size > limits.ratio_floor and size > limits.ratio * max(info.compress_size, 1)

    if info.file_size > limit:
        raise Refused(f"{quoted(name)} declares {info.file_size:,} bytes (limit {limit:,})")
    if ratio_exceeded(info.file_size):
        raise Refused(f"{quoted(name)} expands {info.file_size // max(info.compress_size, 1):,} times "
                      f"(compression-ratio limit {limits.ratio})")
    probe = copy.copy(info)
    probe.file_size = limit + 1
    written = 0
    try:
        with zf.open(probe) as source, open(target, "xb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise Refused(f"{quoted(name)} expands beyond the {info.file_size:,} bytes it declares")
                if ratio_exceeded(written):
                    raise Refused(f"{quoted(name)} expands more than {limits.ratio} times "
                                  "(compression-ratio limit)")
                out.write(chunk)
        if written != info.file_size:
            raise Refused(f"{quoted(name)} holds {written:,} bytes, not the {info.file_size:,} it declares")
    except Refused:
        target.unlink(missing_ok=True)
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        target.unlink(missing_ok=True)
        raise Refused(f"{quoted(name)} cannot be read ({exc})") from None
    return written
