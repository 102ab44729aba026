"""The document store's tests run against a real S3 server: S3Proxy on the test port (19000, state in .run/test/,
like the test Kafka broker), started here through deploy/local/s3proxy/s3proxy.sh when `make test-infra` has not
started it already. Every test gets a fresh bucket (S3) or folder, so listings hold only what it stored."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from libs.storage import FolderObjectStore, ObjectStore, S3ObjectStore
from tests.conftest import S3_ENDPOINT as ENDPOINT
from tests.conftest import S3PROXY_DATA

# s3_endpoint (the session fixture that starts S3Proxy when it is not running) is in tests/conftest.py.
IDENTITY, CREDENTIAL = "onestop-dev", "onestop-dev-secret"  # s3proxy.sh's fixed development identity
PART_BYTES = 5 * 1024 * 1024  # the smallest S3 allows, so a few MB already take the multipart path


def connect(bucket: str, spool_dir: Path, secret: str = CREDENTIAL) -> S3ObjectStore:
    return S3ObjectStore.connect(bucket=bucket, endpoint=ENDPOINT, region="us-east-1", access_key_id=IDENTITY,
                                 secret_access_key=secret, spool_dir=spool_dir, part_bytes=PART_BYTES)


@pytest.fixture
async def s3_store(s3_endpoint: str, tmp_path: Path) -> AsyncIterator[S3ObjectStore]:
    bucket = f"onestop-test-{uuid.uuid4().hex[:12]}"
    store = connect(bucket, tmp_path / "spool")
    await store.create_bucket()
    yield store
    async for info in store.list():  # leave the test server's disk as we found it
        await store.delete(info.key)
    try:
        await store.delete_bucket()
    except RuntimeError as exc:
        # A multipart upload killed on purpose stays in the bucket (hidden, S3 has only a lifecycle rule for it
        # and S3Proxy none): remove the bucket's directory from the filesystem blob store instead.
        if "BucketNotEmpty" not in str(exc):
            raise
        shutil.rmtree(S3PROXY_DATA / bucket, ignore_errors=True)


@pytest.fixture
def folder_store(tmp_path: Path) -> FolderObjectStore:
    return FolderObjectStore(tmp_path / "documents")


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest) -> Iterator[ObjectStore]:
    yield request.getfixturevalue(f"{request.param}_store")


def temp_leftovers(store: ObjectStore) -> list[Path]:
    """Files a put may leave on local disk: the folder store's tmp/, the S3 store's spool dir."""
    folder: Path = store.temp_dir  # type: ignore[attr-defined]
    return sorted(folder.iterdir()) if folder.exists() else []
