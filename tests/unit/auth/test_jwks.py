"""Tokens signed by the identity provider: its keys come from a JWKS URL (here a tiny local HTTP server), are
fetched off the event loop and kept; a slow provider stalls nobody; a bad token is a 401."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, FastAPI

from libs.auth import AuthError, KeysUnavailable, Officer, TokenRules, TokenVerifier, verifier
from libs.auth.fastapi import current_officer, rules_of
from libs.auth.jwks import JwksKeys
from libs.settings import CommonSettings

WARD = "000.00.12.H55"


_RSA: list[rsa.RSAPrivateKey] = []


def rsa_key() -> rsa.RSAPrivateKey:
    """A different key at each call (a handful of 2048-bit keys made once: making one takes a while)."""
    if not _RSA:
        _RSA.extend(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4))
    _RSA.append(_RSA.pop(0))
    return _RSA[-1]


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    algorithm = jwt.get_algorithm_by_name(alg)
    data: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": alg}


def sign(key: Any, kid: str, alg: str = "RS256", **changes: Any) -> str:
    now = int(time.time())
    claims = {"sub": "cb-1", "name": "Cán bộ", "roles": ["desk_officer"], "agency": WARD, "iss": "onestop",
              "aud": "onestop", "iat": now, "exp": now + 600, **changes}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@dataclass
class Provider:
    """The identity provider's JWKS endpoint; `hold()` makes the next fetch wait until `release()`."""

    url: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    status: int = 200
    holding: bool = False
    entered: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def hold(self) -> None:
        self.holding, self.entered, self.released = True, threading.Event(), threading.Event()

    def release(self) -> None:
        self.holding = False
        self.released.set()


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            if state.holding:
                state.entered.set()
                state.released.wait(10)  # bounded: a regression fails the test instead of hanging it
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/jwks.json"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    state.release()
    server.shutdown()
    server.server_close()


def verifier_of(provider: Provider) -> TokenVerifier:
    rules = TokenRules("unused-secret", provider.url)
    return TokenVerifier(rules, JwksKeys(provider.url, min_interval=0))


async def test_tokens_signed_by_the_provider_are_accepted_and_the_keys_fetched_once(provider: Provider) -> None:
    rsa1, ec1 = rsa_key(), ec.generate_private_key(ec.SECP256R1())
    provider.keys = [public_jwk(rsa1, "k1"), public_jwk(ec1, "k2")]
    check = verifier_of(provider)
    a = await check.verify(sign(rsa1, "k1"))
    b = await check.verify(sign(ec1, "k2", alg="ES256", sub="cb-2"))
    assert (a.sub, b.sub, a.agency) == ("cb-1", "cb-2", WARD)
    assert provider.hits == 1


@pytest.mark.parametrize(("changes", "reason"), [
    ({"aud": "reporting-ui"}, "Audience doesn't match"),
    ({"iss": "https://evil.example"}, "Invalid issuer"),
    ({"exp": int(time.time()) - 5}, "expired"),
])
async def test_a_token_for_someone_else_or_expired_is_refused(
    provider: Provider, changes: dict[str, Any], reason: str
) -> None:
    key = rsa_key()
    provider.keys = [public_jwk(key, "k1")]
    with pytest.raises(AuthError, match=reason):
        await verifier_of(provider).verify(sign(key, "k1", **changes))


async def test_algorithm_tricks_are_refused(provider: Provider) -> None:
    key = rsa_key()
    provider.keys = [public_jwk(key, "k1")]
    check = verifier_of(provider)
    now = int(time.time())
    base = {"sub": "x", "roles": [], "agency": WARD, "iss": "onestop", "aud": "onestop", "exp": now + 60}
    unsigned = jwt.encode(base, "", algorithm="none", headers={"kid": "k1"})
    with pytest.raises(AuthError, match="algorithm 'none' is not accepted"):
        await check.verify(unsigned)
    # HS256 "signed" with the public key, which anyone can read: the classic confusion
    public = provider.keys[0]["n"]  # the RSA modulus, published in the key set
    confused = jwt.encode(base, public, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(AuthError, match="algorithm 'HS256' is not accepted"):
        await check.verify(confused)
    es = sign(ec.generate_private_key(ec.SECP256R1()), "k1", alg="ES256")  # ES256 against an RSA key
    with pytest.raises(AuthError, match="algorithm 'ES256' is not accepted"):
        await check.verify(es)
    stranger = sign(rsa_key(), "k1")  # right key id, someone else's key
    with pytest.raises(AuthError, match="Signature verification failed"):
        await check.verify(stranger)


async def test_a_rotated_key_is_fetched_once_for_concurrent_callers(provider: Provider) -> None:
    old, new = rsa_key(), rsa_key()
    provider.keys = [public_jwk(old, "2026-01")]
    check = verifier_of(provider)
    await check.verify(sign(old, "2026-01"))
    provider.keys = [public_jwk(old, "2026-01"), public_jwk(new, "2026-02")]
    provider.hold()
    waiting = [asyncio.create_task(check.verify(sign(new, "2026-02", sub=f"cb-{i}"))) for i in range(5)]
    assert await asyncio.to_thread(provider.entered.wait, 10)
    provider.release()
    officers = await asyncio.gather(*waiting)
    assert [o.sub for o in officers] == [f"cb-{i}" for i in range(5)]
    assert provider.hits == 2, "one fetch at start, one for the new key: the five callers shared it"


async def test_an_unknown_key_id_is_refused_and_fetched_for_at_most_once_per_interval(provider: Provider) -> None:
    key = rsa_key()
    provider.keys = [public_jwk(key, "k1")]
    check = TokenVerifier(TokenRules("unused", provider.url), JwksKeys(provider.url, min_interval=3600))
    await check.verify(sign(key, "k1"))
    for n in range(3):  # made-up key ids cannot make us hammer the provider
        with pytest.raises(AuthError, match=f"no signing key with id 'made-up-{n}'"):
            await check.verify(sign(key, f"made-up-{n}"))
    assert provider.hits == 1


async def test_no_keys_at_all_is_a_503_not_a_401(provider: Provider) -> None:
    provider.status = 500
    check = verifier_of(provider)
    with pytest.raises(KeysUnavailable):
        await check.verify(sign(rsa_key(), "k1"))


@pytest.fixture
async def app_client(provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    common = CommonSettings(jwks_url=provider.url)
    app.state.runtime = SimpleNamespace(common=common)
    keys = verifier(rules_of(common)).keys
    assert keys is not None
    keys.min_interval = 0  # each test's provider has new keys: let the first unknown key id fetch them

    @app.get("/me")
    async def me(officer: Annotated[Officer, Depends(current_officer)]) -> dict[str, str]:
        return {"sub": officer.sub}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield client


async def test_a_slow_provider_does_not_stall_other_requests(
    provider: Provider, app_client: httpx.AsyncClient
) -> None:
    known, rotated = rsa_key(), rsa_key()
    provider.keys = [public_jwk(known, "k1")]
    token = sign(known, "k1")
    assert (await app_client.get("/me", headers={"Authorization": f"Bearer {token}"})).json() == {"sub": "cb-1"}

    provider.keys = [public_jwk(known, "k1"), public_jwk(rotated, "k2")]
    provider.hold()  # the provider now answers only when released
    slow = asyncio.create_task(
        app_client.get("/me", headers={"Authorization": f"Bearer {sign(rotated, 'k2', sub='cb-2')}"}))
    assert await asyncio.to_thread(provider.entered.wait, 10), "the new key id was not fetched"
    # While that fetch hangs, the event loop still serves everyone else.
    assert (await app_client.get("/ping")).json() == {"ok": True}
    assert (await app_client.get("/me", headers={"Authorization": f"Bearer {token}"})).json() == {"sub": "cb-1"}
    assert not slow.done(), "the slow fetch finished first: it held the event loop"
    provider.release()
    assert (await slow).json() == {"sub": "cb-2"}


@pytest.mark.parametrize(("changes", "alg"), [
    ({"aud": "reporting-ui"}, "RS256"), ({"iss": "x"}, "RS256"), ({"exp": int(time.time()) - 5}, "RS256"),
    ({}, "none"),
])
async def test_bad_tokens_are_401(
    provider: Provider, app_client: httpx.AsyncClient, changes: dict[str, Any], alg: str
) -> None:
    key = rsa_key()
    provider.keys = [public_jwk(key, "k1")]
    token = sign(key if alg != "none" else None, "k1", alg=alg, **changes)
    r = await app_client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["detail"].startswith("invalid token:"), r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_an_unreachable_provider_is_503_with_retry_after(
    provider: Provider, app_client: httpx.AsyncClient
) -> None:
    provider.status = 503
    r = await app_client.get("/me", headers={"Authorization": f"Bearer {sign(rsa_key(), 'k1')}"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "30", r.text
