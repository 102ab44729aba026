"""Keys carry a hash and nothing else; the settings carry the limits and refuse the development secret."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from libs.storage import InvalidKey, StorageSettings, content_key, is_content_key
from libs.storage.settings import MB
from libs.storage.store import checked

DIGEST = hashlib.sha256(b"scan").hexdigest()


def test_a_content_key_is_the_hash_split_by_its_first_two_digits() -> None:
    assert content_key(DIGEST) == f"sha256/{DIGEST[:2]}/{DIGEST}"
    assert is_content_key(content_key(DIGEST))


@pytest.mark.parametrize("bad", [
    "../../etc/passwd", f"sha256/../{DIGEST}", f"sha256/zz/{DIGEST}", f"sha256/{DIGEST[:2]}/{DIGEST}\n",
    f"sha256/{DIGEST[:2]}/{DIGEST.upper()}", f"/sha256/{DIGEST[:2]}/{DIGEST}", "Nguyễn Văn An.pdf", "a\x00b", "",
])
def test_anything_else_is_refused_without_being_echoed(bad: str) -> None:
    assert not is_content_key(bad)
    with pytest.raises(InvalidKey) as refused:
        checked(bad)
    assert bad not in str(refused.value) or bad == ""


def test_content_key_wants_a_lowercase_sha256() -> None:
    with pytest.raises(InvalidKey):
        content_key("../" + DIGEST[3:])


def test_defaults_are_20_mb_per_file_and_100_mb_per_dossier(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = StorageSettings()
    assert (settings.backend, settings.max_file_bytes, settings.max_dossier_bytes) == ("folder", 20 * MB, 100 * MB)
    assert settings.folder.name == "documents"


def test_settings_come_from_onestop_storage_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("ONESTOP_STORAGE_MAX_FILE_BYTES", "1000")
    monkeypatch.setenv("ONESTOP_STORAGE_S3_SECRET_ACCESS_KEY", "s3cr3t")
    settings = StorageSettings()
    assert (settings.backend, settings.max_file_bytes) == ("s3", 1000)
    assert "s3cr3t" not in repr(settings)  # a SecretStr: never printed, never logged


def test_the_next_file_gets_what_is_left_of_the_dossier() -> None:
    settings = StorageSettings()
    assert settings.upload_limit(0) == 20 * MB
    assert settings.upload_limit(90 * MB) == 10 * MB
    assert settings.upload_limit(100 * MB) == 0
    assert settings.upload_limit(120 * MB) == 0


def test_a_grace_period_under_two_hours_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_STORAGE_ORPHAN_GRACE_SECONDS", "60")
    with pytest.raises(ValidationError):
        StorageSettings()


def test_the_development_secret_or_plain_http_elsewhere_is_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    assert StorageSettings().unsafe_outside_development() == []  # the folder store
    monkeypatch.setenv("ONESTOP_STORAGE_BACKEND", "s3")
    assert len(StorageSettings().unsafe_outside_development()) == 1  # dev secret on 127.0.0.1
    monkeypatch.setenv("ONESTOP_STORAGE_S3_ENDPOINT", "http://10.0.0.5:9000")
    assert len(StorageSettings().unsafe_outside_development()) == 2
    monkeypatch.setenv("ONESTOP_STORAGE_S3_ENDPOINT", "https://s3.example.vn")
    monkeypatch.setenv("ONESTOP_STORAGE_S3_SECRET_ACCESS_KEY", "a-real-secret")
    assert StorageSettings().unsafe_outside_development() == []
