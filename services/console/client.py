"""The four services' public HTTP APIs, called with the signed-in officer's bearer token like any client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

SERVICES = ("intake", "processing", "notifications", "reporting")


@dataclass
class ServiceError(Exception):
    """A service refused: its status and its reason (`detail`), shown to the officer as they are."""

    status: int
    detail: Any

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        if isinstance(self.detail, str):
            return self.detail
        if isinstance(self.detail, list):
            return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in self.detail)
        return str(self.detail)

    def field_errors(self) -> dict[str, str]:
        """Pydantic's 422 reasons by field path under the body, e.g. {"applicant.personal_id": "…"}."""
        if not isinstance(self.detail, list):
            return {}
        out: dict[str, str] = {}
        for item in self.detail:
            loc = [str(p) for p in item.get("loc", []) if p != "body"] if isinstance(item, dict) else []
            if loc:
                out.setdefault(".".join(loc), str(item.get("msg", "")))
        return out


class Services:
    def __init__(self, urls: dict[str, str], timeout: float = 10.0) -> None:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        self._clients = {name: httpx.AsyncClient(base_url=f"{url.rstrip('/')}/api/v1", timeout=timeout,
                                                 limits=limits) for name, url in urls.items()}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def raw(self, service: str, method: str, path: str, token: str | None = None,
                  headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """The response as it is (slips, PDFs, CSV); ServiceError for any 4xx/5xx answer."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self._clients[service].request(method, path, headers=sent, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceError(503, f"Dịch vụ {service} không phản hồi ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ServiceError(response.status_code, _detail(response))
        return response

    async def stream(self, service: str, method: str, path: str, token: str | None = None,
                     **kwargs: Any) -> httpx.Response:
        """The response with its body still unread (a scan streamed through, never held whole); the caller
        closes it. ServiceError for any 4xx/5xx answer, as `raw`."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = self._clients[service]
        try:
            response = await client.send(client.build_request(method, path, headers=headers, **kwargs), stream=True)
        except httpx.HTTPError as exc:
            raise ServiceError(503, f"Dịch vụ {service} không phản hồi ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise ServiceError(response.status_code, _detail(response))
        return response

    async def json(self, service: str, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        return (await self.raw(service, method, path, token, **kwargs)).json()


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    return body.get("detail", body) if isinstance(body, dict) else body
