"""Online submission (docs/domain.md §5.2): a citizen or the portal files a dossier online, uploads its files, and
the desk accepts or refuses it from its queue. The rules are domain/submissions.py; the SQL is store/.

A submission is filed once per Idempotency-Key. Its files stream into the document store like the desk's scans
(documents.py), under the submission's lock, only while it waits. The decision locks the submission row and writes
the dossier (the desk's receipt or refusal, desk.py) in the same transaction, so two officers deciding at once
get one dossier: the second waits, then answers the first's dossier again (same decision) or 409."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.catalogue import Catalogue
from libs.clock import Clock
from libs.contracts.common import Channel
from services.intake.desk import Desk, IdempotencyConflict, NotFound, OnlineFiling, may_see
from services.intake.documents import Documents, Upload
from services.intake.domain.documents import checklist_item
from services.intake.domain.lookup import LAST4, id_matches
from services.intake.domain.receipt import fingerprint, local_day
from services.intake.domain.submissions import (
    Decision,
    SubmissionState,
    check_online_level,
    check_upload,
    decide,
    outcome,
    submitter,
    token_matches,
    upload_token,
)
from services.intake.schemas import DossierIn
from services.intake.store import documents as docs
from services.intake.store import submissions as subs
from services.intake.store.documents import manifest_of
from services.intake.store.tables import DocumentRow, DossierRow, SubmissionRow
from services.intake.submission_schemas import SubmissionIn


@dataclass(frozen=True)
class SubmissionView:
    """A submission with its files and, once accepted, its dossier's appointment."""

    row: SubmissionRow
    documents: list[DocumentRow]
    appointment_at: datetime | None = None


@dataclass
class Submissions:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    catalogue: Catalogue
    desk: Desk
    documents: Documents
    secret: bytes  # the upload tokens' HMAC key (settings.submission_secret)

    # --- the citizen's or the portal's side --------------------------------------------------------------------
    async def submit(self, body: SubmissionIn, key: str, portal: Officer | None) -> tuple[SubmissionView, bool]:
        """File it; returns it and whether it is new (False: a repeat of the same key and body).
        Raises IdempotencyConflict, InvalidInput (an offline procedure), CatalogueError."""
        by = submitter(portal.sub if portal else None)
        request_hash = fingerprint({**body.model_dump(mode="json"), "submitter": by})
        async with self.sessions() as session:  # a repeat answers as the first time, whatever the catalogue says
            if (done := await subs.by_key(session, key)) is not None:
                return await self._view(session, _replayed(done, request_hash)), False
        row = self._new(body, key, request_hash, by, self.clock.now())
        try:
            async with self.sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:  # the same key raced us and won
            async with self.sessions() as session:
                if (done := await subs.by_key(session, key)) is None:
                    raise
                return await self._view(session, _replayed(done, request_hash)), False
        return SubmissionView(row, []), True

    def _new(self, body: SubmissionIn, key: str, request_hash: str, by: str, now: datetime) -> SubmissionRow:
        day = local_day(now)
        version = self.catalogue.procedure_version(body.procedure_code, day)
        check_online_level(version.online_level, str(version.name))
        self.catalogue.snapshot(body.procedure_code, day, body.receiving_agency)  # this desk may receive it
        a = body.applicant
        return SubmissionRow(
            id=uuid.uuid4(), receiving_agency=body.receiving_agency, procedure_code=version.code,
            procedure_version=version.version, procedure_name=str(version.name), applicant_name=a.full_name,
            personal_id=a.personal_id, phone=a.phone, email=a.email,
            documents=[d.model_dump() for d in body.documents], online_payment=body.online_payment,
            state=SubmissionState.AWAITING_CHECK.value, submitter=by, idempotency_key=key,
            request_hash=request_hash, submitted_at=now,
        )

    def token(self, submission_id: uuid.UUID) -> str:
        return upload_token(self.secret, submission_id)

    async def upload(self, submission_id: uuid.UUID, token: str | None, upload: Upload,
                     chunks: AsyncIterable[bytes]) -> tuple[DocumentRow, bool]:
        """One file of the submission, streamed like a desk scan; born digital (state 1, §4.4). NotFound for an
        unknown id or a wrong token; IllegalMove once the desk decided."""
        if not token_matches(self.secret, submission_id, token):
            raise NotFound("no such submission")
        async with self.sessions() as session:
            row = await subs.one(session, submission_id)
        if row is None:
            raise NotFound("no such submission")
        check_upload(SubmissionState(row.state))
        item_name = checklist_item(self.documents.checklist(row.procedure_code, row.procedure_version), upload.item)
        return await self.documents.take(row.id, item_name, upload, chunks, row.submitter, lock=_still_open)

    async def status(self, submission_id: uuid.UUID, last4: str) -> SubmissionView | None:
        """The citizen's view, or None whether the id is unknown or the digits do not match."""
        if not LAST4.match(last4):
            return None
        async with self.sessions() as session:
            row = await subs.one(session, submission_id)
            if row is None or not id_matches(row.personal_id, last4):
                return None
            return await self._view(session, row, with_documents=False)

    # --- the desk's side ------------------------------------------------------------------------------------
    async def queue(self, officer: Officer, state: SubmissionState) -> list[SubmissionRow]:
        async with self.sessions() as session:
            return await subs.queue(session, officer.agency, state.value)

    async def one(self, submission_id: uuid.UUID, officer: Officer) -> SubmissionView:
        async with self.sessions() as session:
            return await self._view(session, await self._reachable(session, submission_id, officer))

    async def open(self, submission_id: uuid.UUID, document_id: uuid.UUID,
                   officer: Officer) -> tuple[DocumentRow, AsyncIterator[bytes]]:
        async with self.sessions() as session:
            row = await self._reachable(session, submission_id, officer)
            doc = await docs.one(session, document_id)
        return await self.documents.read(doc, row.id, f"submission {row.id}", officer)

    async def accept(self, submission_id: uuid.UUID, officer: Officer) -> tuple[DossierRow, bool]:
        return await self._decide(submission_id, officer, Decision.ACCEPT, None)

    async def refuse(self, submission_id: uuid.UUID, officer: Officer, reason: str) -> tuple[DossierRow, bool]:
        return await self._decide(submission_id, officer, Decision.REFUSE, reason)

    async def _decide(self, submission_id: uuid.UUID, officer: Officer, decision: Decision,
                      reason: str | None) -> tuple[DossierRow, bool]:
        """One transaction under the submission's lock: the dossier (receipt or refusal) with its event and first
        history entry, the files marked as announced by it, the submission decided. Returns the dossier and whether
        it was made now (False: the same decision made before)."""
        async with self.sessions() as session, session.begin():
            row = await subs.lock(session, submission_id)
            if row is None or not may_see(officer, row.receiving_agency):
                raise NotFound("no such submission")
            if not decide(SubmissionState(row.state), decision):
                dossier = await session.get(DossierRow, row.id)
                assert dossier is not None  # decided in the dossier's own transaction
                return dossier, False
            now = self.clock.now()
            files = manifest_of(await docs.announce(session, row.id, now)) if reason is None else []
            filing = OnlineFiling(row.id, row.submitted_at, files, row.online_payment)
            dossier = await self.desk.register_online(await session.connection(), _dossier_in(row),
                                                      row.receiving_agency, officer, filing, reason, now)
            row.state, row.decided_at, row.decided_by = outcome(decision).value, now, officer.sub
            row.refusal_reason, row.dossier_code = reason, dossier.code
            session.add(row)
        self.desk.outbox.wake()
        return dossier, True

    async def _reachable(self, session: AsyncSession, submission_id: uuid.UUID, officer: Officer) -> SubmissionRow:
        row = await subs.one(session, submission_id)
        if row is None or not may_see(officer, row.receiving_agency):
            raise NotFound("no such submission")
        return row

    async def _view(self, session: AsyncSession, row: SubmissionRow, with_documents: bool = True) -> SubmissionView:
        files = await docs.of_dossier(session, row.id) if with_documents else []
        dossier = await session.get(DossierRow, row.id) if row.state == SubmissionState.ACCEPTED else None
        return SubmissionView(row, files, dossier.appointment_at if dossier else None)


async def _still_open(session: AsyncSession, submission_id: uuid.UUID) -> None:
    """An upload's commit: under the submission's lock, and only while it waits (the decision may have won)."""
    row = await subs.lock(session, submission_id)
    if row is None:
        raise NotFound("no such submission")
    check_upload(SubmissionState(row.state))


def _replayed(row: SubmissionRow, request_hash: str) -> SubmissionRow:
    if row.request_hash != request_hash:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different submission")
    return row


def _dossier_in(row: SubmissionRow) -> DossierIn:
    """The submission as the desk's receipt takes it. Its papers count as digitised: an online dossier is
    exempt from scanning, its files are born digital (docs/domain.md §4.4)."""
    return DossierIn.model_validate({
        "procedure_code": row.procedure_code, "channel": Channel.ONLINE,
        "applicant": {"full_name": row.applicant_name, "personal_id": row.personal_id, "phone": row.phone,
                      "email": row.email},
        "documents": [{**d, "digitised": True} for d in row.documents],
    })
