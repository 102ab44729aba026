"""Production sign-in end to end against a small fake OpenID provider: discovery, authorization code with a PKCE
S256 challenge the token endpoint checks, an RS256 access token the console verifies through the JWKS (as the
services do), then the session and the way back to the page asked for."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException
from fastapi.testclient import TestClient

from services.console.app import create_app
from services.console.settings import ConsoleSettings

NOWHERE = {f"{s}_url": "http://127.0.0.1:9" for s in ("intake", "processing", "notifications", "reporting")}


class FakeIssuer:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.challenges: dict[str, str] = {}  # code → the PKCE challenge it was issued for
        self.app = self._app()

    def approve(self, authorization_url: str, code: str) -> dict[str, str]:
        """What the issuer does when the officer signs in there: remember the challenge, hand back a code."""
        query = {k: v[0] for k, v in parse_qs(urlparse(authorization_url).query).items()}
        assert query["code_challenge_method"] == "S256"
        self.challenges[code] = query["code_challenge"]
        return query

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, str]:
            return {"issuer": self.base, "authorization_endpoint": f"{self.base}/authorize",
                    "token_endpoint": f"{self.base}/token", "jwks_uri": f"{self.base}/jwks"}

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return {"keys": [{**key, "kid": "k1", "use": "sig", "alg": "RS256"}]}

        @app.post("/token")
        def token(code: str = Form(), code_verifier: str = Form(), grant_type: str = Form()) -> dict[str, Any]:
            digest = hashlib.sha256(code_verifier.encode()).digest()
            if self.challenges.pop(code, None) != base64.urlsafe_b64encode(digest).rstrip(b"=").decode():
                raise HTTPException(400, "invalid_grant")
            # iss and aud as the services check them (ONESTOP_JWT_ISSUER / _AUDIENCE: the issuer's own URL and
            # OneStop's client id at a real site; the development defaults here)
            claims = {"sub": "oidc-head", "name": "Lãnh đạo OIDC", "roles": ["department_head"],
                      "agency": "000.01.05.H55", "exp": int(time.time()) + 3600, "iss": "onestop", "aud": "onestop"}
            access = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
            return {"access_token": access, "token_type": "Bearer", "expires_in": 3600}

        return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    port = free_port()
    fake = FakeIssuer(port)
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield fake
    server.should_exit = True
    thread.join(5)


def test_oidc_code_flow_with_pkce_signs_the_officer_in(issuer: FakeIssuer) -> None:
    settings = ConsoleSettings(**NOWHERE, auth="oidc", oidc_issuer=issuer.base, public_url="http://testserver")
    c = TestClient(create_app(settings), follow_redirects=False)
    start = c.get("/sign-in", params={"next": "/inbox"})
    assert start.status_code == 303 and start.headers["location"].startswith(f"{issuer.base}/authorize?")
    query = issuer.approve(start.headers["location"], "code-1")
    assert query["redirect_uri"] == "http://testserver/auth/callback" and query["client_id"] == "onestop-console"

    forged = c.get("/auth/callback", params={"code": "code-1", "state": "not-the-state"})
    assert forged.status_code == 401
    back = c.get("/auth/callback", params={"code": "code-1", "state": query["state"]})
    assert back.status_code == 303 and back.headers["location"] == "/inbox", back.text
    home = c.get("/")
    assert home.status_code == 200 and "Lãnh đạo OIDC" in home.text and "000.01.05.H55" in home.text

    replay = c.get("/auth/callback", params={"code": "code-1", "state": query["state"]})
    assert replay.status_code == 401  # the pending sign-in is gone (and the issuer would refuse the spent code)
