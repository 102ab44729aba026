"""Officer identity from a bearer JWT (OIDC-style): `sub`, `name`, `roles`, `agency` claims.

HS256 with a shared secret in development; RS256/ES256 keys from a JWKS URL in production."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import jwt

ROLES = frozenset({"desk_officer", "specialist", "department_head", "report_viewer", "admin"})
ISSUER = "onestop"


class AuthError(Exception):
    """The token is missing, malformed, expired or not signed by a key we trust."""


@dataclass(frozen=True)
class Officer:
    sub: str
    name: str
    roles: frozenset[str]
    agency: str  # e-ID of the officer's agency

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles


def issue_token(
    sub: str, roles: list[str], agency: str, secret: str, name: str = "", ttl_seconds: int = 8 * 3600
) -> str:
    """A development token (HS256). Production tokens come from the identity provider."""
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    now = int(time.time())
    claims = {"sub": sub, "name": name or sub, "roles": roles, "agency": agency, "iss": ISSUER,
              "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def verify_token(token: str, secret: str, jwks_url: str | None = None) -> Officer:
    """The officer a valid token names. A desk sends the same token with every request for hours, so a
    checked token is remembered until it expires (signature checking was ~5 % of a receipt's CPU)."""
    officer, expires = _checked(token, secret, jwks_url)  # a refused token raises, and is not remembered
    if expires <= time.time():
        raise AuthError("Signature has expired")
    return officer


@lru_cache(maxsize=2048)
def _checked(token: str, secret: str, jwks_url: str | None) -> tuple[Officer, float]:
    try:
        if jwks_url:
            key = _jwks(jwks_url).get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256", "ES256"], options={"require": ["exp", "sub"]})
        else:
            claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise AuthError(str(exc)) from exc
    roles = claims.get("roles", [])
    agency = claims.get("agency")
    if not isinstance(roles, list) or not isinstance(agency, str) or not agency:
        raise AuthError("token lacks the roles and agency claims")
    officer = Officer(sub=str(claims["sub"]), name=str(claims.get("name", claims["sub"])),
                      roles=frozenset(str(r) for r in roles), agency=agency)
    return officer, float(claims["exp"])
