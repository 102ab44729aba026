"""Officer tokens: checked for algorithm, signature, expiry, issuer and audience; remembered only while valid."""

import time

import jwt
import pytest

from libs.auth import AuthError, Officer, TokenRules, TokenVerifier, issue_token, verify_token
from libs.settings import CommonSettings

SECRET = "test-secret-of-at-least-32-bytes-long"
WARD = "000.00.12.H55"


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {"sub": "u9", "roles": ["desk_officer"], "agency": WARD, "iss": "onestop",
                               "aud": "onestop", "iat": now, "exp": now + 60}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def test_a_valid_token_names_the_officer_every_time() -> None:
    token = issue_token("u1", ["desk_officer"], WARD, SECRET)
    first, again = verify_token(token, SECRET), verify_token(token, SECRET)
    assert first == again
    assert first.agency == WARD and first.has("desk_officer")


def test_issued_tokens_carry_this_environments_issuer_and_audience() -> None:
    token = issue_token("u1", ["desk_officer"], WARD, SECRET)
    common = CommonSettings()
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience=common.jwt_audience)
    assert (decoded["iss"], decoded["aud"]) == (common.jwt_issuer, common.jwt_audience) == ("onestop", "onestop")
    other = issue_token("u1", ["desk_officer"], WARD, SECRET, issuer="idp", audience="console")
    assert verify_token(other, SECRET, issuer="idp", audience="console").sub == "u1"


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token("u2", ["desk_officer"], WARD, SECRET, ttl_seconds=60)
    verify_token(token, SECRET)  # now remembered
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(AuthError, match="expired"):
        verify_token(token, SECRET)


def test_a_token_signed_with_another_secret_is_refused_even_after_a_good_one() -> None:
    token = issue_token("u3", ["desk_officer"], WARD, SECRET)
    verify_token(token, SECRET)
    with pytest.raises(AuthError):
        verify_token(token, "another-secret-of-at-least-32-bytes")


def test_a_token_without_agency_is_refused() -> None:
    token = jwt.encode(claims(agency=None), SECRET, algorithm="HS256")
    with pytest.raises(AuthError, match="agency"):
        verify_token(token, SECRET)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"aud": "another-service"}, "Audience doesn't match"),
    ({"aud": None}, 'missing the "aud" claim'),
    ({"iss": "someone-else"}, "Invalid issuer"),
    ({"iss": None}, 'missing the "iss" claim'),
    ({"exp": int(time.time()) - 1}, "expired"),
    ({"exp": None}, 'missing the "exp" claim'),
])
def test_a_token_for_someone_else_or_out_of_date_is_refused(changes: dict[str, object], reason: str) -> None:
    token = jwt.encode(claims(**changes), SECRET, algorithm="HS256")
    with pytest.raises(AuthError, match=reason):
        verify_token(token, SECRET)


def test_an_unsigned_token_or_another_algorithm_is_refused() -> None:
    unsigned = jwt.encode(claims(), "", algorithm="none")
    with pytest.raises(AuthError, match="algorithm 'none' is not accepted"):
        verify_token(unsigned, SECRET)
    hs512 = jwt.encode(claims(), SECRET * 2, algorithm="HS512")
    with pytest.raises(AuthError, match="algorithm 'HS512' is not accepted"):
        verify_token(hs512, SECRET)
    with pytest.raises(AuthError, match="Not enough segments"):
        verify_token("not-a-token", SECRET)


def test_the_cache_is_bounded_and_a_forgotten_token_is_checked_again() -> None:
    checker = TokenVerifier(TokenRules(SECRET), cache_size=2)
    tokens = [issue_token(f"u{i}", ["desk_officer"], WARD, SECRET) for i in range(3)]
    for token in tokens:
        checker.verify_blocking(token)
    assert len(checker._cache) == 2 and tokens[0] not in checker._cache  # the least recent went first
    assert checker.verify_blocking(tokens[0]) == Officer("u0", "u0", frozenset({"desk_officer"}), WARD)


def test_a_remembered_token_leaves_the_cache_at_its_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    checker = TokenVerifier(TokenRules(SECRET))
    short = issue_token("u5", ["desk_officer"], WARD, SECRET, ttl_seconds=30)
    long = issue_token("u6", ["desk_officer"], WARD, SECRET, ttl_seconds=8 * 3600)
    checker.verify_blocking(short)
    checker.verify_blocking(long)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 31)
    assert short not in checker._cache, "kept past its own exp"
    assert long in checker._cache
    monkeypatch.setattr(time, "time", lambda: now + 301)
    assert long not in checker._cache, "kept longer than CACHE_SECONDS: a withdrawn key would go on working"


def test_province_admin_is_a_known_role_and_a_scope_not_a_power() -> None:
    token = issue_token("tinh-1", ["province_admin"], WARD, SECRET)
    officer = verify_token(token, SECRET)
    assert officer.province_wide and not officer.has("desk_officer")
    with pytest.raises(ValueError, match="unknown roles: superuser"):
        issue_token("x", ["superuser"], WARD, SECRET)
