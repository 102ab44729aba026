"""The document store against a real S3 server (S3Proxy) and against the folder store: the same tests, both."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from libs.storage import (
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    SniffedStream,
    TooLarge,
    UnsupportedMediaType,
    content_key,
    sweep_orphans,
)
from tests.integration.storage.conftest import temp_leftovers
from tests.integration.storage.helpers import ELF, JPEG, MB, MZ, Counted, pdf, png, stream

pytestmark = pytest.mark.infra


async def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.get(key)])


async def keys(store: ObjectStore) -> list[str]:
    return sorted([info.key async for info in store.list()])


async def test_round_trip_is_byte_identical(store: ObjectStore) -> None:
    data = os.urandom(12 * MB + 12345)  # past two 5 MB parts on S3: the multipart path, an odd tail
    stored = await store.put(stream(data, chunk=256 * 1024 + 7), max_bytes=20 * MB)
    digest = hashlib.sha256(data).hexdigest()
    assert (stored.key, stored.sha256, stored.size, stored.created) == (content_key(digest), digest, len(data), True)
    assert await read_all(store, stored.key) == data
    head = await store.head(stored.key)
    assert head is not None and head.size == len(data)
    assert temp_leftovers(store) == []


async def test_the_same_bytes_are_stored_once(store: ObjectStore) -> None:
    data = os.urandom(3 * MB)
    first = await store.put(stream(data, chunk=MB), max_bytes=20 * MB)
    second = await store.put(stream(data, chunk=4096), max_bytes=20 * MB)  # other chunking, same bytes
    assert second.key == first.key
    assert (first.created, second.created) == (True, False)
    assert await keys(store) == [first.key]
    assert temp_leftovers(store) == []


async def test_a_25_mb_stream_is_refused_at_20_mb_before_anything_is_stored(store: ObjectStore) -> None:
    upload = Counted(25 * MB)
    with pytest.raises(TooLarge) as refused:
        await store.put(upload, max_bytes=20 * MB)
    assert refused.value.limit == 20 * MB
    assert upload.pulled <= 21 * MB  # stopped while streaming, not after reading it all
    assert not await store.exists(content_key(upload.digest()))
    assert await keys(store) == []
    assert temp_leftovers(store) == []


async def test_an_upload_of_exactly_the_limit_is_accepted(store: ObjectStore) -> None:
    data = os.urandom(MB)
    stored = await store.put(stream(data, chunk=100_000), max_bytes=MB)
    assert stored.size == MB and await store.exists(stored.key)


@pytest.mark.parametrize("header", [ELF, MZ], ids=["elf", "mz"])
async def test_an_executable_named_pdf_is_refused_and_not_stored(store: ObjectStore, header: bytes) -> None:
    # The name and declared type a browser would send ("scan.pdf", application/pdf) reach the store nowhere.
    body = SniffedStream(stream(header + os.urandom(MB)))
    with pytest.raises(UnsupportedMediaType):
        await store.put(body, max_bytes=20 * MB)
    assert body.media_type is None
    assert await keys(store) == []
    assert temp_leftovers(store) == []


def jpeg() -> bytes:
    return JPEG


@pytest.mark.parametrize(("sample", "kind"), [(pdf, "application/pdf"), (png, "image/png"), (jpeg, "image/jpeg")],
                         ids=["pdf", "png", "jpeg"])
async def test_scans_are_sniffed_from_their_bytes(store: ObjectStore, sample: Callable[[], bytes], kind: str) -> None:
    data = sample()
    body = SniffedStream(stream(data, chunk=3))  # tiny chunks: the sniffer gathers its 16 bytes first
    stored = await store.put(body, max_bytes=MB)
    assert body.media_type == kind
    assert await read_all(store, stored.key) == data


async def test_keys_never_hold_the_callers_file_name(store: ObjectStore) -> None:
    # What a hostile or careless client might send as a name: the store takes no name, only bytes.
    name = "../../etc/Nguyễn Văn An\x00\x1b[31m.pdf"
    stored = await store.put(stream(b"%PDF-1.7 " + name.encode()), max_bytes=MB)
    assert re.fullmatch(r"sha256/[0-9a-f]{2}/[0-9a-f]{64}", stored.key)
    for key in await keys(store):
        assert "Nguy" not in key and ".." not in key and ".pdf" not in key
    for hostile in ["../../etc/passwd", "sha256/../../x", name, f"sha256/ab/{'a' * 64}", "/etc/passwd", ""]:
        with pytest.raises(InvalidKey):
            await store.get(hostile)
        with pytest.raises(InvalidKey):
            await store.delete(hostile)


async def test_a_missing_object_is_not_found_and_deleting_it_twice_is_fine(store: ObjectStore) -> None:
    stored = await store.put(stream(b"a scan"), max_bytes=MB)
    await store.delete(stored.key)
    await store.delete(stored.key)
    assert await store.head(stored.key) is None
    with pytest.raises(ObjectNotFound):
        await store.get(stored.key)


async def test_listing_gives_every_key_with_its_last_modified_time(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)  # S3 keeps whole seconds
    stored = [await store.put(stream(os.urandom(1000)), max_bytes=MB) for _ in range(3)]
    listed = {info.key: info async for info in store.list()}
    assert set(listed) == {s.key for s in stored}
    for s in stored:
        info = listed[s.key]
        assert info.size == 1000
        assert before <= info.last_modified <= datetime.now(UTC) + timedelta(seconds=2)


async def test_no_content_reaches_logs_or_error_messages(store: ObjectStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    personal = "Nguyễn Văn An, sinh ngày 01/02/1990".encode()
    stored = await store.put(stream(b"%PDF-1.7 " + personal), max_bytes=MB)
    errors = []
    for attempt in (store.put(stream(personal * 100), max_bytes=50),
                    store.put(SniffedStream(stream(b"MZ" + personal)), max_bytes=MB)):
        with pytest.raises((TooLarge, UnsupportedMediaType)) as refused:
            await attempt
        errors.append(str(refused.value))
    later = datetime.now(UTC) + timedelta(days=2)
    await sweep_orphans(store, lambda keys: _none(), grace=timedelta(hours=24), now=later)
    text = caplog.text + " ".join(errors)
    assert "sweep" in caplog.text  # something was logged, and it held nothing of the scan
    assert "Nguy" not in text and "1990" not in text
    assert not await store.exists(stored.key)


async def _none() -> list[str]:
    return []
