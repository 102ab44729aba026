"""The signed result file (issue 17 §1): the competent agency attaches the result it issued before it marks the case
result-ready; intake signs it as PAdES with the agency's key (no statement page), keeps the signed bytes as a
document of the dossier (kind `result`, item 0, state 1) and announces it with `ResultAttached` in the same
transaction as the row and its `document.added` history entry. The receiving ward then downloads it like a scan.

The key is intake's one agency key (ONESTOP_INTAKE_CERT_*, the certification's): one key per intake deployment.
Without it (development without the development CA) results cannot be signed: 503."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.clock import Clock
from libs.contracts.common import RESULT_ITEM, Digitisation, DocumentKind
from libs.contracts.intake import ResultAttached
from libs.messaging import Outbox, enqueue
from libs.storage import TooLarge, UnsupportedMediaType
from libs.storage.sniff import SNIFF_BYTES, sniff_media_type
from services.intake.certification.settings import CertificationSettings
from services.intake.certification.signing import AgencySigner, NotAPdf, sign_result
from services.intake.desk import NotFound
from services.intake.documents import Documents
from services.intake.domain.documents import Readers, check_result, may_attach_result
from services.intake.domain.states import DeskState
from services.intake.store import documents as docs
from services.intake.store import dossiers
from services.intake.store.documents import manifest_of
from services.intake.store.tables import DocumentRow, DossierRow
from services.intake.texts import text

log = logging.getLogger(__name__)
PDF = "application/pdf"


class SigningUnavailable(RuntimeError):
    """No agency key is loaded: results cannot be signed now."""


def result_signer(environment: str, settings: CertificationSettings | None = None) -> AgencySigner | None:
    """The agency's signer, or None in development without the development CA (outside development the
    certification's start-up check has already refused a missing or unsafe key)."""
    settings = settings or CertificationSettings()
    if environment == "development" and not all(p.exists() for p in (settings.key_file, settings.cert_file,
                                                                      *settings.chain_files)):
        log.warning("signed results unavailable: no agency key at %s", settings.key_file)
        return None
    return AgencySigner(settings)


@dataclass
class Results:
    documents: Documents
    outbox: Outbox
    signer: AgencySigner | None
    clock: Clock

    async def attach(self, code: str, officer: Officer, key: str,
                     chunks: AsyncIterable[bytes]) -> tuple[DocumentRow, bool]:
        """Sign and keep the result; returns its row and whether it is new (False: a repeat of the key).
        Raises NotFound, IllegalMove, TooLarge, UnsupportedMediaType, SigningUnavailable."""
        async with self.documents.sessions() as session:
            dossier = await self._competent(session, code, officer)
            if (earlier := await docs.by_key(session, dossier.id, key)) is not None:
                return earlier, False
            held = await docs.held_bytes(session, dossier.id)
        check_result(DeskState(dossier.state))
        if self.signer is None:
            raise SigningUnavailable("no agency key is configured: results cannot be signed now")
        original = await _read_pdf(chunks, self.documents.limits.upload_limit(held))
        now = self.clock.now()
        try:
            signed = await asyncio.to_thread(sign_result, self.signer, original, now)
        except NotAPdf as exc:
            raise UnsupportedMediaType(str(exc)) from exc
        stored = await self.documents.store.put(_once(signed), max_bytes=len(signed))
        row = DocumentRow(
            id=uuid.uuid4(), dossier_id=dossier.id, kind=DocumentKind.RESULT.value, checklist_item=RESULT_ITEM,
            item_name=text("result_item"), key=stored.key, sha256=stored.sha256, size=stored.size, media_type=PDF,
            digitisation=int(Digitisation.DIGITISED), uploaded_by=officer.sub, uploaded_at=now, idempotency_key=key,
        )
        saved, created = await self.documents.record(row, _open_case, self._announce)
        if created:
            self.outbox.wake()
            log.info("result %s signed for dossier %s (%d bytes) by %s of %s", saved.id, code, saved.size,
                     officer.sub, officer.agency)
        return saved, created

    async def _competent(self, session: AsyncSession, code: str, officer: Officer) -> DossierRow:
        dossier = await dossiers.by_code(session, code)
        if dossier is None:
            raise NotFound(code)
        readers = Readers(dossier.receiving_agency, await docs.acknowledged_by(session, dossier.id))
        competent = str(dossier.procedure.get("competent_agency", ""))
        if not may_attach_result(competent, readers, officer.agency, officer.roles):
            raise NotFound(code)
        return dossier

    async def _announce(self, session: AsyncSession, row: DocumentRow, dossier: DossierRow) -> None:
        """The event that tells processing which result is current (the last one attached)."""
        event = ResultAttached(dossier_id=dossier.id, code=dossier.code, agency=dossier.procedure.get(
            "competent_agency", ""), actor=row.uploaded_by, at=row.uploaded_at, manifest=manifest_of([row]))
        await enqueue(session, self.outbox.table, event, row.uploaded_at)


async def _open_case(session: AsyncSession, dossier_id: uuid.UUID) -> DossierRow | None:
    """The result's commit: under the dossier's lock, and only while the case still takes a result."""
    dossier = await docs.lock_dossier(session, dossier_id)
    if dossier is None:
        raise NotFound("no such dossier")
    check_result(DeskState(dossier.state))
    return dossier


async def _read_pdf(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """The whole body (pyHanko signs bytes in memory), refused as soon as it passes `limit` or its first bytes
    are not a PDF's."""
    data = bytearray()
    async for chunk in chunks:
        before = len(data)
        data += chunk
        if len(data) > limit:
            raise TooLarge(limit)
        if before < SNIFF_BYTES <= len(data):
            _pdf_only(bytes(data[:SNIFF_BYTES]))
    _pdf_only(bytes(data[:SNIFF_BYTES]))
    return bytes(data)


def _pdf_only(head: bytes) -> None:
    if sniff_media_type(head) != PDF:
        raise UnsupportedMediaType("a result must be a PDF (decided from its first bytes)")


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
