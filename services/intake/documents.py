"""The scans of a dossier's papers (issue 17 §1): upload at the desk (also before the receipt, as a draft), reuse by
reference, the manifest, the download, and the orphan sweep. The bytes live in the document store (libs/storage,
ADR 0013); intake owns the rows that reference them.

An upload writes the object first and commits its row after, under the dossier's lock (where the dossier's byte
total is checked again): a crash between the two leaves an object that no row references, which the sweep removes
after its grace period; never a row that points at a missing object. The row's commit also appends a
`document.added` entry (reference, item, SHA-256, size) to the dossier's hash-chained history; a draft's scans have
no dossier yet: their hashes enter the chain with `dossier.received`'s manifest. Nothing here logs
a file name, a name or a personal ID: log lines carry document ids, the dossier code and the officer's id.

Over 300 lines: the draft's use case (scans before the receipt, docs/domain.md §4.4) shares the upload's steps."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.auth import Officer
from libs.catalogue import Catalogue, CatalogueError
from libs.clock import Clock
from libs.contracts.common import Digitisation, DocumentKind
from libs.runtime.runtime import Loop
from libs.storage import ObjectStore, SniffedStream, StorageSettings, SweepReport, TooLarge, sweep_orphans
from services.intake.desk import NotFound
from services.intake.domain.documents import (
    DraftReceived,
    IdempotencyConflict,
    Readers,
    checklist_item,
    clean_file_name,
    draft_id,
    may_upload,
    over_dossier_limit,
    pages_of,
    reuse_state,
)
from services.intake.domain.receipt import local_day
from services.intake.domain.states import DeskState
from services.intake.store import chain, dossiers
from services.intake.store import documents as docs
from services.intake.store.tables import DocumentRow, DossierRow

log = logging.getLogger(__name__)
# `_record`'s hooks: what it locks before it writes (the dossier by default; the submission for an online file),
# and what it stages beside a new row in the same transaction (the result's event).
Lock = Callable[[AsyncSession, uuid.UUID], Awaitable[DossierRow | None]]
Staged = Callable[[AsyncSession, DocumentRow, DossierRow], Awaitable[None]]


class ObjectVanished(RuntimeError):
    """The stored bytes were swept in the instant before the row committed (ADR 0013's residual race): the row
    is taken back and the desk asked to send the file again."""


@dataclass(frozen=True)
class Upload:
    """One scan on its way in: the checklist item, the Idempotency-Key, the browser's file name (data only)."""

    item: int
    key: str
    file_name: str | None = None


@dataclass
class Documents:
    sessions: async_sessionmaker[AsyncSession]
    store: ObjectStore
    limits: StorageSettings
    clock: Clock
    catalogue: Catalogue

    # --- in: a scan streamed from the desk, or a reference to one already held ---------------------------
    async def upload(self, code: str, officer: Officer, upload: Upload,
                     chunks: AsyncIterable[bytes]) -> tuple[DocumentRow, bool]:
        """Store the scan and record it; returns the row and whether it is new (False: a replay of the key).
        Raises NotFound, UnknownItem, TooLarge, UnsupportedMediaType, IdempotencyConflict, ObjectVanished."""
        async with self.sessions() as session:
            dossier = await self._for_upload(session, code, officer)
        item_name = checklist_item(self.checklist(dossier.procedure_code, dossier.procedure_version),
                                   upload.item)  # before a byte is read
        saved, created = await self.take(dossier.id, item_name, upload, chunks, officer.sub)
        if created:
            log.info("document %s stored for dossier %s (item %d, %d bytes, %s) by %s", saved.id, code,
                     saved.checklist_item, saved.size, saved.media_type, officer.sub)
        return saved, created

    async def take(self, owner_id: uuid.UUID, item_name: str, upload: Upload, chunks: AsyncIterable[bytes],
                   uploaded_by: str, lock: Lock = docs.lock_dossier) -> tuple[DocumentRow, bool]:
        """Stream one file into the store and record it (state 1, digitised) for the dossier or online submission
        `owner_id`; `lock`: what its commit locks (and checks) first."""
        async with self.sessions() as session:
            replay = await docs.by_key(session, owner_id, upload.key)
            held = await docs.held_bytes(session, owner_id)
        # A replay adds nothing to the dossier, so only the per-file limit applies to it.
        limit = self.limits.max_file_bytes if replay else self.limits.upload_limit(held)
        sniffed = SniffedStream(chunks)
        stored = await self.store.put(sniffed, max_bytes=limit)
        assert sniffed.media_type is not None  # put read the first chunk, so the sniffer decided
        row = DocumentRow(
            id=uuid.uuid4(), dossier_id=owner_id, checklist_item=upload.item, item_name=item_name,
            key=stored.key, sha256=stored.sha256, size=stored.size, media_type=sniffed.media_type,
            pages=pages_of(sniffed.media_type), digitisation=int(Digitisation.DIGITISED),
            file_name=clean_file_name(upload.file_name), uploaded_by=uploaded_by, uploaded_at=self.clock.now(),
            idempotency_key=upload.key, kind=DocumentKind.PAPER.value,
        )
        saved, created = await self._record(row, lock)
        if created:
            await self._still_there(saved)
        return saved, created

    async def reuse(self, code: str, officer: Officer, upload: Upload,
                    source_id: uuid.UUID) -> tuple[DocumentRow, bool]:
        """Reuse, by reference, a scan or the result of the same citizen's earlier dossier (digitisation state 2
        or 3): no new bytes. The officer must be allowed to read the source; another citizen's is NotFound."""
        async with self.sessions() as session:
            dossier = await self._for_upload(session, code, officer)
            item_name = checklist_item(self.checklist(dossier.procedure_code, dossier.procedure_version),
                                       upload.item)
            source = await docs.one(session, source_id)
            origin = await session.get(DossierRow, source.dossier_id) if source else None
            if (source is None or origin is None or origin.id == dossier.id
                    or origin.personal_id != dossier.personal_id or not await self._readable(session, origin, officer)):
                raise NotFound("no such document of this citizen within your reach")
        row = DocumentRow(
            id=uuid.uuid4(), dossier_id=dossier.id, checklist_item=upload.item, item_name=item_name,
            key=source.key, sha256=source.sha256, size=source.size, media_type=source.media_type, pages=source.pages,
            digitisation=reuse_state(source.kind), reused_from=source.id, file_name=source.file_name,
            uploaded_by=officer.sub, uploaded_at=self.clock.now(), idempotency_key=upload.key,
        )
        saved, created = await self._record(row)
        if created:
            log.info("document %s reuses %s for dossier %s (item %d) by %s", saved.id, source.id, code,
                     saved.checklist_item, officer.sub)
        return saved, created

    # --- a draft: scans taken at the counter before the receipt (§4.4) ------------------------------------
    async def upload_draft(self, key: str, procedure_code: str, officer: Officer, upload: Upload,
                           chunks: AsyncIterable[bytes]) -> tuple[DocumentRow, bool]:
        """A scan for the receipt the desk will make with Idempotency-Key `key`, of an item of the checklist of
        `procedure_code`'s version in force today. Raises DraftReceived once that receipt was made, CatalogueError
        for a procedure this desk cannot receive today, and what `take` raises."""
        draft = draft_id(officer.agency, key)
        async with self.sessions() as session:
            await _not_received(session, draft)
        item_name = checklist_item(self._checklist_today(procedure_code, officer.agency), upload.item)
        saved, created = await self.take(draft, item_name, upload, chunks, officer.sub, lock=_draft_open)
        if created:
            log.info("document %s stored for draft %s (item %d, %d bytes, %s) by %s", saved.id, draft,
                     saved.checklist_item, saved.size, saved.media_type, officer.sub)
        return saved, created

    async def drafts(self, key: str, officer: Officer) -> list[DocumentRow]:
        """The scans of the officer's agency's draft `key`; NotFound when it has none (or is another agency's)."""
        draft = draft_id(officer.agency, key)
        async with self.sessions() as session:
            await _not_received(session, draft)
            rows = await docs.of_dossier(session, draft)
        if not rows:
            raise NotFound("no such draft at your desk")
        return rows

    async def open_draft(self, key: str, document_id: uuid.UUID,
                         officer: Officer) -> tuple[DocumentRow, AsyncIterator[bytes]]:
        draft = draft_id(officer.agency, key)
        async with self.sessions() as session:
            await _not_received(session, draft)
            row = await docs.one(session, document_id)
        return await self.read(row, draft, f"draft {draft}", officer)

    def _checklist_today(self, procedure_code: str, agency: str) -> list[str]:
        """The checklist the receipt will check the draft's scans against (`Desk._receipt`)."""
        day = local_day(self.clock.now())
        self.catalogue.snapshot(procedure_code, day, agency)  # this desk may receive it today
        return [str(name) for name in self.catalogue.procedure_version(procedure_code, day).documents]

    async def _for_upload(self, session: AsyncSession, code: str, officer: Officer) -> DossierRow:
        dossier = await dossiers.by_code(session, code)
        if dossier is None or not may_upload(dossier.receiving_agency, officer.agency, officer.roles):
            raise NotFound(code)
        return dossier

    def checklist(self, procedure_code: str, procedure_version: int) -> list[str]:
        """The papers of the procedure version a dossier was received (or submitted) under; none if the catalogue
        dropped it."""
        try:
            versions = self.catalogue.procedure(procedure_code).versions
        except CatalogueError:
            return []
        version = next((v for v in versions if v.version == procedure_version), None)
        return [str(name) for name in version.documents] if version else []

    async def record(self, row: DocumentRow, lock: Lock, staged: Staged) -> tuple[DocumentRow, bool]:
        """`_record` for a file stored by another use case (the signed result, results.py)."""
        return await self._record(row, lock, staged)

    async def _record(self, row: DocumentRow, lock: Lock = docs.lock_dossier,
                      staged: Staged | None = None) -> tuple[DocumentRow, bool]:
        """Commit the row under the dossier's lock (or `lock`'s), or answer the row its Idempotency-Key already
        names; `staged` writes what goes with a new row (after the chain entry), in the same transaction."""
        try:
            async with self.sessions() as session, session.begin():
                dossier = await lock(session, row.dossier_id)
                if (earlier := await docs.by_key(session, row.dossier_id, row.idempotency_key)) is not None:
                    return _replayed(earlier, row), False
                if over_dossier_limit(await docs.held_bytes(session, row.dossier_id), row.size,
                                      self.limits.max_dossier_bytes):
                    raise TooLarge(self.limits.max_dossier_bytes)  # the object stays an orphan: swept later
                session.add(row)
                if dossier is not None:  # the scan's hash joins the dossier's chained record (issue 17 §4)
                    await chain.append(session, [_entry(ADDED, str(row.id), row, dossier, row.uploaded_at)])
                    if staged is not None:
                        await staged(session, row, dossier)
        except IntegrityError:  # the same key raced us (SQLite takes no row lock) and won
            async with self.sessions() as session:
                earlier = await docs.by_key(session, row.dossier_id, row.idempotency_key)
            if earlier is None:
                raise
            return _replayed(earlier, row), False
        return row, True

    async def _still_there(self, row: DocumentRow) -> None:
        """ADR 0013's residual race: an old orphan swept between the put's check and this row's commit."""
        if await self.store.exists(row.key):
            return
        async with self.sessions() as session, session.begin():
            dossier = await docs.lock_dossier(session, row.dossier_id)
            await docs.remove(session, row.id)
            if dossier is not None:  # the record keeps both: the scan was added, then taken back
                await chain.append(session, [_entry(REMOVED, str(uuid.uuid4()), row, dossier, self.clock.now())])
        raise ObjectVanished("the stored file vanished before its record was saved: send it again")

    # --- out: the manifest and the bytes, to the officers who may read them ------------------------------
    async def manifest(self, code: str, officer: Officer) -> list[DocumentRow]:
        async with self.sessions() as session:
            dossier = await self._for_reading(session, code, officer)
            return await docs.of_dossier(session, dossier.id)

    async def open(self, code: str, document_id: uuid.UUID,
                   officer: Officer) -> tuple[DocumentRow, AsyncIterator[bytes]]:
        """The scan's row and its bytes as a stream; each read is logged with the officer (never the name)."""
        async with self.sessions() as session:
            dossier = await self._for_reading(session, code, officer)
            row = await docs.one(session, document_id)
        return await self.read(row, dossier.id, f"dossier {code}", officer)

    async def read(self, row: DocumentRow | None, owner: uuid.UUID, where: str,
                   officer: Officer) -> tuple[DocumentRow, AsyncIterator[bytes]]:
        """`row`'s bytes as a stream, if it belongs to `owner` (a dossier, a draft or an online submission);
        every read is logged with the officer who asked (`where` names the owner, never a person or a file)."""
        if row is None or row.dossier_id != owner:
            raise NotFound("no such document")
        chunks = await self.store.get(row.key)  # a row never points at a missing object (ObjectNotFound: a bug)
        log.info("document %s of %s read by %s of %s", row.id, where, officer.sub, officer.agency)
        return row, chunks

    async def _for_reading(self, session: AsyncSession, code: str, officer: Officer) -> DossierRow:
        dossier = await dossiers.by_code(session, code)
        if dossier is None or not await self._readable(session, dossier, officer):
            raise NotFound(code)
        return dossier

    @staticmethod
    async def _readable(session: AsyncSession, dossier: DossierRow, officer: Officer) -> bool:
        readers = Readers(dossier.receiving_agency, await docs.acknowledged_by(session, dossier.id))
        return readers.admit(officer.agency, officer.roles)

    # --- the orphan sweep ----------------------------------------------------------------------------------
    async def referenced(self, keys: Collection[str]) -> set[str]:
        async with self.sessions() as session:
            return await docs.referenced(session, keys)

    async def sweep_once(self, now: datetime | None = None) -> SweepReport:
        """One pass: the rows of drafts left without a receipt for the grace period are dropped, then objects no
        row references, older than the grace period, are deleted (`now`: tests)."""
        grace = timedelta(seconds=self.limits.orphan_grace_seconds)
        async with self.sessions() as session, session.begin():
            dropped = await docs.drop_stale_drafts(session, (now or self.clock.now()) - grace)
        if dropped:
            log.info("draft sweep: %d scans of drafts never received dropped", dropped)
        return await sweep_orphans(self.store, self.referenced, grace=grace, now=now)

    def sweep_loop(self, every_seconds: float) -> Loop:
        async def document_sweep() -> None:
            while True:
                try:
                    await self.sweep_once()
                except Exception:  # the store or the database away: try again next round
                    log.exception("document sweep failed; trying again in %.0f s", every_seconds)
                await asyncio.sleep(every_seconds)

        return document_sweep


ADDED = "vn.onestop.document.added.v1"  # history entries of intake's own, never published as events
REMOVED = "vn.onestop.document.removed.v1"


def _entry(event_type: str, event_id: str, row: DocumentRow, dossier: DossierRow, at: datetime) -> dict[str, Any]:
    """The dossier's history entry of a scan added (or taken back): its reference and hash, never the file name."""
    return {
        "dossier_id": row.dossier_id, "event_id": event_id, "event_type": event_type, "source": "/onestop/intake",
        "at": at, "actor": row.uploaded_by, "agency": dossier.receiving_agency, "state": DeskState(dossier.state).code,
        "sub_state": dossier.sub_state, "handover": False, "note": "",
        "data": {"document_id": str(row.id), "kind": row.kind, "checklist_item": row.checklist_item,
                 "sha256": row.sha256,
                 "size": row.size, "media_type": row.media_type, "digitisation": row.digitisation,
                 "reused_from": str(row.reused_from) if row.reused_from else None},
    }


async def _draft_open(session: AsyncSession, draft: uuid.UUID) -> None:
    """A draft upload's commit: under the draft's lock, and only while no receipt took it (the receipt may have
    won the lock)."""
    await docs.lock_draft(session, draft)
    await _not_received(session, draft)


async def _not_received(session: AsyncSession, draft: uuid.UUID) -> None:
    if (dossier := await session.get(DossierRow, draft)) is not None:
        raise DraftReceived(dossier.code)


def _replayed(earlier: DocumentRow, now: DocumentRow) -> DocumentRow:
    if (earlier.sha256, earlier.checklist_item, earlier.reused_from, earlier.kind) != (
            now.sha256, now.checklist_item, now.reused_from, now.kind):
        raise IdempotencyConflict("this Idempotency-Key was already used for another file of this dossier")
    return earlier

