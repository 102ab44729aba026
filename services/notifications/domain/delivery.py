"""Outcome of one delivery attempt (kết quả gửi), as classified by an adapter."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"  # accepted by the provider
    TEMPORARY_FAILURE = "temporary_failure"  # worth retrying (timeout, 4xx SMTP, 5xx HTTP, …)
    PERMANENT_FAILURE = "permanent_failure"  # retrying will not help (bad number, 5xx SMTP, 4xx HTTP)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: DeliveryStatus
    reason: str = ""
    provider_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.DELIVERED


def delivered(reason: str = "", provider_id: str | None = None) -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.DELIVERED, reason, provider_id)


def temporary(reason: str) -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.TEMPORARY_FAILURE, reason)


def permanent(reason: str) -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.PERMANENT_FAILURE, reason)
