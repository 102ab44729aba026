"""The type of a scan comes from its first bytes only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from libs.storage import SniffedStream, UnsupportedMediaType, sniff_media_type

PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"


@pytest.mark.parametrize(("head", "kind"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    (b"%PDF-2.0\n", "application/pdf"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00", "image/jpeg"),
    (PNG_HEAD + b"\x00\x00", "image/png"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(8), None),  # a Linux executable named scan.pdf
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", None),  # a Windows executable
    (b"#!/bin/sh\nrm -rf /\n", None),
    (b"<html><script>", None),
    (b"PK\x03\x04\x14\x00", None),  # a zip (or .docx)
    (b"junk\n%PDF-1.7\n", None),  # readers accept junk before %PDF: polyglots are made that way; we do not
    (b"%PDF-", None),  # no version
    (b"%PDF-x.y", None),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dJUNK", None),  # PNG signature without its IHDR chunk
    (b"\x89PNG", None),  # the 4 bytes some libraries stop at
    (b"\xff\xd8", None),
    (b"", None),
])
def test_sniff_media_type(head: bytes, kind: str | None) -> None:
    assert sniff_media_type(head) == kind


async def trickle(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("size", [1, 5, 16, 4096])
async def test_the_sniffed_stream_passes_every_byte_through_in_order(size: int) -> None:
    data = PNG_HEAD + bytes(range(256)) * 40
    body = SniffedStream(trickle(data, size))
    assert b"".join([chunk async for chunk in body]) == data
    assert body.media_type == "image/png"


async def test_a_refused_stream_yields_nothing() -> None:
    got: list[bytes] = []
    with pytest.raises(UnsupportedMediaType):
        async for chunk in SniffedStream(trickle(b"MZ" + bytes(100), 1)):
            got.append(chunk)
    assert got == []


async def test_a_type_outside_the_accepted_set_is_refused() -> None:
    body = SniffedStream(trickle(b"%PDF-1.4\n" + bytes(20), 4), accept={"image/png", "image/jpeg"})
    with pytest.raises(UnsupportedMediaType):
        [chunk async for chunk in body]


async def test_an_empty_upload_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        [chunk async for chunk in SniffedStream(trickle(b"", 1))]
