"""Notices of a dossier (what was sent, how, when, with what outcome) and, for admins, a retry."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.client import ServiceError
from services.console.web import DossierCode, Officer, Poster, console, render, require_role

CHANNELS = {"sms": "Tin nhắn SMS", "email": "Thư điện tử", "zalo": "Zalo"}
KINDS = {"received": "Tiếp nhận, hẹn trả (Mẫu 01)", "refused": "Từ chối tiếp nhận (Mẫu 03)",
         "supplement_requested": "Yêu cầu bổ sung (Mẫu 02)", "transferred": "Chuyển cơ quan có thẩm quyền",
         "extended": "Xin lỗi, hẹn lại (Mẫu 04)", "result_ready": "Có kết quả, mời nhận",
         "result_posted": "Kết quả gửi qua bưu chính", "stopped": "Dừng giải quyết", "rejected": "Trả lại hồ sơ"}
STATUSES = {"created": "Chờ gửi", "sending": "Đang gửi", "delivered": "Đã gửi thành công",
            "temporary_failure": "Lỗi tạm thời, sẽ gửi lại", "permanent_failure": "Không gửi được",
            "technical_failure": "Lỗi kỹ thuật", "expired": "Không còn cần gửi"}
OFFICERS = ("desk_officer", "specialist", "department_head")


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/notices/{code}")
    async def notices(request: Request, session: Officer, code: DossierCode, error: str = "") -> Response:
        require_role(session, *OFFICERS)
        rows = await console(request).services.json("notifications", "GET", "/notices", session.token,
                                                     params={"dossier": code})
        return render(request, "notices.html", code=code, notices=rows, channels=CHANNELS, kinds=KINDS,
                      statuses=STATUSES, error=error, done=request.query_params.get("done", ""),
                      can_retry="admin" in session.officer.roles)

    @r.post("/notices/{code}/{notice_id}/retry")
    async def retry(request: Request, session: Poster, code: DossierCode, notice_id: uuid.UUID) -> Response:
        require_role(session, "admin")
        try:
            await console(request).services.json("notifications", "POST", f"/notices/{notice_id}/retry",
                                                  session.token)
        except ServiceError as exc:
            if exc.status != 409:
                raise
            return await notices(request, session, code, error=exc.message)
        return RedirectResponse(f"/notices/{code}?done=retry", status_code=303)

    return r
