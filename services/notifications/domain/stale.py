"""Stale notices (thông báo không còn ý nghĩa): skip a notice whose moment has passed."""

from __future__ import annotations

from enum import StrEnum

from services.notifications.domain.kinds import NoticeKind


class DossierState(StrEnum):
    """Dossier states as notifications understands them (docs/domain.md §1.5, DVCQG codes in comments)."""

    SUBMITTED = "submitted"  # 1 mới đăng ký
    RECEIVED = "received"  # 2 được tiếp nhận
    REFUSED = "refused"  # 3 không được tiếp nhận
    PROCESSING = "processing"  # 4 đang xử lý
    TRANSFERRED = "transferred"  # chuyển cơ quan có thẩm quyền (sub-state of 4)
    SUPPLEMENT_REQUESTED = "supplement_requested"  # 5 yêu cầu bổ sung giấy tờ
    AWAITING_PAYMENT = "awaiting_payment"  # 6 yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = "withdrawn"  # 7 công dân rút hồ sơ
    STOPPED = "stopped"  # 8 dừng xử lý
    RESULT_READY = "result_ready"  # 9 đã xử lý xong
    RESULT_DELIVERED = "result_delivered"  # 10 đã trả kết quả
    REJECTED = "rejected"  # không đủ điều kiện giải quyết


D = DossierState

# DVCQG state codes (1–10), as processing events carry them in `state`.
BY_CODE: dict[int, DossierState] = {
    1: D.SUBMITTED, 2: D.RECEIVED, 3: D.REFUSED, 4: D.PROCESSING, 5: D.SUPPLEMENT_REQUESTED,
    6: D.AWAITING_PAYMENT, 7: D.WITHDRAWN, 8: D.STOPPED, 9: D.RESULT_READY, 10: D.RESULT_DELIVERED,
}  # fmt: skip
_CLOSED = frozenset({D.WITHDRAWN, D.STOPPED, D.REJECTED, D.REFUSED, D.RESULT_DELIVERED})
_DONE = _CLOSED | {D.RESULT_READY}

# For each kind, the dossier states in which sending it would be pointless or misleading.
STALE_WHEN: dict[NoticeKind, frozenset[DossierState]] = {
    NoticeKind.RECEIVED: frozenset({D.WITHDRAWN, D.RESULT_DELIVERED}),
    NoticeKind.REFUSED: frozenset(),
    NoticeKind.SUPPLEMENT_REQUESTED: _DONE | {D.PROCESSING, D.TRANSFERRED, D.AWAITING_PAYMENT},
    NoticeKind.TRANSFERRED: _DONE,
    NoticeKind.EXTENDED: _DONE,
    NoticeKind.RESULT_READY: frozenset({D.WITHDRAWN, D.RESULT_DELIVERED}),
    NoticeKind.RESULT_POSTED: frozenset(),
    NoticeKind.STOPPED: frozenset(),
    NoticeKind.REJECTED: frozenset(),
}


def is_stale(kind: NoticeKind | str, dossier_state_now: DossierState | str) -> bool:
    """True when the dossier has moved on so far that the notice should be expired, not sent.
    Unknown states are never stale: a superfluous message is better than a missed one."""
    try:
        state = DossierState(dossier_state_now)
    except ValueError:
        return False
    return state in STALE_WHEN[NoticeKind(kind)]


def state_from_code(code: int) -> DossierState | None:
    """The dossier state for a DVCQG state code; None for a code we do not know (state left unchanged)."""
    return BY_CODE.get(code)
