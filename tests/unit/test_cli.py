"""The operator CLI without a broker: calendar, config check, token (dlq: tests/integration/test_cli_dlq.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from libs.settings import REPO_ROOT, CommonSettings
from onestop.cli import app

runner = CliRunner()
CONFIG = REPO_ROOT / "deploy" / "config"


def test_calendar_lists_days_off_and_working_weekend_days() -> None:
    result = runner.invoke(app, ["calendar", "2026", "--config-dir", str(CONFIG)])
    assert result.exit_code == 0, result.output
    days_off, working = result.output.split("Working weekend days in 2026")
    assert "2026-09-02 Wed" in days_off and "2026-02-17 Tue" in days_off  # National Day, Tết
    assert "2026-01-03" not in days_off  # a plain Saturday is no announced day off
    assert "2026-08-22 Sat" in working  # the announced make-up Saturday


def test_config_check_passes_on_the_shipped_files() -> None:
    result = runner.invoke(app, ["config", "check"], env={"ONESTOP_CONFIG_DIR": str(CONFIG)})
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        "ok    catalogue", "ok    calendar", "ok    notifications"]


@pytest.mark.parametrize(
    ("file", "text", "problem"),
    [
        ("calendar.yaml", "office_periods: [{start: '13:00', end: '07:00'}]\n", "error calendar:"),
        ("procedures.yaml", "procedures: [{code: 1.1}]\n", "error catalogue:"),
        ("notifications.yaml", "retry: {nonsense: 1}\n", "error notifications:"),
    ],
)
def test_config_check_fails_with_the_error(tmp_path: Path, file: str, text: str, problem: str) -> None:
    shutil.copytree(CONFIG, tmp_path, dirs_exist_ok=True)
    (tmp_path / file).write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "--config-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert problem in result.output
    assert sum(line.startswith("ok ") for line in result.output.splitlines()) == 2


def test_token_is_signed_with_the_configured_secret() -> None:
    result = runner.invoke(app, ["token", "--role", "desk_officer", "--agency", "000.00.12.H55", "--hours", "1"])
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.output.strip(), CommonSettings().jwt_secret, algorithms=["HS256"],
                        options={"verify_aud": False})
    assert claims["roles"] == ["desk_officer"] and claims["agency"] == "000.00.12.H55"
    assert claims["exp"] - claims["iat"] == 3600


def test_token_refuses_unknown_roles() -> None:
    result = runner.invoke(app, ["token", "--role", "wizard", "--agency", "000.00.12.H55"])
    assert result.exit_code != 0


def test_redrive_needs_exactly_one_selector() -> None:
    result = runner.invoke(app, ["dlq", "redrive", "processing"])
    assert result.exit_code == 2 and "exactly one of --id" in result.output
