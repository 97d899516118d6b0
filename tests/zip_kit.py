"""Zip archives written byte by byte, for intake's attack tests.

``zipfile`` refuses to write what an attacker (or an old Windows tool) writes: a name in cp932
without the UTF-8 flag, a symbolic link, a member whose header lies about its size. Each member
here is given as its raw name bytes, flags, unix mode and (possibly lying) declared size, and
:func:`write` lays out local headers, data and the central directory as the zip format says.
"""

from __future__ import annotations

import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

_UTF8_FLAG = 0x800
_DEFLATED, _STORED = 8, 0
_MADE_BY_UNIX = (3 << 8) | 20  # so that readers take the high half of external_attr as a unix mode


@dataclass(frozen=True)
class Deflated:
    """A raw deflate stream, with the size and CRC the headers will declare."""

    data: bytes
    size: int
    crc: int


@dataclass(frozen=True)
class Entry:
    name: bytes
    flags: int
    mode: int
    method: int
    body: Deflated


def deflate(content: bytes) -> Deflated:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Deflated(packer.compress(content) + packer.flush(), len(content), zlib.crc32(content))


def deflate_zeros(size: int, chunk: int = 1 << 20) -> Deflated:
    """``size`` zero bytes deflated, streamed so that the zeros never sit in memory at once."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros, parts, crc = bytes(chunk), [], 0
    for _ in range(size // chunk):
        parts.append(packer.compress(zeros))
        crc = zlib.crc32(zeros, crc)
    parts.append(packer.flush())
    return Deflated(b"".join(parts), size, crc)


def entry(name: str | bytes, content: str | bytes | Deflated, *, mode: int | None = None, flags: int = 0) -> Entry:
    """A member. A ``str`` name is written as zipfile would (ASCII, or UTF-8 with the flag); ``bytes``
    are written as given, without the flag. ``mode`` defaults to a regular file (a folder for a
    name ending in ``/``)."""
    if isinstance(name, str):
        try:
            raw = name.encode("ascii")
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-8"), flags | _UTF8_FLAG
    else:
        raw = name
    if mode is None:
        mode = stat.S_IFDIR | 0o755 if raw.endswith(b"/") else stat.S_IFREG | 0o644
    if isinstance(content, Deflated):
        return Entry(raw, flags, mode, _DEFLATED, content)
    data = content.encode("utf-8") if isinstance(content, str) else content
    if stat.S_ISDIR(mode):
        return Entry(raw, flags, mode, _STORED, Deflated(data, len(data), zlib.crc32(data)))
    return Entry(raw, flags, mode, _DEFLATED, deflate(data))


def bytes_of(entries: list[Entry]) -> bytes:
    """The zip file holding ``entries``, in order."""
    out, central = bytearray(), bytearray()
    for e in entries:
        offset, body = len(out), e.body
        out += struct.pack("<4sHHHHHLLLHH", b"PK\x03\x04", 20, e.flags, e.method, 0, 0x21,
                           body.crc, len(body.data), body.size, len(e.name), 0) + e.name + body.data
        central += struct.pack("<4sHHHHHHLLLHHHHHLL", b"PK\x01\x02", _MADE_BY_UNIX, 20, e.flags, e.method, 0, 0x21,
                               body.crc, len(body.data), body.size, len(e.name), 0, 0, 0, 0,
                               e.mode << 16, offset) + e.name
    end = struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def write(path: Path, entries: list[Entry]) -> Path:
    path.write_bytes(bytes_of(entries))
    return path
