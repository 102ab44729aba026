"""SIGKILL between intake's commit and the relay's publish loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from libs.contracts import topics
from tests.e2e.test_walking_skeleton import case_of, dossier, notices_of, post, received_count
from tests.support.kafka import find_records
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.infra


async def test_kill9_after_commit_before_publish(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        before = await received_count(client, stack)
        # An intake whose relay is held back: the receipt commits, the event stays in the outbox.
        stack.kill9("intake")
        stack.start("intake", {"ONESTOP_INTAKE_RELAY_ENABLED": "false"})
        await stack.wait_ready("intake")
        r = await post(client, stack, dossier())
        assert r.status_code == 201, r.text
        body = r.json()
        await asyncio.sleep(2)
        assert await case_of(client, stack, body["code"]) is None, "the event left before the crash"
        stack.kill9("intake")

        stack.start("intake")  # relay on again: the outbox row is published now
        await stack.wait_ready("intake")
        case = await eventually(lambda: case_of(client, stack, body["code"]), timeout=15)
        assert case["dossier_id"] == body["id"]
        await eventually(lambda: _count_is(client, stack, before + 1), timeout=10)
        notices = await eventually(lambda: notices_of(client, stack, body["code"]))
        await asyncio.sleep(1)
        assert len(await notices_of(client, stack, body["code"])) == len(notices) == 2
        assert await received_count(client, stack) == before + 1

    records = await find_records(stack.kafka, topics.INTAKE, lambda r: r.key == body["id"].encode())
    assert len(records) == 1


async def _count_is(client: httpx.AsyncClient, stack: Stack, expected: int) -> bool:
    return await received_count(client, stack) == expected
