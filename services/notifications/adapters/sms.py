"""SMS senders (gửi tin nhắn): a generic HTTP gateway, a console sender for development, and the factory."""

from __future__ import annotations

import logging
from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, PositiveFloat, SecretStr, field_validator, model_validator

from services.notifications.adapters.phone import mask_phone, normalise_mobile
from services.notifications.adapters.urls import check_web_address
from services.notifications.domain.delivery import DeliveryResult, delivered, permanent, temporary
from services.notifications.domain.gsm7 import sms_parts

log = logging.getLogger(__name__)
RETRYABLE_4XX = frozenset({408, 425, 429})  # timeout, too early, rate-limited: try again later


class SmsSender(Protocol):
    async def send(self, to: str, text: str, key: str) -> DeliveryResult: ...

    async def aclose(self) -> None: ...


class HttpSmsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    auth_header: str = "Authorization"
    auth_token: SecretStr | None = None
    auth_scheme: str = "Bearer"  # put before the token; "" sends the token alone
    success_field: str | None = "status"  # dotted path in the JSON reply; None: the 2xx alone is success
    success_value: str | int | bool = "ok"
    id_field: str | None = "id"  # dotted path of the provider's message id
    timeout_seconds: PositiveFloat = 10

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return check_web_address(value, "sms.http.url")


class SmsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["http", "console"] = "console"
    http: HttpSmsSettings | None = None

    @model_validator(mode="after")
    def _http_needs_settings(self) -> SmsSettings:
        if self.provider == "http" and self.http is None:
            raise ValueError("sms.provider 'http' needs an sms.http section")
        return self


def _dig(body: Any, path: str | None) -> Any:
    for part in path.split(".") if path else []:
        body = body.get(part) if isinstance(body, dict) else None
    return body


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str:
    body = _json(response)
    if isinstance(body, dict):
        for field in ("error", "message", "detail", "reason", "description"):
            if body.get(field):
                return f"{response.status_code}: {body[field]}"
    return f"{response.status_code}: {response.text[:200]}"


class HttpSmsGateway:
    """POST {to, text, idempotency_key} as JSON, with an `Idempotency-Key` header."""

    def __init__(self, settings: HttpSmsSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)

    async def send(self, to: str, text: str, key: str) -> DeliveryResult:
        phone, problem = normalise_mobile(to)
        if phone is None:
            return permanent(f"invalid phone number: {problem}")
        body = {"to": phone, "text": text, "idempotency_key": key}
        try:
            response = await self._client.post(self.settings.url, json=body, headers=self._headers(key))
        except httpx.TimeoutException:
            return temporary("sms gateway timeout")
        except httpx.HTTPError as exc:
            return temporary(f"sms gateway unreachable: {type(exc).__name__}: {exc}")
        return self._classify(response)

    def _headers(self, key: str) -> dict[str, str]:
        headers = {"Idempotency-Key": key}
        token = self.settings.auth_token
        if token is not None:
            scheme = self.settings.auth_scheme
            value = token.get_secret_value()
            headers[self.settings.auth_header] = f"{scheme} {value}" if scheme else value
        return headers

    def _classify(self, response: httpx.Response) -> DeliveryResult:
        code = response.status_code
        if 200 <= code < 300:
            return self._check_success(response)
        if 400 <= code < 500 and code not in RETRYABLE_4XX:
            return permanent(_reason(response))
        return temporary(_reason(response))

    def _check_success(self, response: httpx.Response) -> DeliveryResult:
        s, body = self.settings, _json(response)
        if s.success_field is not None and _dig(body, s.success_field) != s.success_value:
            return temporary(f"gateway did not confirm: {_reason(response)}")
        provider_id = _dig(body, s.id_field) if s.id_field else None
        return delivered(str(response.status_code), None if provider_id is None else str(provider_id))

    async def aclose(self) -> None:
        await self._client.aclose()


class ConsoleSms:
    """Development sender: logs the message (phone masked) and reports it delivered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (E.164 number, text, key)

    async def send(self, to: str, text: str, key: str) -> DeliveryResult:
        phone, problem = normalise_mobile(to)
        if phone is None:
            return permanent(f"invalid phone number: {problem}")
        if log.isEnabledFor(logging.INFO):  # the arguments cost more than the call when INFO is off
            log.info("sms to %s (%d part(s), key %s): %s", mask_phone(phone), sms_parts(text), key, text)
        if len(self.sent) < 100:  # for tests; bounded so a long-running dev process does not grow
            self.sent.append((phone, text, key))
        return delivered("console", provider_id=f"console:{key}")

    async def aclose(self) -> None:
        return None


def make_sms_sender(settings: SmsSettings, client: httpx.AsyncClient | None = None) -> SmsSender:
    if settings.provider == "http":
        assert settings.http is not None  # guaranteed by SmsSettings validation
        return HttpSmsGateway(settings.http, client)
    return ConsoleSms()
