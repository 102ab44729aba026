"""Online submissions (docs/domain.md §5.2, §1.5 state 1 "Mới đăng ký"): pure rules, no I/O.

A citizen or the portal files a dossier online; it waits for the desk's check (awaiting_check, no clock runs) and
the desk accepts it (→ a dossier received now, state 2) or refuses it (→ a refused dossier, state 3). Files are
uploaded only while it waits. Its upload token is an HMAC of its id under the service's secret: given once, in the
answer to the submission, and never stored."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from enum import StrEnum

from services.intake.domain.desk import IllegalMove, InvalidInput

ONLINE_LEVELS = frozenset({"full", "partial"})  # §5.1/§5.2: a `none` procedure is filed in person or by post
CITIZEN = "citizen"
SUBMITTER_MAX = 100  # the column's length (and a document's uploaded_by)


class SubmissionState(StrEnum):
    AWAITING_CHECK = "awaiting_check"  # 1 Mới đăng ký: waits for the desk's check
    ACCEPTED = "accepted"  # became a dossier received at the desk (2)
    REFUSED = "refused"  # became a dossier refused at the desk (3)


class Decision(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"


_OUTCOME = {Decision.ACCEPT: SubmissionState.ACCEPTED, Decision.REFUSE: SubmissionState.REFUSED}


def check_online_level(online_level: str, procedure_name: str) -> None:
    """Only procedures whose version in force is `full` or `partial` online accept online submission (§5.2)."""
    if online_level not in ONLINE_LEVELS:
        raise InvalidInput(f"the procedure {procedure_name!r} is not offered online (online level {online_level!r}): "
                           "file it in person or by post")


def check_upload(state: SubmissionState) -> None:
    """Files join a submission only while it waits for the desk's check."""
    if state is not SubmissionState.AWAITING_CHECK:
        raise IllegalMove(f"the submission was already {state.value}: no more files can be added")


def decide(state: SubmissionState, decision: Decision) -> bool:
    """Whether the decision is to be made now (True), or was made already (False: the same answer again).
    The other decision made already is an IllegalMove (409)."""
    if state is SubmissionState.AWAITING_CHECK:
        return True
    if state is _OUTCOME[decision]:
        return False
    raise IllegalMove(f"the submission was already {state.value}: it cannot be {_OUTCOME[decision].value} now")


def outcome(decision: Decision) -> SubmissionState:
    return _OUTCOME[decision]


def submitter(portal_sub: str | None) -> str:
    """Who filed it, as recorded: `citizen` (anonymous) or `portal:<sub>` (the portal's machine client)."""
    return CITIZEN if portal_sub is None else f"portal:{portal_sub}"[:SUBMITTER_MAX]


def upload_token(secret: bytes, submission_id: uuid.UUID) -> str:
    """HMAC-SHA256 of the submission id under the service's secret, hex: recomputed, never stored."""
    return hmac.new(secret, str(submission_id).encode("ascii"), hashlib.sha256).hexdigest()


def token_matches(secret: bytes, submission_id: uuid.UUID, token: str | None) -> bool:
    """Compared in constant time; no token is no match."""
    return bool(token) and hmac.compare_digest(upload_token(secret, submission_id), str(token))
