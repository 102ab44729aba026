"""The citizen's pages (no sign-in, phone-first): look-up by dossier code + last 4 digits of the personal ID.

Only what intake's public look-up returns is shown, and it carries no personal data. The citizen's address is
forwarded so intake's per-address rate limit applies to each citizen, not to the console as a whole."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.client import ServiceError
from services.console.web import console, render

# The plain-Vietnamese timeline: each state the citizen may see, in order, and what it means for them.
TIMELINE = [
    (2, "Đã tiếp nhận", "Hồ sơ của bạn đã được tiếp nhận tại Bộ phận Một cửa."),
    (4, "Đang giải quyết", "Cơ quan có thẩm quyền đang xem xét hồ sơ."),
    (9, "Đã có kết quả", "Kết quả đã có; bạn sẽ được báo khi có thể nhận."),
    (10, "Đã trả kết quả", "Bạn đã nhận kết quả. Cảm ơn bạn."),
]
PAUSES = {5: "Cần bổ sung giấy tờ: vui lòng mang giấy tờ được yêu cầu đến Bộ phận Một cửa.",
          6: "Cần thực hiện nghĩa vụ tài chính (nộp phí, thuế) trước khi tiếp tục.",
          3: "Hồ sơ không được tiếp nhận.", 7: "Hồ sơ đã được rút theo yêu cầu.", 8: "Hồ sơ đã dừng xử lý."}


def timeline(state: int) -> list[dict[str, Any]]:
    reached = {2: 0, 4: 1, 5: 1, 6: 1, 9: 2, 10: 3}.get(state, 0)
    return [{"title": t, "text": x, "done": i < reached or (i == reached and state == 10),
             "current": i == reached and state != 10} for i, (_, t, x) in enumerate(TIMELINE)]


def router() -> APIRouter:
    r = APIRouter(prefix="/tra-cuu")

    @r.get("")
    async def lookup(request: Request, code: str = "", id_last4: str = "") -> Response:
        if not code and not id_last4:
            return render(request, "citizen/lookup.html", code="", error="")
        if not id_last4.isdigit() or len(id_last4) != 4 or not code.strip():
            return render(request, "citizen/lookup.html", status=422, code=code,
                          error="Nhập mã hồ sơ và đúng 4 chữ số cuối của số định danh cá nhân.")
        client = request.client.host if request.client else ""
        try:
            status = await console(request).services.json(
                "intake", "GET", "/public/lookup", params={"code": code.strip(), "id_last4": id_last4},
                headers={"X-Forwarded-For": client})
        except ServiceError as exc:
            messages = {404: "Không tìm thấy hồ sơ với mã và 4 chữ số này.",
                        429: "Bạn đã tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút."}
            if exc.status not in messages:
                raise
            return render(request, "citizen/lookup.html", status=exc.status, code=code, error=messages[exc.status])
        return render(request, "citizen/status.html", s=status, steps=timeline(status["state_code"]),
                      pause=PAUSES.get(status["state_code"], ""))

    return r
