"""FastAPI dependencies: who is calling (401) and may they (403). Agency scoping is the caller's 404."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.auth.errors import AuthError, KeysUnavailable
from libs.auth.tokens import Officer, TokenRules, verifier
from libs.settings import CommonSettings

_bearer = HTTPBearer(auto_error=False)
KEYS_RETRY_SECONDS = 30  # the JWKS is fetched again at most this often (libs/auth/jwks.py: min_interval)


def rules_of(common: CommonSettings) -> TokenRules:
    return TokenRules(common.jwt_secret, common.jwks_url, common.jwt_issuer, common.jwt_audience)


async def current_officer(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Officer:
    if creds is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    common: CommonSettings = request.app.state.runtime.common
    try:
        return await verifier(rules_of(common)).verify(creds.credentials)
    except KeysUnavailable as exc:
        raise HTTPException(503, f"tokens cannot be checked now: {exc}",
                            headers={"Retry-After": str(KEYS_RETRY_SECONDS)}) from exc
    except AuthError as exc:
        raise HTTPException(401, f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}) from exc


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Officer]]:
    """Dependency: an officer holding one of `roles` (admin holds all)."""

    async def check(officer: Annotated[Officer, Depends(current_officer)]) -> Officer:
        if not officer.has(*roles):
            raise HTTPException(403, f"this action needs one of the roles: {', '.join(roles)}")
        return officer

    return check
