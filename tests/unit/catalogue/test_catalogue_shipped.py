"""The shipped demo configuration (deploy/config/agencies.yaml, procedures.yaml)."""

import json
from datetime import date

import pytest

from libs.catalogue import Catalogue, CatalogueError, NotInCatalogueError, load_catalogue
from libs.identity import validate_agency_eid

CITY, WARD, LAND_OFFICE, DEPT_AGRI = "000.00.00.H55", "000.00.12.H55", "000.01.05.H55", "000.00.05.H55"
DAY = date(2025, 7, 1)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_counts(catalogue: Catalogue) -> None:
    assert len(catalogue.procedures(DAY, level="ward")) >= 16
    assert len(catalogue.procedures(DAY, level="city")) >= 3
    assert len(catalogue.agencies("ward")) >= 3
    assert len(catalogue.agencies("department")) >= 3


def test_all_eids_have_the_decision_20_form(catalogue: Catalogue) -> None:
    for agency in catalogue.agencies():
        validate_agency_eid(agency.eid, strict=True)


def test_tree(catalogue: Catalogue) -> None:
    assert catalogue.agency(CITY).kind == "city"
    assert CITY not in {a.eid for a in catalogue.children(CITY)}
    assert {WARD, DEPT_AGRI} <= {a.eid for a in catalogue.children(CITY)}
    assert [a.eid for a in catalogue.children(DEPT_AGRI)] == [LAND_OFFICE]
    assert [a.eid for a in catalogue.ancestors(LAND_OFFICE)] == [DEPT_AGRI, CITY]
    assert catalogue.ancestors(CITY) == []
    assert [a.eid for a in catalogue.descendants(DEPT_AGRI)] == [DEPT_AGRI, LAND_OFFICE]
    assert len(catalogue.descendants(CITY)) == len(catalogue.agencies())


def test_unknown_agency(catalogue: Catalogue) -> None:
    with pytest.raises(NotInCatalogueError, match="unknown agency"):
        catalogue.agency("000.00.99.H55")
    with pytest.raises(LookupError):
        catalogue.children("000.00.99.H55")


def test_version_selection_by_date(catalogue: Catalogue) -> None:
    assert catalogue.procedure_version("1.013225", date(2025, 7, 1)).version == 1
    old = catalogue.procedure_version("1.013225", date(2026, 6, 30))
    new = catalogue.procedure_version("1.013225", date(2026, 7, 1))
    assert (old.version, old.time_limit.value, old.time_limit.unit) == (1, 15, "days")
    assert (new.version, new.time_limit.value, new.time_limit.unit) == (2, 7, "working_days")


def test_nothing_in_force_before_the_reform(catalogue: Catalogue) -> None:
    with pytest.raises(NotInCatalogueError, match="no version in force on 2025-06-30"):
        catalogue.procedure_version("1.001193", date(2025, 6, 30))
    assert catalogue.procedures(date(2025, 6, 30)) == []
    with pytest.raises(NotInCatalogueError, match="unknown procedure"):
        catalogue.procedure_version("9.999999", DAY)


def test_certified_copy_rules(catalogue: Catalogue) -> None:
    copy = catalogue.procedure_version("2.000815", DAY)
    assert copy.e_certified_copy_eligible and copy.cutoff_15h
    assert copy.time_limit.unit == "same_day"
    assert [f.amount_vnd for f in copy.fees] == [2000, 1000, 200000]


def test_ward_procedure_snapshot(catalogue: Catalogue) -> None:
    snap = catalogue.snapshot("1.001193", DAY, WARD)
    assert json.loads(json.dumps(snap)) == snap
    assert snap["competent_agency"] == WARD == snap["receiving_agency"]
    assert (snap["code"], snap["version"], snap["effective_from"]) == ("1.001193", 1, "2025-07-01")
    assert snap["time_limit"] == {"value": 0.0, "unit": "same_day"}
    assert {s["agency"] for s in snap["steps"]} == {WARD}


def test_city_procedure_snapshot(catalogue: Catalogue) -> None:
    snap = catalogue.snapshot("1.013831", date(2025, 9, 1), WARD)
    assert json.loads(json.dumps(snap, ensure_ascii=False)) == snap
    assert snap["competent_agency"] == LAND_OFFICE and snap["financial_obligation"] is True
    agencies = [s["agency"] for s in snap["steps"]]
    assert agencies[0] == agencies[-1] == WARD and LAND_OFFICE in agencies
    assert sum(s["share"] for s in snap["steps"]) == pytest.approx(1.0)
    assert snap["steps"][-1]["share"] == 0


def test_snapshot_checks_who_may_receive(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match=r"a department cannot receive procedure '1\.001193'"):
        catalogue.snapshot("1.001193", DAY, DEPT_AGRI)
    assert catalogue.snapshot("1.013831", DAY, CITY)["competent_agency"] == LAND_OFFICE
