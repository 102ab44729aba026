"""Why a token is refused."""


class AuthError(Exception):
    """The token is missing, malformed, expired, not for us or not signed by a key we trust (a 401)."""


class KeysUnavailable(AuthError):
    """No signing key could be had from the identity provider: its fault, not the caller's (a 503)."""
