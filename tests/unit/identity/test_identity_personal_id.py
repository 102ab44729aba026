import pytest
from pydantic import BaseModel, ValidationError

from libs.identity import PROVINCE_CODES, PersonalId, id_last4, parse_personal_id, validate_personal_id


def test_valid_id_is_returned_trimmed() -> None:
    assert validate_personal_id(" 001203012345 ") == "001203012345"


def test_province_list_has_the_63_issued_codes() -> None:
    assert len(PROVINCE_CODES) == 63
    assert {"001", "079", "096"} <= PROVINCE_CODES
    assert "003" not in PROVINCE_CODES


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("00120301234", "exactly 12 digits"),
        ("0012030123456", "exactly 12 digits"),
        ("00120301234a", "exactly 12 digits"),
        ("", "exactly 12 digits"),
        ("000203012345", "outside 001-096"),
        ("097203012345", "outside 001-096"),
        ("003203012345", "never issued"),
    ],
)
def test_invalid_ids_say_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_personal_id(value)


def test_unknown_province_accepted_when_relaxed() -> None:
    assert validate_personal_id("003203012345", known_provinces_only=False) == "003203012345"


def test_non_string_rejected() -> None:
    with pytest.raises(ValueError, match="string"):
        validate_personal_id(1203012345)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "sex", "year"),
    [
        ("001088012345", "male", 1988),
        ("079305123456", "female", 2005),
        ("001599000001", "female", 2199),
        ("001400000001", "male", 2100),
    ],
)
def test_parts(value: str, sex: str, year: int) -> None:
    parts = parse_personal_id(value)
    assert (parts.sex, parts.birth_year) == (sex, year)
    assert parts.province_code == value[:3] and parts.serial == value[6:]


def test_last4() -> None:
    assert id_last4("001203012345") == "2345"
    with pytest.raises(ValueError):
        id_last4("12345")


def test_annotated_type_gives_pydantic_error() -> None:
    class Applicant(BaseModel):
        personal_id: PersonalId

    assert Applicant(personal_id="001203012345").personal_id == "001203012345"
    with pytest.raises(ValidationError, match="exactly 12 digits"):
        Applicant(personal_id="123")
