"""Each kind of configuration error names the file, the entry and the field."""

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.catalogue import CatalogueError, load_catalogue

STEPS: list[dict[str, Any]] = [
    {"code": "receive", "name": "Tiếp nhận", "owner": "receiving", "role": "desk_officer", "share": 0.2},
    {"code": "review", "name": "Thẩm định", "owner": "competent", "role": "specialist", "share": 0.8},
    {"code": "return", "name": "Trả kết quả", "owner": "receiving", "role": "desk_officer", "share": 0},
]
VERSION: dict[str, Any] = {
    "version": 1,
    "effective_from": date(2025, 7, 1),
    "name": "Đăng ký khai sinh",
    "field": "Hộ tịch",
    "level": "ward",
    "online_level": "partial",
    "time_limit": {"value": 0, "unit": "same_day"},
    "cutoff_15h": True,
    "supplement_policy": "restart",
    "competent": "receiving_ward",
    "steps": STEPS,
}
CITY_VERSION: dict[str, Any] = {
    **VERSION,
    "name": "Tách thửa hoặc hợp thửa đất",
    "field": "Đất đai",
    "level": "city",
    "time_limit": {"value": 12, "unit": "working_days"},
    "competent": "000.00.05.H55",
}
AGENCIES: list[dict[str, Any]] = [
    {"eid": "000.00.00.H55", "name": "UBND tỉnh Thái Nguyên", "short_name": "UBND tỉnh", "kind": "city"},
    {
        "eid": "000.00.05.H55",
        "name": "Sở Nông nghiệp và Môi trường",
        "short_name": "Sở NN&MT",
        "kind": "department",
        "parent": "000.00.00.H55",
    },
    {
        "eid": "000.00.12.H55",
        "name": "UBND phường Đức Xuân",
        "short_name": "Phường Đức Xuân",
        "kind": "ward",
        "parent": "000.00.00.H55",
    },
]
PROCEDURES: list[dict[str, Any]] = [
    {"code": "1.001193", "versions": [VERSION]},
    {"code": "1.012784", "versions": [CITY_VERSION]},
]


def write(tmp_path: Path, agencies: Any = None, procedures: Any = None) -> tuple[Path, Path]:
    a_path, p_path = tmp_path / "agencies.yaml", tmp_path / "procedures.yaml"
    a_data = {"agencies": AGENCIES if agencies is None else agencies}
    p_data = {"procedures": PROCEDURES if procedures is None else procedures}
    a_path.write_text(yaml.safe_dump(a_data, allow_unicode=True), encoding="utf-8")
    p_path.write_text(yaml.safe_dump(p_data, allow_unicode=True), encoding="utf-8")
    return a_path, p_path


def load_error(tmp_path: Path, agencies: Any = None, procedures: Any = None) -> CatalogueError:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(*write(tmp_path, agencies, procedures))
    return info.value


def procedure_with(**changes: Any) -> list[dict[str, Any]]:
    procedures = copy.deepcopy(PROCEDURES)
    procedures[0]["versions"][0].update(changes)
    return procedures


def test_minimal_files_load(tmp_path: Path) -> None:
    catalogue = load_catalogue(*write(tmp_path))
    assert len(catalogue.procedures(date(2025, 7, 1))) == 2


def test_missing_file(tmp_path: Path) -> None:
    a_path, _ = write(tmp_path)
    with pytest.raises(CatalogueError, match=r"nope\.yaml: file not found"):
        load_catalogue(a_path, tmp_path / "nope.yaml")


def test_bad_yaml(tmp_path: Path) -> None:
    a_path, p_path = write(tmp_path)
    p_path.write_text("procedures: [\n", encoding="utf-8")
    with pytest.raises(
        CatalogueError,
        match=r"procedures\.yaml: not valid YAML at line 2, column 1: expected the node content",
    ):
        load_catalogue(a_path, p_path)


def test_wrong_top_level(tmp_path: Path) -> None:
    a_path, p_path = write(tmp_path)
    p_path.write_text("procedure: []\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="expected a top-level 'procedures:' list"):
        load_catalogue(a_path, p_path)
    p_path.write_text("procedures: []\nextra: 1\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="unknown top-level keys"):
        load_catalogue(a_path, p_path)


def test_entry_not_a_mapping(tmp_path: Path) -> None:
    err = load_error(tmp_path, procedures=[*PROCEDURES, "oops"])
    assert "procedure (entry 3): expected a mapping" in str(err)


def test_field_type_error_names_file_entry_field(tmp_path: Path) -> None:
    err = load_error(tmp_path, procedures=procedure_with(level="district"))
    message = str(err)
    assert "procedures.yaml: procedure '1.001193' (entry 1): field versions[0].level:" in message
    assert "'ward' or 'city'" in message and "district" in message
    assert err.field == "versions[0].level"


def test_missing_field(tmp_path: Path) -> None:
    procedures = procedure_with()
    del procedures[0]["versions"][0]["supplement_policy"]
    assert "field versions[0].supplement_policy: Field required" in str(
        load_error(tmp_path, procedures=procedures)
    )


def test_unknown_field(tmp_path: Path) -> None:
    err = load_error(tmp_path, procedures=procedure_with(cutoff_15=True))
    assert "field versions[0].cutoff_15: Extra inputs are not permitted" in str(err)


def test_unquoted_code(tmp_path: Path) -> None:
    procedures = copy.deepcopy(PROCEDURES)
    procedures[0]["code"] = 1.001193
    err = load_error(tmp_path, procedures=procedures)
    assert "field code: procedure code must be quoted" in str(err)
    assert len(err.problems) == 1


def test_shares_must_sum_to_one(tmp_path: Path) -> None:
    steps = copy.deepcopy(STEPS)
    steps[1]["share"] = 0.7
    err = load_error(tmp_path, procedures=procedure_with(steps=steps))
    assert "field versions[0].steps: step shares must sum to 1.0, got 0.9" in str(err)


def test_shares_within_tolerance_pass(tmp_path: Path) -> None:
    steps = copy.deepcopy(STEPS)
    steps[0]["share"], steps[1]["share"] = 0.1, 0.9000000001
    load_catalogue(*write(tmp_path, procedures=procedure_with(steps=steps)))


def test_zero_share_only_last(tmp_path: Path) -> None:
    steps = copy.deepcopy(STEPS)
    steps[0]["share"], steps[1]["share"] = 0, 1.0
    err = load_error(tmp_path, procedures=procedure_with(steps=steps))
    assert "only the last step may have share 0, not: receive" in str(err)


def test_duplicate_step_code(tmp_path: Path) -> None:
    steps = copy.deepcopy(STEPS)
    steps[1]["code"] = "receive"
    assert "repeated: receive" in str(load_error(tmp_path, procedures=procedure_with(steps=steps)))


def test_time_limit_value_fits_unit(tmp_path: Path) -> None:
    err = load_error(tmp_path, procedures=procedure_with(time_limit={"value": 2, "unit": "same_day"}))
    assert "field versions[0].time_limit.value: must be 0 when unit is same_day" in str(err)


def test_level_and_competent_agree(tmp_path: Path) -> None:
    err = load_error(tmp_path, procedures=procedure_with(competent="000.00.05.H55"))
    assert "field versions[0].competent: level 'ward' does not match competent '000.00.05.H55'" in str(err)
    assert err.field == "versions[0].competent"


def test_overlapping_versions(tmp_path: Path) -> None:
    procedures = copy.deepcopy(PROCEDURES)
    later = {**VERSION, "version": 2, "effective_from": date(2026, 1, 1)}
    procedures[0]["versions"] = [{**VERSION, "effective_to": date(2026, 1, 1)}, later]
    err = load_error(tmp_path, procedures=procedures)
    assert "procedure '1.001193' (entry 1): field versions: version 1 (effective_to 2026-01-01)" in str(err)
    assert "overlaps version 2" in str(err)


def test_open_ended_version_followed_by_another(tmp_path: Path) -> None:
    procedures = copy.deepcopy(PROCEDURES)
    procedures[0]["versions"] = [VERSION, {**VERSION, "version": 2, "effective_from": date(2026, 1, 1)}]
    assert "overlaps version 2" in str(load_error(tmp_path, procedures=procedures))


def test_versions_dated_back_to_front(tmp_path: Path) -> None:
    procedures = procedure_with(effective_from=date(2026, 1, 1), effective_to=date(2025, 1, 1))
    assert "field versions[0].effective_to: 2025-01-01 is before effective_from 2026-01-01" in str(
        load_error(tmp_path, procedures=procedures)
    )


def test_consecutive_versions_load_and_select(tmp_path: Path) -> None:
    procedures = copy.deepcopy(PROCEDURES)
    later = {**VERSION, "version": 2, "effective_from": date(2026, 1, 1), "name": "Đăng ký khai sinh (mới)"}
    procedures[0]["versions"] = [{**VERSION, "effective_to": date(2025, 12, 31)}, later]
    catalogue = load_catalogue(*write(tmp_path, procedures=procedures))
    assert catalogue.procedure_version("1.001193", date(2025, 12, 31)).version == 1
    assert catalogue.procedure_version("1.001193", date(2026, 1, 1)).name == "Đăng ký khai sinh (mới)"


def test_duplicate_procedure_code(tmp_path: Path) -> None:
    err = load_error(tmp_path, procedures=[*PROCEDURES, PROCEDURES[0]])
    assert "procedures.yaml: procedure '1.001193': field code: appears more than once" in str(err)


def test_competent_agency_must_exist(tmp_path: Path) -> None:
    procedures = copy.deepcopy(PROCEDURES)
    procedures[1]["versions"][0]["competent"] = "000.00.99.H55"
    err = load_error(tmp_path, procedures=procedures)
    assert "procedures.yaml: procedure '1.012784' version 1: field competent: competent agency" in str(err)
    assert "does not exist" in str(err)


def test_competent_agency_must_be_a_department(tmp_path: Path) -> None:
    procedures = copy.deepcopy(PROCEDURES)
    procedures[1]["versions"][0]["competent"] = "000.00.12.H55"
    err = load_error(tmp_path, procedures=procedures)
    assert "competent agency '000.00.12.H55' is a ward, expected a department" in str(err)


def test_bad_agency_eid(tmp_path: Path) -> None:
    agencies = copy.deepcopy(AGENCIES)
    agencies[2]["eid"] = "000.00.12.h55"
    err = load_error(tmp_path, agencies=agencies)
    assert "agencies.yaml: agency '000.00.12.h55' (entry 3): field eid: agency e-ID may contain only" in str(
        err
    )


def test_parent_must_exist(tmp_path: Path) -> None:
    agencies = copy.deepcopy(AGENCIES)
    agencies[2]["parent"] = "000.00.01.H55"
    err = load_error(tmp_path, agencies=agencies)
    assert (
        "agencies.yaml: agency '000.00.12.H55': field parent: parent agency '000.00.01.H55' does not exist"
        in str(err)
    )


def test_ward_needs_parent(tmp_path: Path) -> None:
    agencies = copy.deepcopy(AGENCIES)
    del agencies[2]["parent"]
    err = load_error(tmp_path, agencies=agencies)
    assert "agency '000.00.12.H55' (entry 3): field parent: a ward must name its parent agency" in str(err)


def test_parent_cycle(tmp_path: Path) -> None:
    agencies = copy.deepcopy(AGENCIES)
    agencies += [
        {
            "eid": "000.01.05.H55",
            "name": "A",
            "short_name": "A",
            "kind": "department",
            "parent": "000.02.05.H55",
        },
        {
            "eid": "000.02.05.H55",
            "name": "B",
            "short_name": "B",
            "kind": "department",
            "parent": "000.01.05.H55",
        },
    ]
    err = load_error(tmp_path, agencies=agencies)
    assert "agency '000.01.05.H55': field parent: the parent chain forms a cycle" in str(err)
    assert {p.entry for p in err.problems} == {"agency '000.01.05.H55'", "agency '000.02.05.H55'"}


def test_duplicate_agency(tmp_path: Path) -> None:
    err = load_error(tmp_path, agencies=[*AGENCIES, AGENCIES[2]])
    assert "agency '000.00.12.H55': field eid: appears more than once" in str(err)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    procedures = procedure_with(level="district", online_level="sometimes")
    assert len(load_error(tmp_path, procedures=procedures).problems) == 2
