"""Builders of intake/processing events for the notifications tests (unit, integration, e2e, chaos)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from libs.contracts import Envelope, Event, encode, topics
from libs.contracts import intake as ie
from libs.contracts import processing as pe
from libs.contracts.common import Channel, Contact, ProcedureSnapshot, StepSnapshot, TimeLimitSnapshot

WARD = "000.00.12.H55"
WARD_NAME = "UBND phường Nguyễn Thị Minh Khai"
CITY = "000.00.00.H55"
T0 = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
PROCEDURE = ProcedureSnapshot(
    code="1.001193", version=1, name="Đăng ký khai sinh", field="Hộ tịch", level="ward", online_level="full",
    time_limit=TimeLimitSnapshot(value=1, unit="working_days"), cutoff_15h=True, supplement_policy="pause",
    competent_agency=WARD, steps=[StepSnapshot(code="receive", name="Tiếp nhận", owner="receiving",
                                               role="desk_officer", share=1.0)],
)


def new_dossier(seq: int = 1) -> tuple[uuid.UUID, str]:
    return uuid.uuid4(), f"{WARD}-260316-{seq:04d}"


def received(
    dossier_id: uuid.UUID, code: str, at: datetime = T0, phone: str | None = "0912345678",
    email: str | None = "lan@example.vn", agency: str = WARD, name: str = "Nguyễn Thị Lan",
) -> ie.DossierReceived:
    return ie.DossierReceived(
        dossier_id=dossier_id, code=code, agency=agency, actor="desk1", at=at, receiving_agency=agency,
        receiving_agency_name=WARD_NAME, channel=Channel.IN_PERSON, received_at=at,
        appointment_at=at + timedelta(days=1), procedure=PROCEDURE,
        applicant=Contact(full_name=name, phone=phone, email=email),
    )


def refused(dossier_id: uuid.UUID, code: str, at: datetime = T0, reason: str = "Thiếu tờ khai") -> ie.DossierRefused:
    return ie.DossierRefused(
        dossier_id=dossier_id, code=code, agency=WARD, actor="desk1", at=at, receiving_agency=WARD,
        receiving_agency_name=WARD_NAME, procedure_code=PROCEDURE.code, procedure_name=PROCEDURE.name,
        channel=Channel.IN_PERSON, reason=reason,
        applicant=Contact(full_name="Nguyễn Thị Lan", phone="0912345678", email="lan@example.vn"),
    )


def case(cls: type[pe.CaseEvent], dossier_id: uuid.UUID, code: str, at: datetime, state: int, **fields: Any) -> Any:
    return cls(dossier_id=dossier_id, code=code, actor="officer1", agency=WARD, at=at, state=state, **fields)


def transferred(d: uuid.UUID, code: str, at: datetime) -> pe.Transferred:
    return case(pe.Transferred, d, code, at, 4, from_agency=WARD, to_agency=CITY, ack_due_at=at + timedelta(hours=2))


def supplement_requested(d: uuid.UUID, code: str, at: datetime) -> pe.SupplementRequested:
    return case(pe.SupplementRequested, d, code, at, 5, items=["Giấy chứng sinh (bản chính)"],
                reason="Hồ sơ còn thiếu giấy tờ", policy="pause")


def supplement_received(d: uuid.UUID, code: str, at: datetime) -> pe.SupplementReceived:
    return case(pe.SupplementReceived, d, code, at, 4, policy="pause", waited_hours=2.0,
                previous_appointment_at=at + timedelta(days=1), appointment_at=at + timedelta(days=2))


def extended(d: uuid.UUID, code: str, at: datetime) -> pe.DeadlineExtended:
    return case(pe.DeadlineExtended, d, code, at, 4, reason="cần xác minh thêm thông tin",
                previous_appointment_at=at + timedelta(days=1), appointment_at=at + timedelta(days=4))


def rejected(d: uuid.UUID, code: str, at: datetime, reason: str = "không thuộc đối tượng") -> pe.Rejected:
    return case(pe.Rejected, d, code, at, 4, reason=reason)


def result_ready(d: uuid.UUID, code: str, at: datetime, outcome: str = "approved") -> pe.ResultReady:
    return case(pe.ResultReady, d, code, at, 9, outcome=outcome, appointment_at=at + timedelta(hours=4),
                resolution="on_time")


def handed_over(d: uuid.UUID, code: str, at: datetime, method: str = "post") -> pe.CaseResultHandedOver:
    return case(pe.CaseResultHandedOver, d, code, at, 10, method=method)


def stopped(d: uuid.UUID, code: str, at: datetime, reason: str = "người yêu cầu đề nghị dừng") -> pe.Stopped:
    return case(pe.Stopped, d, code, at, 8, reason=reason)


def overdue(d: uuid.UUID, code: str, at: datetime) -> pe.Overdue:
    return case(pe.Overdue, d, code, at, 4, deadline=at, responsible_agency=WARD)


def envelope(event: Event, at: datetime | None = None) -> Envelope:
    return Envelope.for_event(event, at or datetime.now(UTC), str(uuid.uuid4()))


def consumed(event: Event, env: Envelope | None = None, at: datetime | None = None) -> Any:
    """The event as the consumer hands it to a batch handler (libs.messaging.Delivered; no record, no span)."""
    from libs.messaging import Delivered

    return Delivered(event, env or envelope(event, at), None, {})


def record(event: Event, at: datetime | None = None) -> tuple[str, bytes, bytes, dict[str, str]]:
    """(topic, key, value, headers) of the event as the owning service's relay would publish it."""
    env = envelope(event, at or getattr(event, "at", None))
    return event.topic, event.key, encode(event), env.headers()


TOPICS = (topics.INTAKE, topics.PROCESSING)


async def commit_at_end(bootstrap: str, group_id: str, topic_names: tuple[str, ...] = TOPICS) -> None:
    """Start a fresh consumer group at the end of the topics (it would otherwise replay the whole shared log)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition

    from libs.messaging import ensure_topics

    # On a fresh broker (a clean CI run) this test may come before any service created the topics.
    await ensure_topics(bootstrap, list(topic_names), 6, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)  # its public API reads partition metadata
    await producer.start()
    try:
        tps = [TopicPartition(t, p) for t in topic_names for p in sorted(await producer.partitions_for(t))]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.commit(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def publish_many(bootstrap: str, events: list[Event]) -> None:
    """Publish events as their owners' relays would (CloudEvents binary mode, keyed by dossier), in one go."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for event in events:
            topic, key, value, headers = record(event)
            futures.append(await producer.send(topic, value=value, key=key,
                                               headers=[(k, v.encode()) for k, v in headers.items()]))
        await producer.flush()
        for fut in futures:
            await fut
    finally:
        await producer.stop()
