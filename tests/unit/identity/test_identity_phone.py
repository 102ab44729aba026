import pytest
from pydantic import BaseModel, ValidationError

from libs.identity import MobilePhone, is_valid_mobile, normalise_phone


@pytest.mark.parametrize(
    "value",
    [
        "0912345678",
        "+84912345678",
        "84912345678",
        "0912 345 678",
        "0912.345.678",
        "+84 91 234 5678",
        "(091) 234-5678",
        "+84 0912 345 678",
    ],
)
def test_forms_of_one_number_normalise_to_e164(value: str) -> None:
    assert normalise_phone(value) == "+84912345678"


@pytest.mark.parametrize(
    "prefix",
    [
        "032",
        "039",
        "052",
        "055",
        "056",
        "058",
        "059",
        "070",
        "076",
        "079",
        "081",
        "086",
        "087",
        "089",
        "090",
        "099",
    ],
)
def test_mobile_prefixes_accepted(prefix: str) -> None:
    assert normalise_phone(prefix + "1234567") == "+84" + prefix[1:] + "1234567"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("0912345678 ext 1", "only digits"),
        ("091234567", "wrong length or prefix"),
        ("09123456789", "wrong length or prefix"),
        ("0123456789", "wrong length or prefix"),
        ("02033870123", "landline"),
        ("912345678", "must start with"),
        ("+16502530000", "not a Vietnamese number"),
    ],
)
def test_invalid_numbers_say_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_phone(value)


def test_is_valid_mobile() -> None:
    assert is_valid_mobile("0987654321")
    assert not is_valid_mobile("02033870123")


def test_annotated_type_normalises() -> None:
    class Contact(BaseModel):
        phone: MobilePhone

    assert Contact(phone="0912.345.678").phone == "+84912345678"
    with pytest.raises(ValidationError, match="landline"):
        Contact(phone="0203 3870 123")
