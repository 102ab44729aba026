"""Production sign-in: OpenID Connect authorization-code flow with PKCE (S256) through authlib.

The issuer's access token is what the services already verify through its JWKS; the console verifies it the same
way (libs.auth) to learn the officer's roles and agency, then forwards it with every call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from itsdangerous import BadSignature, URLSafeTimedSerializer

from libs.auth import Officer, verify_token
from libs.settings import CommonSettings

PENDING_COOKIE = "onestop_oidc"  # state, PKCE verifier and the page asked for, signed, for 10 minutes
PENDING_SECONDS = 600


@dataclass(frozen=True)
class Provider:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OidcError(Exception):
    """The issuer's answer cannot sign anyone in (bad state, refused code, token without roles)."""


class Oidc:
    def __init__(self, issuer: str, client_id: str, client_secret: str, scope: str, redirect_uri: str,
                 signing_secret: str) -> None:
        self.issuer, self.client_id, self.client_secret = issuer.rstrip("/"), client_id, client_secret
        self.scope, self.redirect_uri = scope, redirect_uri
        self._signer = URLSafeTimedSerializer(signing_secret, salt="onestop-console-oidc")
        self._provider: Provider | None = None

    async def provider(self) -> Provider:
        if self._provider is None:
            async with httpx.AsyncClient(timeout=10) as client:
                meta = (await client.get(f"{self.issuer}/.well-known/openid-configuration")).json()
            self._provider = Provider(meta["authorization_endpoint"], meta["token_endpoint"], meta["jwks_uri"])
        return self._provider

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(self.client_id, self.client_secret or None, scope=self.scope,
                                 redirect_uri=self.redirect_uri, code_challenge_method="S256")

    async def start(self, next_path: str) -> tuple[str, str]:
        """(the issuer's authorization URL, the signed pending-login cookie value)."""
        provider = await self.provider()
        verifier, state = generate_token(64), secrets.token_urlsafe(24)
        async with self._client() as client:
            url, _ = client.create_authorization_url(provider.authorization_endpoint, state=state,
                                                     code_verifier=verifier, nonce=secrets.token_urlsafe(16))
        return url, self._signer.dumps({"state": state, "verifier": verifier, "next": next_path})

    def pending(self, cookie: str | None, state: str | None) -> dict[str, Any]:
        try:
            data = self._signer.loads(cookie or "", max_age=PENDING_SECONDS)
        except BadSignature as exc:
            raise OidcError("the sign-in attempt expired or was not started here") from exc
        if not isinstance(data, dict) or not state or not secrets.compare_digest(str(data["state"]), state):
            raise OidcError("state does not match the sign-in attempt")
        return data

    async def finish(self, code: str, pending: dict[str, Any]) -> tuple[Officer, str, float | None]:
        """Exchange the code (with the PKCE verifier) and verify the access token like the services do."""
        provider = await self.provider()
        async with self._client() as client:
            token: dict[str, Any] = await client.fetch_token(provider.token_endpoint, code=code,
                                                             code_verifier=pending["verifier"])
        access = str(token.get("access_token", ""))
        try:
            common = CommonSettings()  # the issuer and audience the services check, checked here the same way
            officer = verify_token(access, "", provider.jwks_uri, issuer=common.jwt_issuer,
                                   audience=common.jwt_audience)
        except Exception as exc:  # AuthError or a JWKS fetch failure: nobody is signed in
            raise OidcError(f"the issuer's token was not accepted: {exc}") from exc
        expires = token.get("expires_at")
        return officer, access, float(expires) if expires else None
