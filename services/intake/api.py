"""HTTP routes of the desk (Bộ phận Một cửa): catalogue, receipt, dossier view."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response

from libs.catalogue import CatalogueError
from services.intake.schemas import DossierIn, DossierOut
from services.intake.service import Desk, IdempotencyConflict
from services.intake.store import DossierRow


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def router() -> APIRouter:
    r = APIRouter(tags=["desk"])

    @r.get("/procedures")
    async def procedures(request: Request) -> list[dict[str, Any]]:
        desk = _desk(request)
        today = desk.rt.clock.now().date()
        return [v.model_dump(mode="json") for v in desk.catalogue.procedures(today)]

    @r.post("/dossiers", status_code=201, response_model=DossierOut)
    async def receive(
        request: Request,
        response: Response,
        body: DossierIn,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> DossierOut:
        desk = _desk(request)
        agency = body.receiving_agency or desk.rt.settings.default_agency  # type: ignore[attr-defined]
        try:
            row, created = await desk.receive(body, agency, idempotency_key)
        except CatalogueError as exc:
            raise HTTPException(422, str(exc)) from exc
        except IdempotencyConflict as exc:
            raise HTTPException(422, str(exc)) from exc
        if not created:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        return _out(row)

    @r.get("/dossiers/{code}", response_model=DossierOut)
    async def get_dossier(request: Request, code: str) -> DossierOut:
        desk = _desk(request)
        async with desk.rt.sessions() as session:
            row = await desk.get(session, code)
        if row is None:
            raise HTTPException(404, f"no dossier with code {code}")
        return _out(row)

    return r


def _out(row: DossierRow) -> DossierOut:
    return DossierOut(
        id=str(row.id), code=row.code, state=row.state, receiving_agency=row.receiving_agency,
        procedure_code=row.procedure_code, procedure_name=row.procedure.get("name", ""),
        channel=row.channel, received_at=row.received_at.astimezone(UTC),
        appointment_at=row.appointment_at.astimezone(UTC),
    )
