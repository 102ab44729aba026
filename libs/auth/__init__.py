"""Officer authentication (bearer JWT) and role checks shared by the services."""

from libs.auth.tokens import ROLES, AuthError, Officer, issue_token, verify_token

__all__ = ["ROLES", "AuthError", "Officer", "issue_token", "verify_token"]
