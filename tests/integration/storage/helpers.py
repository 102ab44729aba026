"""Byte streams and sample files for the document store's tests."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import AsyncIterator

MB = 1024 * 1024
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00"  # a Linux x86-64 executable's first bytes
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"  # a Windows .exe's first bytes


async def stream(data: bytes, chunk: int = MB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start:start + chunk]


class Counted:
    """An endless-looking upload of `total` bytes that records how much of it the store pulled."""

    def __init__(self, total: int, chunk: int = MB) -> None:
        self.total, self.chunk, self.pulled = total, chunk, 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        block = bytes(range(256)) * (self.chunk // 256)
        while self.pulled < self.total:
            self.pulled += len(block)
            yield block

    def digest(self) -> str:
        """The SHA-256 the whole upload would have had (to name its would-be key)."""
        block = bytes(range(256)) * (self.chunk // 256)
        h = hashlib.sha256()
        for _ in range(self.total // self.chunk):
            h.update(block)
        return h.hexdigest()


def png(size: int = 1) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * size for _ in range(size)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def pdf() -> bytes:
    from pypdf import PdfWriter  # a dev dependency: real PDF bytes, not a hand-faked header

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64) + b"\xff\xd9"
