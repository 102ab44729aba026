"""The dossier states as the desk sees them (trạng thái hồ sơ), with the DVCQG codes 1–10 (DOMAIN §1.5).

Processing owns the states of a case in the workflow; the desk mirrors them from processing's events
and owns the moves that happen at the counter: refusal (3), withdrawal (7) and hand-over (10)."""

from __future__ import annotations

from enum import StrEnum


class DeskState(StrEnum):
    SUBMITTED = "submitted"  # 1 Mới đăng ký
    RECEIVED = "received"  # 2 Được tiếp nhận
    REFUSED = "refused"  # 3 Không được tiếp nhận
    PROCESSING = "processing"  # 4 Đang xử lý
    SUPPLEMENT_REQUESTED = "supplement_requested"  # 5 Yêu cầu bổ sung giấy tờ
    PAYMENT_REQUESTED = "payment_requested"  # 6 Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = "withdrawn"  # 7 Công dân yêu cầu rút hồ sơ
    STOPPED = "stopped"  # 8 Dừng xử lý
    RESULT_READY = "result_ready"  # 9 Đã xử lý xong
    RETURNED = "returned"  # 10 Đã trả kết quả

    @property
    def code(self) -> int:
        return _CODES[self]

    @classmethod
    def from_code(cls, code: int) -> DeskState:
        for state, value in _CODES.items():
            if value == code:
                return state
        raise ValueError(f"unknown DVCQG state code {code}")

    @property
    def closed(self) -> bool:
        """Nothing more happens to the dossier; later workflow events no longer move it."""
        return self in CLOSED


_CODES = {state: i for i, state in enumerate(DeskState, start=1)}

CLOSED = frozenset({DeskState.REFUSED, DeskState.WITHDRAWN, DeskState.STOPPED, DeskState.RETURNED})

# The applicant may take the dossier back while it is being worked on (rút hồ sơ).
WITHDRAWABLE = frozenset({
    DeskState.RECEIVED, DeskState.PROCESSING, DeskState.SUPPLEMENT_REQUESTED, DeskState.PAYMENT_REQUESTED,
})

# Sub-state processing sets when the result has reached the receiving desk (ready to hand over).
AT_RETURN_DESK = "at_return_desk"
# Sub-state the desk sets when the citizen has handed in the papers a supplement request asked for.
CITIZEN_SUBMITTED = "citizen_submitted"  # Công dân đã gửi bổ sung
