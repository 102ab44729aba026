"""Officer identity from a bearer JWT (OIDC-style): `sub`, `name`, `roles`, `agency` claims.

HS256 with a shared secret in development; RS256/ES256 keys from a JWKS URL in production. Every token is
checked for its algorithm (the header's `alg` must be one we accept for the key: never `none`, never HS256
against a public key), its signature, `exp` (required), `iss` and `aud` (ONESTOP_JWT_ISSUER /
ONESTOP_JWT_AUDIENCE), `sub` and the `roles`/`agency` claims.

Roles: desk_officer, specialist, department_head, report_viewer; `admin` holds every role, within its own
agency. `portal` is a machine client (the national or provincial portal, client credentials) that files online
submissions on citizens' behalf; its `sub` is recorded as the submitter. `province_admin` is a scope, not a
power: its holder sees every agency's dossiers where a service scopes by agency (the intake desk), and may act
for another agency there; it grants no action by itself, so a province administrator's token carries it beside
the roles it needs (e.g. `admin`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from cachetools import TLRUCache

from libs.auth.errors import AuthError, KeysUnavailable
from libs.auth.jwks import JwksKeys

PROVINCE_WIDE = "province_admin"
PORTAL = "portal"
ROLES = frozenset({"desk_officer", "specialist", "department_head", "report_viewer", "admin", PORTAL,
                   PROVINCE_WIDE})
ISSUER = "onestop"
AUDIENCE = "onestop"
SECRET_ALGORITHMS = frozenset({"HS256"})  # development: the shared secret
KEY_ALGORITHMS = frozenset({"RS256", "ES256"})  # production: the identity provider's public keys
CACHE_SIZE = 4096  # checked tokens remembered (a desk sends the same one for hours; the least recent goes first)
CACHE_SECONDS = 300.0  # …and checked again at least this often, so a withdrawn key stops its tokens soon

__all__ = ["AUDIENCE", "ISSUER", "PROVINCE_WIDE", "ROLES", "AuthError", "KeysUnavailable", "Officer",
           "TokenRules", "TokenVerifier", "issue_token", "verifier", "verify_token"]


@dataclass(frozen=True)
class Officer:
    sub: str
    name: str
    roles: frozenset[str]
    agency: str  # e-ID of the officer's agency

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles

    @property
    def province_wide(self) -> bool:
        """Sees (and acts for) every agency of the province where a service scopes by agency."""
        return PROVINCE_WIDE in self.roles


def issue_token(
    sub: str, roles: list[str], agency: str, secret: str, name: str = "", ttl_seconds: int = 8 * 3600,
    *, issuer: str | None = None, audience: str | None = None,
) -> str:
    """A development token (HS256). Production tokens come from the identity provider. `iss`/`aud` default to
    this environment's ONESTOP_JWT_ISSUER/ONESTOP_JWT_AUDIENCE, so the services accept what it mints."""
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    if issuer is None or audience is None:
        from libs.settings import CommonSettings  # here: the settings module is not needed to check tokens

        common = CommonSettings()
        issuer, audience = issuer or common.jwt_issuer, audience or common.jwt_audience
    now = int(time.time())
    claims = {"sub": sub, "name": name or sub, "roles": roles, "agency": agency, "iss": issuer, "aud": audience,
              "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass(frozen=True)
class TokenRules:
    """What a valid token must satisfy: signed with `secret` (no JWKS) or a key of `jwks_url`, for us."""

    secret: str
    jwks_url: str | None = None
    issuer: str = ISSUER
    audience: str = AUDIENCE


@dataclass(frozen=True)
class _Checked:
    officer: Officer
    expires: float  # the token's `exp`


class TokenVerifier:
    """Checks tokens against one set of rules and remembers the good ones: at most `cache_size`, each for
    `CACHE_SECONDS` at most and never past its own `exp` (a refused token is never remembered)."""

    def __init__(self, rules: TokenRules, keys: JwksKeys | None = None, cache_size: int = CACHE_SIZE) -> None:
        self.rules = rules
        self.keys = keys or (JwksKeys(rules.jwks_url) if rules.jwks_url else None)
        # `time.time()` looked up at each call (not bound once): `exp` is wall-clock time.
        self._cache: TLRUCache[str, _Checked] = TLRUCache(
            cache_size, ttu=lambda _token, c, now: min(c.expires, now + CACHE_SECONDS), timer=lambda: time.time()
        )
        self._lock = threading.Lock()  # cachetools is not thread-safe; blocking callers may share a verifier

    async def verify(self, token: str) -> Officer:
        """The officer a valid token names; a key fetch, when one is needed, runs off the event loop."""
        if (officer := self._remembered(token)) is not None:
            return officer
        alg, kid = self._header(token)
        key = await self.keys.key(kid) if self.keys is not None else None
        return self._check(token, alg, key)

    def verify_blocking(self, token: str) -> Officer:
        """The same in the calling thread (command-line tools and tests): a key fetch blocks it."""
        if (officer := self._remembered(token)) is not None:
            return officer
        alg, kid = self._header(token)
        key = self.keys.key_blocking(kid) if self.keys is not None else None
        return self._check(token, alg, key)

    def _remembered(self, token: str) -> Officer | None:
        with self._lock:
            checked = self._cache.get(token)
        if checked is None:
            return None
        _still_valid(checked.expires)
        return checked.officer

    def _check(self, token: str, alg: str, key: jwt.PyJWK | None) -> Officer:
        claims = self._decode(token, alg, key)
        officer, expires = _officer(claims), float(claims["exp"])
        _still_valid(expires)
        with self._lock:
            self._cache[token] = _Checked(officer, expires)
        return officer

    def _header(self, token: str) -> tuple[str, str | None]:
        """The header's algorithm, refused before any key is looked for unless it fits our kind of key."""
        alg, kid = _header(token)
        if alg not in (KEY_ALGORITHMS if self.keys is not None else SECRET_ALGORITHMS):
            raise AuthError(f"the algorithm {alg!r} is not accepted here")
        return alg, kid

    def _decode(self, token: str, alg: str, key: jwt.PyJWK | None) -> dict[str, Any]:
        if key is not None and alg != key.algorithm_name:  # e.g. ES256 named against an RSA key
            raise AuthError(f"the algorithm {alg!r} is not accepted here")
        try:
            return jwt.decode(
                token, key.key if key is not None else self.rules.secret, algorithms=[alg],
                issuer=self.rules.issuer, audience=self.rules.audience,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(str(exc)) from exc


def _header(token: str) -> tuple[str, str | None]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError(str(exc)) from exc
    kid = header.get("kid")
    return str(header.get("alg")), kid if isinstance(kid, str) else None


def _still_valid(expires: float) -> None:
    if expires <= time.time():
        raise AuthError("Signature has expired")


def _officer(claims: dict[str, Any]) -> Officer:
    roles = claims.get("roles", [])
    agency = claims.get("agency")
    if not isinstance(roles, list) or not isinstance(agency, str) or not agency:
        raise AuthError("token lacks the roles and agency claims")
    return Officer(sub=str(claims["sub"]), name=str(claims.get("name", claims["sub"])),
                   roles=frozenset(str(r) for r in roles), agency=agency)


@lru_cache(maxsize=8)
def verifier(rules: TokenRules) -> TokenVerifier:
    """The one verifier (with its cache and key set) of each set of rules in this process."""
    return TokenVerifier(rules)


def verify_token(
    token: str, secret: str, jwks_url: str | None = None, *, issuer: str = ISSUER, audience: str = AUDIENCE
) -> Officer:
    """The officer a valid token names (blocking on a key fetch: for tools and tests; requests use
    `libs.auth.fastapi.current_officer`, which never blocks the event loop)."""
    return verifier(TokenRules(secret, jwks_url, issuer, audience)).verify_blocking(token)
