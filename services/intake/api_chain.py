"""The admin's check of a dossier's tamper-evident record (issue 17 §4): `GET /api/v1/admin/dossiers/{code}/chain`
recomputes the hash chain of the dossier's history and names the first entry that was changed. Admins see
their own agency's dossiers (the province-wide role every agency's); another agency's dossier is 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.runtime.answers import answers
from services.intake.chain import verify_dossier
from services.intake.desk import Desk, NotFound
from services.intake.domain.chain import Verdict

Admin = Annotated[Officer, Depends(require("admin"))]


class ChangedOut(BaseModel):
    id: int = Field(description="the history row's id")
    seq: int | None = Field(description="its place in the chain as stored")
    event_type: str
    at: datetime
    why: str


class ChainOut(BaseModel):
    intact: bool
    head: str | None = Field(description="SHA-256 of the last chained entry, as printed on the process-control "
                                         "slip; null before the dossier's chain starts")
    entries: int = Field(description="entries in the chain")
    before_chain: int = Field(description="entries written before the chain existed (not judged)")
    first_changed: ChangedOut | None


def chain_out(v: Verdict) -> ChainOut:
    changed = v.first_changed
    return ChainOut(
        intact=v.intact, head=v.head, entries=v.entries, before_chain=v.before_chain,
        first_changed=ChangedOut(id=changed.id, seq=changed.seq, event_type=changed.event_type, at=changed.at,
                                 why=changed.why) if changed else None,
    )


def router() -> APIRouter:
    r = APIRouter(tags=["admin"])

    @r.get("/admin/dossiers/{code}/chain", response_model=ChainOut, responses=answers(401, 403, 404, 422, why={
        403: "not an admin", 404: "no dossier with this code among the admin's agency's (every agency's for the "
                                  "province-wide role)"}))
    async def dossier_chain(request: Request, code: str, officer: Admin) -> ChainOut:
        """Recompute the dossier's hash chain (its desk and workflow events and its scans' hashes)."""
        desk: Desk = request.app.state.desk
        try:
            verdict = await verify_dossier(desk.sessions, code, officer)
        except NotFound as exc:
            raise HTTPException(404, f"no dossier with code {code}") from exc
        return chain_out(verdict)

    return r
