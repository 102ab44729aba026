"""docs/asyncapi/ is generated from code; this fails when someone changes a contract and forgets it."""

from __future__ import annotations

import json

import pytest

from onestop import asyncapi


@pytest.mark.parametrize("service", asyncapi.SERVICES)
def test_committed_asyncapi_is_current(service: str) -> None:
    committed = asyncapi.path(service)
    assert committed.exists(), f"{committed} missing: run `make asyncapi`"
    assert committed.read_text(encoding="utf-8") == asyncapi.document(service), (
        f"{committed} is stale: run `make asyncapi` and commit the result"
    )


def test_intake_document_describes_dossier_received() -> None:
    doc = json.loads(asyncapi.document("intake"))
    assert doc["asyncapi"].startswith("3.")
    assert "DossierReceived" in doc["components"]["schemas"]
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {"onestop.intake.v1", "onestop.processing.v1"}  # publishes one, follows the other
