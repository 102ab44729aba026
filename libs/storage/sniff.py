"""The type of an upload, decided from its first bytes (magic numbers), never from its name or declared type.

Three hand-written signatures rather than a library: `filetype` (1.2.0, last released 2022) checks only 4 of
PNG's 8 signature bytes, `puremagic` 2.x needs Python 3.12 and 1.x answers with ranked guesses from hundreds
of signatures. The question here has three answers, each a fixed prefix from its format's specification.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Collection
from typing import Literal

from libs.storage.store import UnsupportedMediaType

MediaType = Literal["application/pdf", "image/jpeg", "image/png"]
ACCEPTED: frozenset[MediaType] = frozenset({"application/pdf", "image/jpeg", "image/png"})
SNIFF_BYTES = 16  # the longest signature below is PNG's 8 bytes + the IHDR chunk header (16)

_PNG = b"\x89PNG\r\n\x1a\n"  # PNG spec §5.2; then the first chunk must be IHDR (length 13)
_PNG_IHDR = b"\x00\x00\x00\x0dIHDR"
_JPEG = b"\xff\xd8\xff"  # SOI marker, then the first segment's marker prefix
_PDF_DIGITS = b"0123456789"


def sniff_media_type(first_bytes: bytes) -> MediaType | None:
    """The media type of a stream starting with `first_bytes` (give at least SNIFF_BYTES), or None.

    Strict on purpose: a PDF must start with `%PDF-<digit>` at offset 0. Readers tolerate up to 1 KiB of junk
    before it, which is how polyglot files (an executable that is also a "PDF") are made; we refuse those.
    """
    head = bytes(first_bytes[:SNIFF_BYTES])
    if head.startswith(b"%PDF-") and len(head) > 5 and head[5] in _PDF_DIGITS:
        return "application/pdf"
    if head.startswith(_JPEG):
        return "image/jpeg"
    if head.startswith(_PNG) and head[8:16] == _PNG_IHDR:
        return "image/png"
    return None


class SniffedStream:
    """Wraps an upload's chunks: sniffs the first bytes before passing any on, refuses other types.

    Hand it to `ObjectStore.put`: a refusal is raised before the first chunk reaches the store, so nothing is
    written. After the first chunk, `media_type` holds the sniffed type."""

    def __init__(self, chunks: AsyncIterable[bytes], accept: Collection[MediaType] = ACCEPTED) -> None:
        self._chunks = chunks
        self._accept = frozenset(accept)
        self.media_type: MediaType | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        source = aiter(self._chunks)
        head = b""
        async for chunk in source:
            head += chunk
            if len(head) >= SNIFF_BYTES:
                break
        self.media_type = self._decide(head)
        yield head
        async for chunk in source:
            yield chunk

    def _decide(self, head: bytes) -> MediaType:
        kind = sniff_media_type(head)
        if kind is None or kind not in self._accept:
            raise UnsupportedMediaType("the file is not a PDF, JPEG or PNG scan (decided from its first bytes)")
        return kind
