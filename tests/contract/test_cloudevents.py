"""Every event model round-trips through the official CloudEvents SDK (Kafka binary mode)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings import kafka as ce_kafka

from libs.contracts import REGISTRY, ContractError, Envelope, decode, encode, read_envelope
from tests.contract.samples import sample_event


@pytest.mark.parametrize("ce_type", sorted(REGISTRY))
def test_sdk_reads_what_we_write(ce_type: str) -> None:
    event = sample_event(REGISTRY[ce_type])
    envelope = Envelope.for_event(event, datetime(2026, 3, 16, 2, 30, tzinfo=UTC))
    headers = {k: v.encode() for k, v in envelope.headers().items()}
    message = ce_kafka.KafkaMessage(headers=headers, key=event.key, value=encode(event))

    parsed = ce_kafka.from_binary_event(message)

    assert parsed.get_type() == ce_type
    assert parsed.get_id() == envelope.id
    assert parsed.get_source() == event.source
    assert parsed.get_subject() == event.code
    assert parsed.get_datacontenttype() == "application/json"
    assert parsed.get_time() == envelope.time
    assert parsed.get_data() == json.loads(encode(event))
    # and back into our own model, unchanged
    assert decode(read_envelope(envelope.headers()), encode(event)) == event


def test_unknown_type_is_skipped_not_failed() -> None:
    event = sample_event(REGISTRY["vn.onestop.dossier.received.v1"])
    headers = Envelope.for_event(event, datetime.now(UTC)).headers() | {"ce_type": "vn.onestop.future.v9"}
    assert decode(read_envelope(headers), encode(event)) is None


@pytest.mark.parametrize(
    "headers, value",
    [
        ({}, b"{}"),  # no CloudEvents headers at all
        (
            {"ce_specversion": "0.3", "ce_id": "1", "ce_source": "/x", "ce_type": "t", "ce_time": "2026-01-01T00:00Z"},
            b"{}",
        ),
        ({"ce_specversion": "1.0", "ce_id": "1", "ce_source": "/x", "ce_type": "vn.onestop.dossier.received.v1",
          "ce_time": "yesterday"}, b"{}"),
    ],
)
def test_bad_headers_are_contract_errors(headers: dict[str, str], value: bytes) -> None:
    with pytest.raises(ContractError):
        read_envelope(headers)


def test_payload_violating_the_contract_is_a_contract_error() -> None:
    headers = Envelope(
        id=str(uuid.uuid4()), source="/onestop/intake", type="vn.onestop.dossier.received.v1",
        time=datetime.now(UTC), subject="X",
    ).headers()
    with pytest.raises(ContractError, match="violates its contract"):
        decode(read_envelope(headers), b'{"dossier_id": "not-a-uuid"}')
