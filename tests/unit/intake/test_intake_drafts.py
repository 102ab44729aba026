"""The pure rules of a draft, the scans taken at the counter before the receipt (docs/domain.md §4.4): its id, and
which of its scans a receipt takes."""

from __future__ import annotations

import uuid

import pytest

from services.intake.domain.desk import InvalidInput
from services.intake.domain.documents import DRAFTS, check_drafts, draft_id

WARD, OTHER_WARD = "000.00.21.H55", "000.00.22.H55"
BIRTH = ["Tờ khai đăng ký khai sinh (theo mẫu)", "Giấy chứng sinh hoặc giấy tờ thay Giấy chứng sinh",
         "Giấy tờ tùy thân của người đi đăng ký (xuất trình)"]
DEATH = ["Tờ khai đăng ký khai tử (theo mẫu)", "Giấy báo tử hoặc giấy tờ thay Giấy báo tử",
         "Giấy tờ tùy thân của người đi đăng ký (xuất trình)"]


def test_a_draft_id_is_the_same_for_the_same_desk_and_key_and_differs_otherwise() -> None:
    first = draft_id(WARD, "receipt-1")
    assert first == draft_id(WARD, "receipt-1") == uuid.uuid5(DRAFTS, f"{WARD}:receipt-1")
    assert first.version == 5
    assert len({first, draft_id(OTHER_WARD, "receipt-1"), draft_id(WARD, "receipt-2")}) == 3


def test_a_receipt_takes_scans_of_its_own_checklist() -> None:
    check_drafts(BIRTH, [(1, BIRTH[0]), (2, BIRTH[1]), (2, BIRTH[1])])
    check_drafts(BIRTH, [])


def test_the_same_paper_at_the_same_place_of_another_procedure_is_taken() -> None:
    check_drafts(DEATH, [(3, BIRTH[2])])  # the ID paper shown: the same item, the same name


@pytest.mark.parametrize("scan", [(1, BIRTH[0]), (2, BIRTH[1]), (4, "Giấy khác"), (0, BIRTH[0])])
def test_a_scan_of_another_paper_is_refused_with_the_item(scan: tuple[int, str]) -> None:
    with pytest.raises(InvalidInput, match=f"item {scan[0]} .*new Idempotency-Key"):
        check_drafts(DEATH, [(3, DEATH[2]), scan])
