"""HTTP routes of processing: officers' work queues, case details with the control slip, and case actions.

Every route needs an officer token (401) with an officer role (403) and sees only cases its agency
holds, received or is competent for; any other case answers 404 exactly like a missing one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import WithJsonSchema

from libs.auth import Officer
from libs.auth.fastapi import require
from libs.runtime.answers import answers
from libs.runtime.params import Moment
from services.processing.actions import Action, _Action
from services.processing.cases import ActionForbidden, CaseNotFound, Cases, ChangedByAnotherOfficer
from services.processing.domain import CaseState, DomainError, ResultFileConflict
from services.processing.store import ConcurrentUpdate

OFFICER = require("specialist", "department_head", "desk_officer", "admin")
CurrentOfficer = Annotated[Officer, Depends(OFFICER)]
# The states a work queue may be filtered by, as `_state` reads them: the DVCQG code or the name.
StateName = Annotated[str, WithJsonSchema({"type": "string", "enum": [
    *(str(s.value) for s in CaseState), *(s.name.lower() for s in CaseState)]})]


def _cases(request: Request) -> Cases:
    cases: Cases = request.app.state.cases
    return cases


def _state(value: str) -> int:
    """A state as its DVCQG code ("4") or its name ("processing")."""
    try:
        return int(CaseState(int(value))) if value.isdigit() else int(CaseState[value.upper()])
    except (KeyError, ValueError) as exc:
        names = ", ".join(f"{s.value}/{s.name.lower()}" for s in CaseState)
        raise HTTPException(422, f"unknown state {value!r}; use one of {names}") from exc


def router() -> APIRouter:
    r = APIRouter(tags=["cases"], responses=answers(401, 403, 422))  # every route: an officer, well-formed

    @r.get("/cases")
    async def list_cases(
        request: Request,
        officer: CurrentOfficer,
        state: Annotated[list[StateName] | None, Query(description="state code or name; repeatable")] = None,
        due_before: Moment | None = None,
        agency: Annotated[str | None, Query(description="must be the officer's own agency")] = None,
        held: Annotated[bool, Query(description="only cases the agency holds now (its work queue)")] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        if agency is not None and agency != officer.agency:
            raise HTTPException(403, f"officers of {officer.agency} see only their own agency's cases")
        return await _cases(request).search(
            officer.agency, states=[_state(s) for s in state or []], due_before=due_before, held_only=held,
            limit=limit, offset=offset,
        )

    @r.get("/cases/{code}", responses=answers(404, why={404: "no such case in the officer's reach"}))
    async def get_case(request: Request, officer: CurrentOfficer, code: str) -> dict[str, Any]:
        try:
            return await _cases(request).view(code, officer.agency)
        except CaseNotFound as exc:
            raise HTTPException(404, f"no case with code {code}") from exc

    @r.post("/cases/{code}/actions", responses=answers(400, 403, 404, 409, 413, 422, why={
        403: "the officer's agency or roles may not take this action",
        404: "no such case in the officer's reach",
        409: "another officer changed the case after `seen_version`: what, by which role and agency; reload and "
             "decide again; or an electronic decision without an attached signed result file (or a paper one "
             "with it)",
        422: "the action is malformed, or the case as it is now does not allow it (the reason)",
    }))
    async def act(
        request: Request, officer: CurrentOfficer, code: str, action: Annotated[Action, Body()]
    ) -> dict[str, Any]:
        body: _Action = action
        try:
            return await _cases(request).act(code, officer, body)
        except CaseNotFound as exc:
            raise HTTPException(404, f"no case with code {code}") from exc
        except ActionForbidden as exc:
            raise HTTPException(403, str(exc)) from exc
        except ResultFileConflict as exc:  # the result file must be attached first: a conflict with the dossier
            raise HTTPException(409, exc.reason) from exc
        except DomainError as exc:  # the case as it is now does not allow it: the domain's own reason
            raise HTTPException(422, exc.reason) from exc
        except ChangedByAnotherOfficer as exc:
            raise HTTPException(409, str(exc)) from exc
        except ConcurrentUpdate as exc:  # background writes outran every re-decision (cases.ATTEMPTS)
            raise HTTPException(409, str(exc)) from exc

    return r
