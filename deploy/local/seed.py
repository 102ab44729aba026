"""Demo data for `make up`: a morning at the ward desk, posted through intake's public API. The dossiers filed
online come through the citizens' submission API and are accepted at the desk, except the last one, which waits
in the desk's queue of online submissions (issue 17 §2).

Idempotency keys make a second run add nothing."""

from __future__ import annotations

import sys

import httpx

from libs.auth import issue_token
from libs.settings import CommonSettings

INTAKE = "http://127.0.0.1:8001/api/v1"
WARD = "000.00.12.H55"
PEOPLE = [
    ("Nguyễn Thị Lan", "019190001234", "0912345678", "lan.nguyen@example.vn"),
    ("Trần Văn Minh", "006085004321", "0987654321", None),
    ("Hoàng Thị Mai", "019302007777", "+84 35 123 4567", "mai.hoang@example.vn"),
    ("Lê Đức Anh", "001099000555", None, "anh.le@example.vn"),
]
CHANNELS = ["in_person", "online", "post", "in_person"]


def dossiers(procedures: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for i, proc in enumerate(procedures[:12]):
        name, pid, phone, email = PEOPLE[i % len(PEOPLE)]
        channel = CHANNELS[i % len(CHANNELS)]
        out.append({
            "procedure_code": proc["code"],
            "channel": "in_person" if channel == "online" and proc["online_level"] == "none" else channel,
            "applicant": {"full_name": name, "personal_id": pid, "phone": phone, "email": email},
            "documents": [
                {"name": "Tờ khai", "digitised": True},
                {"name": "Giấy tờ kèm theo", "digitised": i % 3 != 0},
            ],
        })
    return out


def main() -> int:
    secret = CommonSettings().jwt_secret
    token = issue_token("demo-desk", ["desk_officer"], "000.00.12.H55", secret, name="Cán bộ một cửa")
    with (httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as desk,
          httpx.Client(timeout=10) as citizen):
        procedures = desk.get(f"{INTAKE}/procedures").json()
        ward = [p for p in procedures if "ward" in p.get("received_at", ["ward"])]
        bodies = dossiers(ward)
        last_online = max(i for i, body in enumerate(bodies) if body["channel"] == "online")
        for i, body in enumerate(bodies):
            if body["channel"] == "online":
                r = file_online(citizen, desk, i, body, accept=i != last_online)
            else:
                r = desk.post(f"{INTAKE}/dossiers", json=body, headers={"Idempotency-Key": f"demo-{i}"})
            if r.status_code not in (200, 201):
                print(f"seed: {body['procedure_code']}: {r.status_code} {r.text}", file=sys.stderr)
                return 1
            print(f"  {r.json().get('code') or 'chờ tiếp nhận'}  {r.json()['procedure_name']}")
    return 0


def file_online(citizen: httpx.Client, desk: httpx.Client, i: int, body: dict[str, object],
                accept: bool) -> httpx.Response:
    """The citizen files it online; the desk accepts it (or leaves it in its queue)."""
    papers = body["documents"]
    assert isinstance(papers, list)
    submission = {"receiving_agency": WARD, "procedure_code": body["procedure_code"], "applicant": body["applicant"],
                  "documents": [{"name": paper["name"]} for paper in papers]}
    r = citizen.post(f"{INTAKE}/public/submissions", json=submission,
                     headers={"Idempotency-Key": f"demo-online-{i}"})
    if r.status_code not in (200, 201) or not accept:
        return r
    return desk.post(f"{INTAKE}/submissions/{r.json()['id']}/acceptance")


if __name__ == "__main__":
    raise SystemExit(main())
