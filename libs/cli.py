"""`onestop …`: the operator's command line."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import typer
from alembic import command

from libs.db import make_engine, upgrade
from libs.db.migrate import alembic_config
from libs.auth import issue_token
from libs.settings import REPO_ROOT, CommonSettings

app = typer.Typer(help="OneStop operator commands", no_args_is_help=True)
db = typer.Typer(help="Database migrations (one database per service)", no_args_is_help=True)
app.add_typer(db, name="db")

SERVICES = ("intake", "processing", "notifications", "reporting")


def _migrations(service: str) -> Path:
    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    return REPO_ROOT / "services" / service / "migrations"


@db.command("upgrade")
def db_upgrade(service: str, url: str = typer.Option(..., envvar="ONESTOP_DATABASE_URL")) -> None:
    """Apply the service's migrations to the database at URL (production runs this before start)."""
    asyncio.run(_upgrade_url(service, url))
    typer.echo(f"{service}: database at head")


@db.command("revision")
def db_revision(service: str, message: str = typer.Option(..., "-m")) -> None:
    """Autogenerate a migration for SERVICE from its models (diffed against a scratch SQLite)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/scratch.db"
        asyncio.run(_upgrade_url(service, url))
        cfg = alembic_config(_migrations(service), url)
        command.revision(cfg, message=message, autogenerate=True)


async def _upgrade_url(service: str, url: str) -> None:
    engine = make_engine(url)
    await upgrade(engine, _migrations(service))
    await engine.dispose()


@app.command("token")
def token(
    role: list[str] = typer.Option(..., "--role", help="desk_officer, specialist, department_head, report_viewer, admin"),
    agency: str = typer.Option(..., help="the officer's agency e-ID, e.g. 000.00.12.H55"),
    sub: str = typer.Option("dev-officer", help="officer id"),
    name: str = typer.Option("", help="display name"),
    hours: int = typer.Option(8, help="validity"),
) -> None:
    """Print a development bearer token (HS256, signed with ONESTOP_JWT_SECRET)."""
    typer.echo(issue_token(sub, role, agency, CommonSettings().jwt_secret, name=name, ttl_seconds=hours * 3600))


if __name__ == "__main__":
    app()
