"""A citizen's online submission (issue 17 §2) as the end-to-end tests make it: filed twice with one key, with a
scan uploaded under the submission's token, and accepted at the ward's desk."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

from tests.support.stack import Stack
from tests.unit.intake.certification.support import scanned_original

WARD = "000.00.12.H55"
BIRTH = "1.001193"  # Đăng ký khai sinh: partial online
APPLICANT = {"full_name": "Vũ Thị Mai", "personal_id": "019190008642", "phone": "0935123456"}
SENSITIVE = {APPLICANT["personal_id"], APPLICANT["phone"], "+84935123456"}
CITIZEN = {"X-Forwarded-For": "198.51.100.77"}  # a citizen's own address (the look-up limit is per address)
# Each filing from an address of its own: intake limits how many one anonymous address files (5, then 2 a minute).
_ADDRESSES = (f"203.0.113.{n}" for n in itertools.cycle(range(1, 255)))


def submission() -> dict[str, Any]:
    return {"receiving_agency": WARD, "procedure_code": BIRTH, "applicant": APPLICANT,
            "documents": [{"name": "Tờ khai đăng ký khai sinh"}, {"name": "Giấy chứng sinh"}]}


async def submit(client: httpx.AsyncClient, stack: Stack) -> dict[str, Any]:
    """Filed online, the same request sent twice (one submission), and the birth certificate's scan uploaded."""
    stack.sensitive |= SENSITIVE
    url, key = f"{stack.url('intake')}/api/v1/public/submissions", {"Idempotency-Key": str(uuid.uuid4())}
    citizen = {"X-Forwarded-For": next(_ADDRESSES)}
    first = await client.post(url, json=submission(), headers={**citizen, **key})
    again = await client.post(url, json=submission(), headers={**citizen, **key})
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    sent = first.json()
    assert again.json()["id"] == sent["id"] and sent["state"] == "awaiting_check"
    r = await client.post(f"{url}/{sent['id']}/documents", params={"item": 2}, content=scanned_original(1),
                          headers={**citizen, "X-Submission-Token": sent["upload_token"],
                                   "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return dict(sent)


async def accept(client: httpx.AsyncClient, stack: Stack, submission_id: str, desk: dict[str, str]) -> httpx.Response:
    return await client.post(f"{stack.url('intake')}/api/v1/submissions/{submission_id}/acceptance", headers=desk)
