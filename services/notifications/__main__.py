"""`python -m services.notifications`"""

from libs.runtime.main import serve
from libs.runtime.runtime import UnsafeSettings
from libs.settings import CommonSettings
from services.notifications.app import NAME, Settings, create_app


def main() -> None:
    settings = Settings()
    try:  # say plainly why, before uvicorn would print the same refusal inside a traceback
        settings.notifications_config(CommonSettings())
    except UnsafeSettings as refusal:
        raise SystemExit(str(refusal)) from None
    serve(NAME, settings, create_app)


if __name__ == "__main__":
    main()
