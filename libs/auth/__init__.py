"""Officer authentication (bearer JWT) and role checks shared by the services."""

from libs.auth.errors import AuthError, KeysUnavailable
from libs.auth.tokens import (
    PROVINCE_WIDE,
    ROLES,
    Officer,
    TokenRules,
    TokenVerifier,
    issue_token,
    verifier,
    verify_token,
)

__all__ = ["PROVINCE_WIDE", "ROLES", "AuthError", "KeysUnavailable", "Officer", "TokenRules", "TokenVerifier",
           "issue_token", "verifier", "verify_token"]
