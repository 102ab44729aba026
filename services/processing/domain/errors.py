"""Domain errors of the workflow; the API answers them with 422 and the reason (a result-file conflict, 409)."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; `reason` is a sentence an officer can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IllegalTransition(DomainError):
    """The case's state does not allow the command (e.g. approving a stopped case)."""


class NotAllowed(DomainError):
    """The state allows the command but a rule refuses it (e.g. a second extension)."""


class PlanError(DomainError):
    """The procedure snapshot cannot drive a workflow (no steps, shares out of range, …)."""
