"""What the fold takes from the recorded data (issue 17): scans from the receipt and supplement manifests, a signed
result file, and certification acts as facts of their own (never a dossier's row), live or replayed alike."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import create_engine, select

from libs.calendar import load_calendar
from libs.contracts import Envelope, Event
from libs.contracts import intake as di
from libs.contracts import processing as cp
from libs.contracts.common import (
    Channel,
    Contact,
    Digitisation,
    DocumentKind,
    DocumentManifest,
    DocumentSummary,
    ProcedureSnapshot,
    TimeLimitSnapshot,
)
from services.reporting.domain.certifications import Certified, certification_deltas
from services.reporting.domain.projection import Baked, apply, certification_batch, handled_events
from services.reporting.domain.state import FactState
from services.reporting.readmodel import apply_events
from services.reporting.store.tables import generation_tables

CAL = load_calendar()
BAKED = Baked("Asia/Ho_Chi_Minh", True)
WARD = "000.00.12.H55"
DOSSIER = uuid.UUID("7d1c0f5e-0000-4000-8000-000000000017")
AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def doc(item: int, state: Digitisation = Digitisation.DIGITISED, kind: DocumentKind = DocumentKind.PAPER
        ) -> DocumentManifest:
    return DocumentManifest(document_id=uuid.uuid4(), kind=kind, checklist_item=item, digitisation=state)


def received(manifest: list[DocumentManifest], total: int = 3, channel: Channel = Channel.IN_PERSON
             ) -> di.DossierReceived:
    procedure = ProcedureSnapshot(
        code="1.001193", version=1, name="Đăng ký khai sinh", field="Hộ tịch", level="ward", online_level="full",
        time_limit=TimeLimitSnapshot(value=3, unit="working_days"), cutoff_15h=True, supplement_policy="pause",
        competent_agency=WARD, steps=[])
    return di.DossierReceived(
        dossier_id=DOSSIER, code=f"{WARD}-261207-0001", agency=WARD, at=AT, receiving_agency=WARD,
        receiving_agency_name="UBND phường", channel=channel, received_at=AT, appointment_at=AT.replace(day=10),
        procedure=procedure, applicant=Contact(full_name="Nguyễn Văn A"), documents=DocumentSummary(total=total),
        manifest=manifest)


def fold(*events: Event) -> FactState:
    state = FactState(DOSSIER)
    for event in events:
        apply(state, event, Envelope.for_event(event, AT), CAL)
    return state


def ready(manifest: list[DocumentManifest], electronic: bool = True) -> cp.ResultReady:
    return cp.ResultReady(dossier_id=DOSSIER, code=f"{WARD}-261207-0001", actor="officer", agency=WARD, at=AT,
                          state=9, outcome="approved", appointment_at=AT, resolution="early", electronic=electronic,
                          manifest=manifest)


def certified(medium: str, copies: int, agency: str = WARD, at: datetime = AT,
              dossier: uuid.UUID | None = None) -> di.CopyCertified:
    return di.CopyCertified(dossier_id=dossier or uuid.uuid4(), code="01/2026 SCT/BS", agency=agency, actor="cb",
                            at=at, medium=medium, book_type="SCT/BS", number=1, year=2026, copies=copies,
                            certified_at=at)


def test_a_desk_dossier_is_digitised_when_its_scans_cover_every_listed_paper() -> None:
    first = received([doc(1), doc(2, Digitisation.REUSED_PAPER), doc(2)], total=3)
    state = fold(first)
    assert (state.documents_scanned, state.documents_reused, state.scanned_items) == (3, 1, "1,2")
    assert not state.fact_row().digitised  # items 1 and 2 for three listed papers
    supplement = di.SupplementSubmitted(dossier_id=DOSSIER, code=first.code, agency=WARD, at=AT,
                                        manifest=[doc(3, Digitisation.REUSED_RESULT), doc(0, kind=DocumentKind.RESULT)])
    row = fold(first, supplement).fact_row()
    assert (row.documents_scanned, row.documents_reused, row.items_scanned, row.digitised) == (4, 2, 3, True)
    assert fold(supplement, first).scanned_items == "1,2,3"  # the desk's events fold alike in either order


def test_an_unscanned_paper_counts_for_nothing_and_online_needs_a_non_empty_manifest() -> None:
    state = fold(received([doc(1, Digitisation.NOT_DIGITISED)], total=1))
    assert (state.documents_scanned, state.fact_row().digitised) == (0, False)
    assert fold(received([doc(4)], total=3, channel=Channel.ONLINE)).fact_row().digitised
    assert not fold(received([], total=3, channel=Channel.ONLINE)).fact_row().digitised


def test_a_result_is_electronic_only_with_its_signed_file() -> None:
    paper = received([])
    assert not fold(paper, ready([], electronic=True)).electronic_result  # the flag alone
    assert fold(paper, ready([doc(0, kind=DocumentKind.RESULT)])).electronic_result
    handed = di.ResultHandedOver(dossier_id=DOSSIER, code=paper.code, agency=WARD, at=AT, method="online",
                                 electronic_result=True)
    assert not fold(paper, ready([]), handed).electronic_result


def test_certification_acts_count_per_agency_local_day_and_medium() -> None:
    late_evening = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # 00:30 on 8 December in Hà Nội
    items: list[Any] = [(str(uuid.uuid4()), e, Envelope.for_event(e, AT)) for e in (
        certified("electronic", 2), certified("electronic", 1), certified("paper", 3),
        certified("paper", 1, at=late_evening), certified("electronic", 1, agency="000.00.13.H55"),
        certified("fax", 1))]  # not a medium: no fact
    assert certification_batch(items, BAKED) == {
        (WARD, date(2026, 12, 7), "electronic"): Certified(2, 3), (WARD, date(2026, 12, 7), "paper"): Certified(1, 3),
        (WARD, date(2026, 12, 8), "paper"): Certified(1, 1),
        ("000.00.13.H55", date(2026, 12, 7), "electronic"): Certified(1, 1)}
    assert certification_deltas([]) == {}
    assert di.CopyCertified in handled_events()


def test_apply_events_keeps_acts_out_of_the_dossier_rows_and_drops_repeats() -> None:
    engine = create_engine("sqlite://")
    paper = received([doc(1), doc(2), doc(3)])
    act = certified("electronic", 2, dossier=DOSSIER)  # served the dossier: still no fact row of its own
    alone = certified("paper", 5)
    items: list[Any] = [(str(uuid.uuid4()), e, Envelope.for_event(e, AT)) for e in (paper, act, alone)]
    with engine.begin() as conn:
        tables = generation_tables(1)
        tables.create(conn)
        applied, _ = apply_events(conn, tables, BAKED, items, CAL)
        again, _ = apply_events(conn, tables, BAKED, items, CAL)  # a redelivery
        facts = conn.execute(select(tables.facts.c.dossier_id, tables.facts.c.documents_scanned)).all()
        daily = conn.execute(select(tables.certified_daily)).all()
    assert (applied, again) == (3, 0)
    assert facts == [(DOSSIER, 3)]
    assert sorted(tuple(r) for r in daily) == [(WARD, date(2026, 12, 7), "electronic", 1, 2),
                                               (WARD, date(2026, 12, 7), "paper", 1, 5)]
