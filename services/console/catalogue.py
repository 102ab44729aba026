"""Intake's public procedure catalogue, kept for a few minutes: the desk searches it on every keystroke and the
work queue reads which role each procedure's step belongs to."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from services.console.client import ServiceError, Services

TTL_SECONDS = 300.0  # a new catalogue version takes effect on a date, never within minutes
RETRY_SECONDS = 30.0  # intake unreachable: pages go on without step roles, and ask again after this


class ProcedureCache:
    def __init__(self, services: Services, now: Callable[[], float] = time.monotonic) -> None:
        self.services, self.now = services, now
        self._procedures: list[dict[str, Any]] = []
        self._roles: dict[tuple[str, str], str] = {}
        self._fetched = float("-inf")

    async def procedures(self) -> list[dict[str, Any]]:
        if self.now() - self._fetched > TTL_SECONDS:
            found: list[dict[str, Any]] = await self.services.json("intake", "GET", "/procedures")
            self._procedures = found
            self._roles = {(p["code"], s["code"]): s["role"] for p in found for s in p.get("steps", [])}
            self._fetched = self.now()
        return self._procedures

    async def step_role(self, procedure_code: str, step_code: str | None) -> str | None:
        """The role of a procedure's step; None when unknown, also while intake cannot be reached (the work
        queue still shows, only without "your role" marks)."""
        try:
            await self.procedures()
        except ServiceError:
            self._fetched = self.now() - TTL_SECONDS + RETRY_SECONDS
        return self._roles.get((procedure_code, step_code or ""))
