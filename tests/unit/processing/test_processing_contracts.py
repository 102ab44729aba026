"""Processing's domain events and the contract events published for them (ADR 0011): two definitions,
kept alike by these checks rather than by matching names by eye."""

from __future__ import annotations

from dataclasses import fields

import pytest
from processing_support import CITY, at, at_city, open_case

from libs.contracts import REGISTRY, topics
from libs.contracts import processing as cp
from libs.contracts.processing import contract_type
from services.processing.domain import EVENT_TYPES, CaseEvent
from services.processing.staging import contract_of


def _contracts() -> set[type[cp.CaseEvent]]:
    return {cls for cls in REGISTRY.values() if issubclass(cls, cp.CaseEvent)}


@pytest.mark.parametrize("domain", EVENT_TYPES, ids=lambda cls: cls.type)
def test_each_domain_event_has_a_contract_with_the_same_fields(domain: type[CaseEvent]) -> None:
    """Contracts ignore unknown fields: a domain field missing from its contract would vanish unnoticed."""
    contract = REGISTRY[contract_type(domain.type)]
    assert contract.topic == topics.PROCESSING
    assert set(contract.model_fields) == {f.name for f in fields(domain)} | {"state_label"}


def test_every_processing_contract_is_published_for_one_domain_event() -> None:
    assert {REGISTRY[contract_type(cls.type)] for cls in EVENT_TYPES} == _contracts()
    assert len(EVENT_TYPES) == len(_contracts())


def test_the_published_event_carries_what_the_domain_event_says() -> None:
    case, events = open_case()
    events += at_city(case, at(16, 10))
    assert case.holder_agency == CITY
    for event in events:
        published = contract_of(event)
        data = event.to_dict()
        assert published.model_dump(mode="json") == {k: v for k, v in data.items() if k != "type"}
