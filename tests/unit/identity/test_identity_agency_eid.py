import pytest

from libs.identity import validate_agency_eid


@pytest.mark.parametrize("value", ["000.00.00.H55", "000.01.05.H55", "H55.242", "G01", "A" * 35])
def test_loose_form_accepts(value: str) -> None:
    assert validate_agency_eid(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("A" * 36, "at most 35"),
        ("000.00.00.h55", "capital letters"),
        ("000-00", "capital letters"),
        ("000..00", "single dots"),
        (".H55", "single dots"),
        ("H55.", "single dots"),
    ],
)
def test_loose_form_rejects(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_agency_eid(value)


@pytest.mark.parametrize("value", ["000.00.00.H55", "000.00.12.H55", "ABC.1D.00.G01"])
def test_strict_form_accepts(value: str) -> None:
    assert validate_agency_eid(value, strict=True) == value


@pytest.mark.parametrize(
    "value", ["H55.242", "000.00.00.55H", "000.00.00.HH5", "0000.00.00.H55", "000.00.00.H5"]
)
def test_strict_form_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="Decision 20/2020"):
        validate_agency_eid(value, strict=True)
