"""The rules of a dossier's scans (issue 17 §1): who may read them, which checklist item a scan belongs to,
what is kept of a browser's file name, what an upload may still weigh; which draft scans taken at the counter a
receipt takes; and who attaches the signed result, when. Pure: no I/O."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from services.intake.domain.desk import IllegalMove, InvalidInput
from services.intake.domain.states import DeskState

# Who reads scans, besides the agency check: the desk and the officers who process cases. Not report_viewer
# (figures, not papers); province_admin only as an officer of an agency that may read (scans are personal data).
READER_ROLES = ("desk_officer", "specialist", "department_head")
UPLOADER_ROLES = ("desk_officer",)
RESULT_ROLES = ("specialist", "department_head")  # the competent agency's officers who settle the case
FILE_NAME_MAX = 255
# The original name is kept to show it back to officers, so a few characters of it may stay; the rest go.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, format, unassigned, …
_SEPARATORS = frozenset('/\\:*?"<>|')  # path separators and what Windows refuses in a name
# Scans taken before the receipt (docs/domain.md §4.4) are kept under the id the dossier will take: uuid5 of
# "<agency>:<the receipt's Idempotency-Key>" in this namespace (fixed: changing it orphans every open draft).
DRAFTS = uuid.UUID("3d5e2a8c-7f41-4b6e-9c2d-a1f0e4b7c930")


class UnknownItem(ValueError):
    """The checklist item is not one of the procedure version's."""


class IdempotencyConflict(ValueError):
    """The upload's Idempotency-Key was used for this dossier with other bytes or another item."""


class DraftReceived(ValueError):
    """The draft's receipt was made: its scans belong to the dossier now, and new ones go to the dossier."""

    def __init__(self, code: str) -> None:
        super().__init__(f"already received as {code}; upload to the dossier")
        self.code = code


@dataclass(frozen=True)
class Readers:
    """The agencies whose officers may read a dossier's scans: the receiving ward, and every agency that
    acknowledged a hand-over of the case (the city department from its acknowledgement on; the ward again
    when the result comes back). An agency that held the case keeps reading it after it passed it on."""

    receiving_agency: str
    acknowledged: frozenset[str] = frozenset()

    def admit(self, agency: str, roles: Collection[str]) -> bool:
        if not (set(roles) & {*READER_ROLES, "admin"}):
            return False
        return agency == self.receiving_agency or agency in self.acknowledged


def may_upload(receiving_agency: str, agency: str, roles: Collection[str]) -> bool:
    """Scans are taken at the desk that received the dossier, by its desk officers."""
    return agency == receiving_agency and bool(set(roles) & {*UPLOADER_ROLES, "admin"})


def may_attach_result(competent_agency: str, readers: Readers, agency: str, roles: Collection[str]) -> bool:
    """The signed result is attached by the competent agency's specialist or department head (or admin), once it
    may read the dossier: a city department from its acknowledgement of the hand-over on (issue 17 §1)."""
    return (agency == competent_agency and bool(set(roles) & {*RESULT_ROLES, "admin"})
            and readers.admit(agency, roles))


def check_result(state: DeskState) -> None:
    """A result is attached while the case is open and not yet marked result-ready (processing marks it after)."""
    if state.closed or state in (DeskState.RESULT_READY, DeskState.SUBMITTED):
        raise IllegalMove(f"cannot attach a result: the dossier is {state.value} ({state.code})")


def checklist_item(checklist: Sequence[str], item: int) -> str:
    """The name of item `item` (1-based) of the procedure version's checklist."""
    if not 1 <= item <= len(checklist):
        raise UnknownItem(f"item {item} is not on this procedure's checklist (1 to {len(checklist)})"
                          if checklist else "this procedure version has no checklist of papers")
    return checklist[item - 1]


def draft_id(agency: str, key: str) -> uuid.UUID:
    """The id of the draft that the receipt with Idempotency-Key `key` at `agency` gives its dossier."""
    return uuid.uuid5(DRAFTS, f"{agency}:{key}")


def check_drafts(checklist: Sequence[str], scans: Iterable[tuple[int, str]]) -> None:
    """A receipt takes the scans taken for it only if each is the same paper, same place and same name, on the
    checklist of the version it is received under (§4.4): scans of another procedure are not silently relabelled."""
    for item, name in scans:
        if not 1 <= item <= len(checklist) or checklist[item - 1] != name:
            raise InvalidInput(
                f"the scans taken for this receipt are of another procedure: item {item} ({name}) is not on this "
                "procedure's checklist; receive it under the procedure they were taken for, or with a new "
                "Idempotency-Key to leave them out")


def clean_file_name(raw: str | None) -> str | None:
    """What is kept of a browser's file name, as data only (never a path, never logged): the last path segment,
    NFC, without control or format characters, path separators or leading dots, at most FILE_NAME_MAX characters.
    None when nothing is left."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw)
    last = text.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in last if c not in _SEPARATORS and unicodedata.category(c) not in _DROPPED_CATEGORIES)
    kept = " ".join(kept.split()).lstrip(". ")  # no hidden names, no `..`, no runs of blanks
    return kept[:FILE_NAME_MAX] or None


def over_dossier_limit(held: int, adding: int, max_dossier_bytes: int) -> bool:
    """At commit, under the dossier's lock: would this scan take the dossier past its limit?"""
    return held + adding > max_dossier_bytes


def pages_of(media_type: str) -> int | None:
    """A JPEG or PNG is one page; a PDF's count is unknown here (reading it needs a PDF parser at run time)."""
    return 1 if media_type in ("image/jpeg", "image/png") else None


# Digitisation states of a reused document (docs/domain.md §4.4; libs.contracts.common.Digitisation names them).
REUSED_PAPER, REUSED_RESULT = 2, 3


def reuse_state(source_kind: str) -> int:
    """A document reused by reference: state 3 when it is another dossier's result (e.g. an extract issued
    earlier), state 2 when it is another dossier's scanned paper."""
    return REUSED_RESULT if source_kind == "result" else REUSED_PAPER
