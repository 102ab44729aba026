"""Officer tokens: checked once, remembered only while valid."""

import time

import jwt
import pytest

from libs.auth import AuthError, issue_token, verify_token

SECRET = "test-secret-of-at-least-32-bytes-long"


def test_a_valid_token_names_the_officer_every_time() -> None:
    token = issue_token("u1", ["desk_officer"], "000.00.12.H55", SECRET)
    first, again = verify_token(token, SECRET), verify_token(token, SECRET)
    assert first == again
    assert first.agency == "000.00.12.H55" and first.has("desk_officer")


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token("u2", ["desk_officer"], "000.00.12.H55", SECRET, ttl_seconds=60)
    verify_token(token, SECRET)  # now remembered
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(AuthError, match="expired"):
        verify_token(token, SECRET)


def test_a_token_signed_with_another_secret_is_refused_even_after_a_good_one() -> None:
    token = issue_token("u3", ["desk_officer"], "000.00.12.H55", SECRET)
    verify_token(token, SECRET)
    with pytest.raises(AuthError):
        verify_token(token, "another-secret-of-at-least-32-bytes")


def test_a_token_without_agency_is_refused() -> None:
    token = jwt.encode({"sub": "u4", "roles": [], "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(AuthError, match="agency"):
        verify_token(token, SECRET)
