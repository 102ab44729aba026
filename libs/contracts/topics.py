"""Topic names: each topic has one owning (producing) service."""

INTAKE = "onestop.intake.v1"
PROCESSING = "onestop.processing.v1"
NOTIFICATIONS = "onestop.notifications.v1"
ALL = (INTAKE, PROCESSING, NOTIFICATIONS)


def dlq(service: str) -> str:
    """Dead-letter topic of one consuming service."""
    return f"onestop.dlq.{service}"
