"""The seeded desk simulation (tests/unit/reporting/simulate.py) as contract events on real Kafka topics.

Each simulated lifecycle becomes what intake and processing would publish: the desk's receipt and the
workflow's opened case, supplement requests and completions (the workflow moves its appointment),
apologies, results, withdrawals (from both the desk and the workflow), stops, hand-overs and ratings; the scans
the receipt and each supplement announce (manifests), an electronic result's signed file, and one certification
act (paper, or electronic with an electronic result) per approved copy-certification dossier.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer

from libs.calendar import WorkCalendar
from libs.contracts import Envelope, Event, encode
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
from tests.unit.reporting.simulate import CATALOGUE, VN, SimDossier

NAMESPACE = uuid.UUID("6f0c1d1e-0000-4000-8000-000000000006")
PROCEDURES = {p.code: p for p in CATALOGUE}
COPY_PROCEDURE = "2.000815"  # chứng thực bản sao từ bản chính: one act in the book per approved dossier


def _doc(sim_id: str, n: int, item: int, state: Digitisation = Digitisation.DIGITISED,
         kind: DocumentKind = DocumentKind.PAPER) -> DocumentManifest:
    return DocumentManifest(document_id=uuid.uuid5(NAMESPACE, f"{sim_id}-doc-{n}"), kind=kind, checklist_item=item,
                            digitisation=state)


def receipt_scans(d: SimDossier) -> list[DocumentManifest]:
    """The receipt's manifest: items 1..digitised scanned, item 1 reused from an earlier dossier when 3+ papers."""
    b = d.base
    return [_doc(b.dossier_id, i, i, Digitisation.REUSED_PAPER if i == 1 and b.documents_total >= 3
                 else Digitisation.DIGITISED) for i in range(1, b.documents_digitised + 1)]


def certification_act(d: SimDossier) -> tuple[datetime, str, int] | None:
    """(when, medium, copies) of the dossier's certification act, if it has one."""
    b = d.base
    if b.procedure_code != COPY_PROCEDURE or d.resolved is None or d.resolved[1] != "approved":
        return None
    return d.resolved[0], "electronic" if d.electronic_result else "paper", max(1, b.e_certified_copies_requested)


def dossier_uuid(sim_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, sim_id)


def on_working_days(dossiers: Iterable[SimDossier], calendar: WorkCalendar) -> list[SimDossier]:
    """The simulation knows weekends only; a real desk is closed on holidays (Tết, 30/4–1/5…)."""
    return [d for d in dossiers if calendar.is_working_day(d.base.received_at.astimezone(VN).date())]


@dataclass(frozen=True)
class Timed:
    at: datetime
    event: Event
    event_id: str = ""  # the CloudEvents id; publishing the same Timed twice is a redelivery

    def __post_init__(self) -> None:
        if not self.event_id:
            object.__setattr__(self, "event_id", str(uuid.uuid4()))


def events_of(d: SimDossier) -> list[Timed]:
    """What the desk and the workflow publish for one simulated dossier, in time order."""
    b = d.base
    common = {"dossier_id": dossier_uuid(b.dossier_id), "code": b.code}
    desk = {**common, "agency": b.receiving_agency, "actor": "desk-officer"}

    def case(at: datetime, state: int, **kw: object) -> dict[str, object]:
        return {**common, "actor": "officer", "agency": b.competent_agency, "at": at, "state": state, **kw}

    proc = PROCEDURES[b.procedure_code]
    out: list[Timed] = []
    clock = b.appointment_at  # the workflow's appointment: moved by waits, replaced by an apology's date
    for at, kind in d.timeline():
        if kind == "refused":
            out.append(Timed(at, di.DossierRefused(
                **desk, at=at, receiving_agency=b.receiving_agency, receiving_agency_name="UBND phường",
                procedure_code=b.procedure_code, procedure_name=b.procedure_name, channel=Channel(b.channel),
                reason="Không thuộc thẩm quyền", applicant=Contact(full_name="Nguyễn Văn A"))))
        elif kind == "received":
            snapshot = ProcedureSnapshot(
                code=proc.code, version=1, name=proc.name, field=proc.field, level=proc.level,
                online_level=proc.online_level,
                time_limit=TimeLimitSnapshot(value=proc.days, unit="working_days" if proc.days else "same_day"),
                cutoff_15h=True, supplement_policy="pause", competent_agency=b.competent_agency, steps=[])
            out.append(Timed(at, di.DossierReceived(
                **desk, at=at, receiving_agency=b.receiving_agency, receiving_agency_name="UBND phường",
                channel=Channel(b.channel), received_at=b.received_at, appointment_at=b.appointment_at,
                procedure=snapshot, applicant=Contact(full_name="Nguyễn Văn A", phone="0912345678"),
                documents=DocumentSummary(total=b.documents_total, digitised=b.documents_digitised,
                                          e_certified_requested=b.e_certified_copies_requested),
                manifest=receipt_scans(d), online_payment=b.online_payment)))
            out.append(Timed(at, cp.CaseOpened(**case(
                at, 2, procedure_code=b.procedure_code, received_at=b.received_at, appointment_at=b.appointment_at,
                receiving_agency=b.receiving_agency, competent_agency=b.competent_agency, supplement_policy="pause",
                total_hours=8.0 * proc.days))))
            if b.competent_agency != b.receiving_agency:  # forwarded to the city (liên thông)
                out.append(Timed(at, cp.Transferred(**case(
                    at, 4, from_agency=b.receiving_agency, to_agency=b.competent_agency,
                    ack_due_at=at + timedelta(hours=2)))))
        elif kind == "supplement_requested":
            out.append(Timed(at, cp.SupplementRequested(**case(at, 5, items=["Bản sao CCCD"], reason="Thiếu",
                                                                 policy="pause"))))
        elif kind == "supplement_completed":
            start = next(s for s, e in d.waits if e == at)
            moved = clock + (at - start)
            out.append(Timed(at, di.SupplementSubmitted(**desk, at=at, documents=DocumentSummary(total=1,
                                                                                             digitised=1),
                                                        manifest=[_doc(b.dossier_id, 100 + len(out), 1)])))
            out.append(Timed(at, cp.SupplementReceived(**case(
                at, 4, policy="pause", waited_hours=(at - start).total_seconds() / 3600,
                previous_appointment_at=clock, appointment_at=moved))))
            clock = moved
        elif kind == "apology":
            assert d.apology is not None
            out.append(Timed(at, cp.DeadlineExtended(**case(at, 4, reason="Chờ xác minh",
                                                            previous_appointment_at=clock,
                                                            appointment_at=d.apology[1]))))
            clock = d.apology[1]
        elif kind in ("approved", "rejected"):
            decision = cp.Approved(**case(at, 9)) if kind == "approved" else cp.Rejected(**case(at, 9, reason="x"))
            out.append(Timed(at, decision))
            signed = [_doc(b.dossier_id, 0, 0, kind=DocumentKind.RESULT)] if d.electronic_result else []
            out.append(Timed(at, cp.ResultReady(**case(at, 9, outcome=kind, appointment_at=clock, resolution=None,
                                                        electronic=d.electronic_result, manifest=signed))))
            if (act := certification_act(d)) is not None:
                _, medium, copies = act
                out.append(Timed(at, di.CopyCertified(**desk, at=at, medium=medium, book_type="SCT/BS", number=1,
                                                      year=at.astimezone(VN).year, copies=copies,
                                                      certified_at=at)))
        elif kind == "withdrawn":
            out.append(Timed(at, di.DossierWithdrawn(**desk, at=at, reason="Công dân rút")))
            out.append(Timed(at, cp.Withdrawn(**case(at, 7, reason="Công dân rút"))))
        elif kind == "stopped":
            out.append(Timed(at, cp.Stopped(**case(at, 8, reason="Dừng"))))
        elif kind == "returned":
            out.append(Timed(at, di.ResultHandedOver(**desk, at=at, method="in_person",
                                                     electronic_result=d.electronic_result)))
            out.append(Timed(at, cp.CaseResultHandedOver(**case(at, 10, method="in_person"))))
        elif kind == "rated":
            assert d.rating is not None
            out.append(Timed(at, di.DossierRated(**desk, at=at, rating=d.rating[1])))
    return out


def all_events(dossiers: Iterable[SimDossier]) -> list[Timed]:
    timed = [t for d in dossiers for t in events_of(d)]
    return sorted(timed, key=lambda t: t.at)  # stable: one dossier's same-moment events keep their order


async def publish(bootstrap: str, events: Sequence[Timed], topic_of: dict[str, str]) -> int:
    """Publish as the services' relays do: CloudEvents headers, keyed by dossier id, idempotent producer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=20,
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = []
        for timed in events:
            headers = Envelope.for_event(timed.event, timed.at, timed.event_id).headers()
            futures.append(await producer.send(
                topic_of[timed.event.topic], value=encode(timed.event), key=timed.event.key,
                headers=[(k, v.encode()) for k, v in headers.items()]))
        await producer.flush()
        for future in futures:
            await future
    finally:
        await producer.stop()
    return len(events)
