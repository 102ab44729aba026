"""FastAPI dependencies: who is calling (401) and may they (403). Agency scoping is the caller's 404."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.auth.tokens import AuthError, Officer, verify_token
from libs.settings import CommonSettings

_bearer = HTTPBearer(auto_error=False)


async def current_officer(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Officer:
    if creds is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    common: CommonSettings = request.app.state.runtime.common
    try:
        return verify_token(creds.credentials, common.jwt_secret, common.jwks_url)
    except AuthError as exc:
        raise HTTPException(401, f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}) from exc


def require(*roles: str) -> Callable[..., Coroutine[Any, Any, Officer]]:
    """Dependency: an officer holding one of `roles` (admin holds all)."""

    async def check(officer: Annotated[Officer, Depends(current_officer)]) -> Officer:
        if not officer.has(*roles):
            raise HTTPException(403, f"this action needs one of the roles: {', '.join(roles)}")
        return officer

    return check
