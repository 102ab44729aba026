"""Notice kinds (loại thông báo) and delivery channels (kênh gửi)."""

from __future__ import annotations

from enum import StrEnum


class NoticeKind(StrEnum):
    """Which citizen-facing event a notice tells about (docs/domain.md §1.2, §6.1)."""

    RECEIVED = "received"  # tiếp nhận hồ sơ, hẹn trả kết quả (Form 01)
    REFUSED = "refused"  # từ chối tiếp nhận (Form 03)
    SUPPLEMENT_REQUESTED = "supplement_requested"  # yêu cầu bổ sung, hoàn thiện hồ sơ (Form 02)
    TRANSFERRED = "transferred"  # chuyển cơ quan có thẩm quyền (liên thông)
    EXTENDED = "extended"  # xin lỗi và hẹn lại ngày trả kết quả (Form 04)
    RESULT_READY = "result_ready"  # có kết quả, mời nhận
    RESULT_POSTED = "result_posted"  # kết quả gửi qua bưu chính công ích
    STOPPED = "stopped"  # dừng giải quyết hồ sơ (Form 05, 2025 set)
    REJECTED = "rejected"  # trả lại hồ sơ / không đủ điều kiện giải quyết


class Channel(StrEnum):
    """How a notice reaches the citizen."""

    SMS = "sms"
    EMAIL = "email"
