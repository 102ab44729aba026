"""Which agency's dossiers an officer sees and acts for at the desk: its own; every one only province-wide."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from libs.auth import Officer
from services.intake.api import _receiving_agency
from services.intake.desk import may_see

WARD, OTHER = "000.00.12.H55", "000.00.13.H55"


def officer(*roles: str, agency: str = WARD) -> Officer:
    return Officer(sub="x", name="x", roles=frozenset(roles), agency=agency)


def test_officers_and_admins_see_their_own_agency_only() -> None:
    for who in (officer("desk_officer"), officer("admin")):
        assert may_see(who, WARD) and not may_see(who, OTHER)


def test_the_province_wide_role_sees_every_agency_and_the_system_sees_all() -> None:
    assert may_see(officer("admin", "province_admin"), OTHER)
    assert may_see(officer("province_admin"), OTHER)
    assert may_see(None, OTHER)


def test_receiving_for_another_agency_needs_the_province_wide_role() -> None:
    assert _receiving_agency(officer("desk_officer"), None) == WARD
    assert _receiving_agency(officer("admin", "province_admin"), OTHER) == OTHER
    with pytest.raises(HTTPException) as refused:
        _receiving_agency(officer("admin"), OTHER)
    assert refused.value.status_code == 403
