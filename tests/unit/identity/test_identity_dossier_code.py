from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.identity import DossierCode, format_dossier_code, parse_dossier_code

EID = "000.00.12.H55"


def test_domain_example() -> None:
    assert format_dossier_code(EID, date(2026, 3, 16), 1) == "000.00.12.H55-260316-0001"
    assert parse_dossier_code("000.00.12.H55-260316-0001") == (EID, date(2026, 3, 16), 1)


def test_sequence_grows_past_four_digits() -> None:
    assert format_dossier_code(EID, date(2026, 3, 16), 12345).endswith("-12345")
    assert parse_dossier_code(f"{EID}-260316-12345").seq == 12345


def test_parse_is_case_and_space_tolerant() -> None:
    assert str(parse_dossier_code(" h55.242-251231-0042 ")) == "H55.242-251231-0042"


@pytest.mark.parametrize(
    ("agency", "day", "seq", "reason"),
    [
        (EID, date(2026, 1, 1), 0, "positive integer"),
        (EID, date(2026, 1, 1), -3, "positive integer"),
        (EID, date(1999, 12, 31), 1, "2000-2099"),
        ("bad eid", date(2026, 1, 1), 1, "agency e-ID"),
    ],
)
def test_format_rejects(agency: str, day: date, seq: int, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        format_dossier_code(agency, day, seq)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("000.00.12.H55-260316", "must look like"),
        ("000.00.12.H55-26-03-16-0001", "must look like"),
        ("000.00.12.H55-2603-0001", "6 digits"),
        ("000.00.12.H55-260230-0001", "not a calendar date"),
        ("000.00.12.H55-260316-001", "sequence"),
        ("000.00.12.H55-260316-00001", "sequence"),
        ("000.00.12.H55-260316-0000", "sequence"),
        ("000.00.12.H55-260316-00A1", "sequence"),
        ("000_00-260316-0001", "agency e-ID"),
    ],
)
def test_parse_rejects(code: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_dossier_code(code)


eids = st.from_regex(r"[A-Z0-9]{1,5}(\.[A-Z0-9]{1,5}){0,4}", fullmatch=True)


@given(eid=eids, day=st.dates(date(2000, 1, 1), date(2099, 12, 31)), seq=st.integers(1, 10**7))
def test_round_trip(eid: str, day: date, seq: int) -> None:
    code = format_dossier_code(eid, day, seq)
    parsed = parse_dossier_code(code)
    assert parsed == DossierCode(eid, day, seq)
    assert str(parsed) == code
    assert len(code.rsplit("-", 1)[1]) == max(4, len(str(seq)))
