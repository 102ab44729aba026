"""How a OneStop service process is assembled (settings → runtime → HTTP app)."""

from libs.runtime.http import create_http_app
from libs.runtime.runtime import Runtime, build_runtime, messaging_tables

__all__ = ["Runtime", "build_runtime", "create_http_app", "messaging_tables"]
