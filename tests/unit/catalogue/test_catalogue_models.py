"""The pure models and Catalogue, built without files."""

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from libs.catalogue import Agency, Catalogue, CatalogueError, Procedure, ProcedureVersion

STEPS: list[dict[str, Any]] = [
    {"code": "receive", "name": "Tiếp nhận", "owner": "receiving", "role": "desk_officer", "share": 0.25},
    {"code": "review", "name": "Thẩm định", "owner": "competent", "role": "specialist", "share": 0.75},
]
VERSION: dict[str, Any] = {
    "code": "1.004873",
    "version": 1,
    "effective_from": "2025-07-01",
    "name": "Cấp Giấy xác nhận tình trạng hôn nhân",
    "field": "Hộ tịch",
    "level": "ward",
    "online_level": "full",
    "time_limit": {"value": 3, "unit": "working_days"},
    "supplement_policy": "pause",
    "competent": "receiving_ward",
    "steps": STEPS,
}
CITY = Agency(eid="000.00.00.H55", name="UBND tỉnh Thái Nguyên", short_name="UBND tỉnh", kind="city")
WARD = Agency(
    eid="000.00.12.H55", name="UBND phường Đức Xuân", short_name="Đức Xuân", kind="ward", parent=CITY.eid
)


def test_versions_inherit_the_procedure_code() -> None:
    raw = {k: v for k, v in VERSION.items() if k != "code"}
    procedure = Procedure.model_validate({"code": "1.004873", "versions": [raw]})
    assert procedure.versions[0].code == "1.004873"


def test_version_with_other_code_rejected() -> None:
    with pytest.raises(ValidationError, match=r"has code 1\.004873, not 1\.001193"):
        Procedure.model_validate({"code": "1.001193", "versions": [VERSION]})


def test_in_force_bounds_are_inclusive() -> None:
    version = ProcedureVersion.model_validate({**VERSION, "effective_to": "2025-12-31"})
    assert version.in_force(date(2025, 7, 1)) and version.in_force(date(2025, 12, 31))
    assert not version.in_force(date(2025, 6, 30)) and not version.in_force(date(2026, 1, 1))


def test_ward_resolved_procedure_is_received_only_at_wards() -> None:
    with pytest.raises(ValidationError, match="received_at: must be"):
        ProcedureVersion.model_validate({**VERSION, "received_at": ["ward", "city"]})


def test_models_are_immutable() -> None:
    with pytest.raises(ValidationError):
        CITY.name = "x"


def test_catalogue_checks_without_files() -> None:
    procedure = Procedure.model_validate({"code": "1.004873", "versions": [VERSION]})
    catalogue = Catalogue([CITY, WARD], [procedure])
    assert catalogue.snapshot("1.004873", date(2025, 7, 1), WARD.eid)["competent_agency"] == WARD.eid
    orphan = Agency(
        eid="000.00.13.H55",
        name="UBND phường Bắc Kạn",
        short_name="Bắc Kạn",
        kind="ward",
        parent="000.00.01.H55",
    )
    with pytest.raises(CatalogueError, match=r"^agencies: agency '000.00.13.H55': field parent") as info:
        Catalogue([CITY, orphan], [])
    assert info.value.source == "agencies"
