"""`python -m services.intake`"""

from libs.runtime.main import serve
from libs.runtime.runtime import UnsafeSettings
from libs.settings import CommonSettings
from services.intake.app import NAME, Settings, create_app, storage_settings


def main() -> None:
    try:  # say plainly why, before uvicorn would print the same refusal inside a traceback
        storage_settings(CommonSettings())
    except UnsafeSettings as refusal:
        raise SystemExit(str(refusal)) from None
    serve(NAME, Settings(), create_app)


if __name__ == "__main__":
    main()
