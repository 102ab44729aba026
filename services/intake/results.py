"""The signed result file (issue 17 §1): the competent agency attaches the result it issued and signed before it
marks the case result-ready. Intake does not sign for it (its one key is the receiving ward's: docs/domain.md §4.4,
ADR 0015): it checks the PAdES signature with pyHanko (intact, valid, covering the whole file, its chain reaching a
trusted root), keeps the bytes unchanged as a document of the dossier (kind `result`, item 0, state 1) and
announces it with `ResultAttached` in the same transaction as the row and its `document.added` history entry.
The receiving ward then downloads it like a scan, byte for byte as the agency signed it.

The trusted roots are the certification's chain (ONESTOP_INTAKE_CERT_CHAIN_FILES: the government CA in
production, the development CA under `make up`). Without them (development without the development CA) no
result can be checked: 503."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.clock import Clock
from libs.contracts.common import RESULT_ITEM, Digitisation, DocumentKind
from libs.contracts.intake import ResultAttached
from libs.messaging import Outbox, enqueue
from libs.storage import TooLarge, UnsupportedMediaType
from libs.storage.sniff import SNIFF_BYTES, sniff_media_type
from services.intake.certification.settings import CertificationSettings
from services.intake.certification.signing import validate
from services.intake.desk import NotFound
from services.intake.documents import Documents
from services.intake.domain.documents import IdempotencyConflict, Readers, check_result, may_attach_result
from services.intake.domain.states import DeskState
from services.intake.store import documents as docs
from services.intake.store import dossiers
from services.intake.store.documents import manifest_of
from services.intake.store.tables import DocumentRow, DossierRow
from services.intake.texts import text

log = logging.getLogger(__name__)
PDF = "application/pdf"


class SigningUnavailable(RuntimeError):
    """No trusted root is configured: no result's signature can be checked now."""


class UnsignedResult(ValueError):
    """The PDF carries no signature that holds: refused with pyHanko's reason (HTTP 422)."""


def result_trust_roots(environment: str, settings: CertificationSettings | None = None) -> list[Path] | None:
    """The roots a result's signature must chain to, or None in development without the development CA (outside
    development the certification's start-up check has already refused a missing chain)."""
    roots = (settings or CertificationSettings()).chain_files
    if environment == "development" and not all(p.exists() for p in roots):
        log.warning("signed results unavailable: no trusted root at %s", ", ".join(map(str, roots)))
        return None
    return roots


@dataclass
class Results:
    documents: Documents
    outbox: Outbox
    trust_roots: list[Path] | None
    clock: Clock

    async def attach(self, code: str, officer: Officer, key: str,
                     chunks: AsyncIterable[bytes]) -> tuple[DocumentRow, bool]:
        """Check and keep the result; returns its row and whether it is new (False: a repeat of the key).
        Raises NotFound, IllegalMove, TooLarge, UnsupportedMediaType, UnsignedResult, IdempotencyConflict,
        SigningUnavailable."""
        async with self.documents.sessions() as session:
            dossier = await self._competent(session, code, officer)
            earlier = await docs.by_key(session, dossier.id, key)
            held = await docs.held_bytes(session, dossier.id)
        signed = await _read_pdf(chunks, self.documents.limits.upload_limit(held))
        if earlier is not None:  # a repeat answers as the first time, if it is the same file
            if earlier.sha256 != hashlib.sha256(signed).hexdigest():
                raise IdempotencyConflict("this Idempotency-Key was already used for another result file")
            return earlier, False
        check_result(DeskState(dossier.state))
        if self.trust_roots is None:
            raise SigningUnavailable("no trusted root is configured: result signatures cannot be checked now")
        verdict = await asyncio.to_thread(validate, signed, self.trust_roots)  # CPU work, and pyHanko's own loop
        if not verdict.ok:
            raise UnsignedResult("the result must carry the competent agency's digital signature (PAdES) over the "
                                 f"whole file, chaining to a trusted root: {verdict.summary}")
        now = self.clock.now()
        stored = await self.documents.store.put(_once(signed), max_bytes=len(signed))
        row = DocumentRow(
            id=uuid.uuid4(), dossier_id=dossier.id, kind=DocumentKind.RESULT.value, checklist_item=RESULT_ITEM,
            item_name=text("result_item"), key=stored.key, sha256=stored.sha256, size=stored.size, media_type=PDF,
            digitisation=int(Digitisation.DIGITISED), uploaded_by=officer.sub, uploaded_at=now, idempotency_key=key,
        )
        saved, created = await self.documents.record(row, _open_case, self._announce)
        if created:
            self.outbox.wake()
            log.info("signed result %s attached to dossier %s (%d bytes) by %s of %s", saved.id, code, saved.size,
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
    """The whole body (pyHanko checks bytes in memory), refused as soon as it passes `limit` or its first bytes
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
