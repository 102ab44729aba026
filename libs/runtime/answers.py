"""The error answers every service gives, declared once: a route lists its codes, `answers(401, 403, 404)`,
and its OpenAPI document shows the bodies and headers that are really sent.

Errors never echo the input: a refusal says why in words (`Problem`), a malformed request names each field
and the rule it broke (`Invalid`, see `http._invalid_request`), and "later" says when (`Busy`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """Why the request was refused, in words."""

    detail: str


class FieldProblem(BaseModel):
    """One broken rule: where in the request (`["body", "applicant", "personal_id"]`), the rule and its name."""

    loc: list[str | int]
    msg: str
    type: str


class Invalid(BaseModel):
    """A malformed request (each field and the rule it broke), or a well-formed one the rules refuse (why)."""

    detail: list[FieldProblem] | str


class Busy(BaseModel):
    """The service cannot answer now (at its bound, its database or the identity provider away): try again."""

    detail: str
    retry_after_seconds: int | None = Field(default=None, description="also in the Retry-After header")


def _seconds(why: str) -> dict[str, Any]:
    return {"description": why, "schema": {"type": "integer", "minimum": 0}}


ANSWERS: dict[int, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body is not JSON text (UTF-8)"},
    401: {"model": Problem, "description": "no bearer token, or one that is invalid, expired or not for us",
          "headers": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}},
    403: {"model": Problem, "description": "the officer's roles or agency do not allow this"},
    404: {"model": Problem, "description": "no such thing within the officer's reach"},
    409: {"model": Problem, "description": "the thing as it is now does not allow this (the reason)"},
    413: {"model": Problem, "description": "the request body is larger than the service accepts"},
    422: {"model": Invalid, "description": "the request is malformed (each field and rule), or the rules "
                                           "refuse it as it stands (the reason)"},
    429: {"model": Problem, "description": "too many requests: try again later",
          "headers": {"Retry-After": _seconds("seconds until a request may be tried again")}},
    503: {"model": Busy, "description": "the service cannot answer now: try again",
          "headers": {"Retry-After": _seconds("seconds until a retry is likely to be answered")}},
}


def answers(*codes: int, why: Mapping[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route or router: the shared declaration of each code, with the route's own reason
    as its description where `why` gives one (`answers(404, 409, why={409: "already rated"})`)."""
    reasons = why or {}
    return {code: {**ANSWERS[code], **({"description": reasons[code]} if code in reasons else {})} for code in codes}


def documents(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a route that answers a document (HTML, CSV: text; PDF, XLSX: bytes) besides or instead of JSON."""
    return {200: {"content": {media_type: {"schema": _document_schema(media_type)} for media_type in media_types}}}


def _document_schema(media_type: str) -> dict[str, Any]:
    return {"type": "string"} if media_type.startswith("text/") else {"type": "string", "format": "binary"}
