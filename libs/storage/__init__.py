"""The document store: content-addressed scans (PDF, JPEG, PNG) in S3 or a local folder. See
docs/adr/0013-document-store.md. This package knows no service: the service owns the rows that reference keys."""

from __future__ import annotations

from libs.storage.folder import FolderObjectStore
from libs.storage.s3 import S3ObjectStore
from libs.storage.settings import StorageSettings
from libs.storage.sniff import ACCEPTED, MediaType, SniffedStream, sniff_media_type
from libs.storage.store import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StoredObject,
    TooLarge,
    UnsupportedMediaType,
    content_key,
    is_content_key,
)
from libs.storage.sweep import ReferencedKeys, SweepReport, sweep_orphans


def open_store(settings: StorageSettings) -> ObjectStore:
    if settings.backend == "folder":
        return FolderObjectStore(settings.folder)
    secret = settings.s3_secret_access_key
    return S3ObjectStore.connect(
        bucket=settings.s3_bucket,
        endpoint=settings.s3_endpoint,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        path_style=settings.s3_path_style,
        spool_dir=settings.spool_dir,
        part_bytes=settings.s3_part_bytes,
        max_concurrency=settings.s3_max_concurrency,
    )


__all__ = [
    "ACCEPTED",
    "FolderObjectStore",
    "InvalidKey",
    "MediaType",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ReferencedKeys",
    "S3ObjectStore",
    "SniffedStream",
    "StorageError",
    "StorageSettings",
    "StoredObject",
    "SweepReport",
    "TooLarge",
    "UnsupportedMediaType",
    "content_key",
    "is_content_key",
    "open_store",
    "sniff_media_type",
    "sweep_orphans",
]
