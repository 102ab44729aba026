from __future__ import annotations

import pytest

from services.notifications.domain import gsm7_length, is_gsm7, sms_parts, to_gsm7_unaccented


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Hồ sơ đã được tiếp nhận", "Ho so da duoc tiep nhan"),
        ("ĐĂNG KÝ KHAI SINH", "DANG KY KHAI SINH"),
        ("Nguyễn Thị Minh Khai, Bắc Kạn", "Nguyen Thi Minh Khai, Bac Kan"),
        ("Ủy ban – “phường” … ơ ư", 'Uy ban - "phuong" ... o u'),
        ("giá 50.000₫ / tab\there", "gia 50.000? / tab here"),
        ("[a] {b} ~c~ €", "[a] {b} ~c~ €"),
    ],
)
def test_to_gsm7_unaccented(given: str, expected: str) -> None:
    result = to_gsm7_unaccented(given)
    assert result == expected
    assert is_gsm7(result)


def test_every_vietnamese_letter_becomes_ascii() -> None:
    letters = "aàảãáạăằẳẵắặâầẩẫấậđeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵ"
    converted = to_gsm7_unaccented(letters + letters.upper())
    assert converted.isascii() and "?" not in converted


def test_extension_characters_count_twice() -> None:
    assert gsm7_length("abc") == 3
    assert gsm7_length("[]{}") == 8
    assert gsm7_length("€") == 2


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # 160 septets
        ("[" * 81, 2),  # 162 septets
        ("a" * 158 + "[", 1),  # 160 septets
        ("a" * 159 + "[", 2),  # 161 septets
        ("a" * 152 + "[" + "a" * 152, 3),  # 306 septets, but the escape pair is never split: 152 | 153 | 1
        ("ư" * 70, 1),  # not GSM-7 → UCS-2, 70 per single SMS
        ("ư" * 71, 2),  # 67 per part
    ],
)
def test_sms_parts(text: str, parts: int) -> None:
    assert sms_parts(text) == parts
