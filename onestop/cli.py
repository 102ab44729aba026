"""`onestop …`: the operator's command line (docs/operations.md, docs/deploy.md).

    onestop db upgrade SERVICE            apply migrations (ONESTOP_DATABASE_URL)
    onestop dlq list SERVICE [--limit N]  what sits on onestop.dlq.SERVICE
    onestop dlq redrive SERVICE --id ID | --all
    onestop calendar YEAR                 days off and working weekend days
    onestop config check                  catalogue, calendar and notifications config load
    onestop token --role … --agency …     a development bearer token
    onestop verify CODE                   recompute a dossier's hash chain (intake's database)

Kafka: ONESTOP_KAFKA_BOOTSTRAP, and where the broker enforces ACLs the operator's principal
(ONESTOP_KAFKA_SECURITY_PROTOCOL, ONESTOP_KAFKA_SASL_USERNAME/PASSWORD, ONESTOP_KAFKA_SSL_CAFILE: ADR 0014)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import date
from pathlib import Path

import typer
from alembic import command

from libs.auth import issue_token
from libs.calendar import load_calendar
from libs.catalogue import load_catalogue
from libs.contracts import topics
from libs.db import make_engine, make_session_factory, upgrade
from libs.db.migrate import alembic_config
from libs.messaging.dlq import Sealer
from libs.messaging.redrive import DeadLetter, NoSuchTopic, latest_per_event, read_dead_letters, redrive
from libs.messaging.security import kafka_security
from libs.observability import mask_pii
from libs.settings import CommonSettings
from onestop.registry import NAMES
from onestop.registry import service as registered
from services.intake.api_chain import chain_out
from services.intake.chain import verify_dossier
from services.intake.desk import NotFound
from services.intake.domain.chain import Verdict
from services.notifications.adapters.config import load_config as load_notifications_config
from services.reporting import rebuild as reporting_rebuild

app = typer.Typer(help="OneStop operator commands", no_args_is_help=True)
db = typer.Typer(help="Database migrations (one database per service)", no_args_is_help=True)
dlq = typer.Typer(help="Dead-letter topics onestop.dlq.<service>: look, re-drive after the fix", no_args_is_help=True)
config = typer.Typer(help="Configuration files (deploy/config or ONESTOP_CONFIG_DIR)", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(dlq, name="dlq")
app.add_typer(config, name="config")

BOOTSTRAP = typer.Option(CommonSettings().kafka_bootstrap, "--bootstrap", envvar="ONESTOP_KAFKA_BOOTSTRAP",
                         help="Kafka bootstrap servers")
CONFIG_DIR = typer.Option(CommonSettings().config_dir, "--config-dir", envvar="ONESTOP_CONFIG_DIR",
                          help="folder with agencies.yaml, procedures.yaml, calendar.yaml, notifications.yaml")


def _migrations(service: str) -> Path:
    if service not in NAMES:
        raise typer.BadParameter(f"service must be one of {', '.join(NAMES)}")
    return registered(service).migrations


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


# --- dead letters --------------------------------------------------------------------------------------------


def _letters(service: str, bootstrap: str, limit: int | None = None) -> list[DeadLetter]:
    try:
        return asyncio.run(read_dead_letters(bootstrap, topics.dlq(service), limit,
                                             security=kafka_security(CommonSettings())))
    except NoSuchTopic:
        typer.echo(f"no dead-letter topic {topics.dlq(service)} on {bootstrap}", err=True)
        raise typer.Exit(1) from None


def _row(d: DeadLetter) -> dict[str, str | int]:
    return {"partition": d.partition, "offset": d.offset, "source": d.source, "ce_type": d.ce_type,
            "ce_id": d.ce_id, "dossier": d.headers.get("ce_subject", ""),
            "failed_at": d.headers.get("dlq_failed_at", ""), "error": mask_pii(d.error)}


@dlq.command("list")
def dlq_list(
    service: str,
    limit: int = typer.Option(100, help="show at most this many (oldest first)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
    bootstrap: str = BOOTSTRAP,
) -> None:
    """Dead-lettered events of SERVICE: offset, source topic/partition/offset, type, id, error."""
    letters = _letters(service, bootstrap, limit)
    for d in letters:
        row = _row(d)
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            error = " ".join(str(row["error"]).split())[:200]
            typer.echo(f"{d.partition}:{d.offset}  {d.source}  {d.ce_type}  {d.ce_id}  {error}")
    if not as_json:
        typer.echo(f"{len(letters)} dead letter(s) on {topics.dlq(service)}", err=True)


@dlq.command("redrive")
def dlq_redrive(
    service: str,
    event_id: str = typer.Option(None, "--id", help="the ce_id of the event to re-drive"),
    everything: bool = typer.Option(False, "--all", help="re-drive every dead letter of SERVICE"),
    bootstrap: str = BOOTSTRAP,
) -> None:
    """Publish dead letters again to their source topic, with their original headers (same ce_id)."""
    if (event_id is None) == (not everything):
        raise typer.BadParameter("give exactly one of --id CE_ID and --all")
    letters = _letters(service, bootstrap)
    chosen = latest_per_event(d for d in letters if everything or d.ce_id == event_id)
    if not chosen:
        typer.echo(f"no dead letter with ce_id {event_id} on {topics.dlq(service)}", err=True)
        raise typer.Exit(1)
    common = CommonSettings()
    sealer = Sealer(common.dlq_key.get_secret_value())
    sent = asyncio.run(redrive(bootstrap, chosen, security=kafka_security(common), sealer=sealer))
    for d in sent:
        typer.echo(f"re-driven {d.ce_id} ({d.ce_type}) to {d.source_topic}")
    if len(sent) < len(chosen):
        typer.echo(f"{len(chosen) - len(sent)} letter(s) without a source topic were left", err=True)
        raise typer.Exit(1)


# --- configuration -------------------------------------------------------------------------------------------


@app.command("calendar")
def calendar(year: int, config_dir: Path = CONFIG_DIR) -> None:
    """Days off of YEAR (holidays, announced days off) and weekend days made working days."""
    cal = load_calendar(config_dir / "calendar.yaml")
    typer.echo(f"Days off in {year} ({cal.config.country}, {cal.config.timezone}):")
    for day, name in cal.days_off(year):
        typer.echo(f"  {day.isoformat()} {day:%a}  {name}")
    typer.echo(f"Working weekend days in {year} (ngày làm bù):")
    for day, name in cal.working_rest_days(year):
        typer.echo(f"  {day.isoformat()} {day:%a}  {name}")


@config.command("check")
def config_check(config_dir: Path = CONFIG_DIR) -> None:
    """Load every configuration file as the services do; exit 1 with the first error."""
    checks = {
        "catalogue": lambda: _catalogue_summary(config_dir),
        "calendar": lambda: _calendar_summary(config_dir),
        "notifications": lambda: _notifications_summary(config_dir),
    }
    failed = False
    for name, check in checks.items():
        try:
            typer.echo(f"ok    {name}: {check()}")
        except Exception as exc:
            failed = True
            typer.echo(f"error {name}: {exc}", err=True)
    if failed:
        raise typer.Exit(1)


def _catalogue_summary(config_dir: Path) -> str:
    cat = load_catalogue(config_dir / "agencies.yaml", config_dir / "procedures.yaml")
    return f"{len(cat.agencies())} agencies, {len(cat.procedures(date.today()))} procedures in force today"


def _calendar_summary(config_dir: Path) -> str:
    cal = load_calendar(config_dir / "calendar.yaml")
    return f"{cal.config.country} {cal.config.timezone}, {cal.hours_per_day:g} office hours a day"


def _notifications_summary(config_dir: Path) -> str:
    # The notifications service owns the shape of its file; the CLI only asks it to load.
    load_notifications_config(config_dir / "notifications.yaml")
    return "policy, retry, e-mail and SMS settings valid"


@app.command("token")
def token(
    role: list[str] = typer.Option(
        ..., "--role", help="desk_officer, specialist, department_head, report_viewer, admin"
    ),
    agency: str = typer.Option(..., help="the officer's agency e-ID, e.g. 000.00.12.H55"),
    sub: str = typer.Option("dev-officer", help="officer id"),
    name: str = typer.Option("", help="display name"),
    hours: int = typer.Option(8, help="validity"),
) -> None:
    """Print a development bearer token (HS256, signed with ONESTOP_JWT_SECRET)."""
    typer.echo(issue_token(sub, role, agency, CommonSettings().jwt_secret, name=name, ttl_seconds=hours * 3600))


@app.command("rebuild")
def rebuild(
    service: str,
    no_swap: bool = typer.Option(False, "--no-swap", help="build the new generation but keep serving the old"),
    batch: int | None = typer.Option(None, help="records per transaction while replaying"),
    grace: float | None = typer.Option(None, help="seconds before the old generation's tables are dropped"),
) -> None:
    """Rebuild a service's read model from offset 0 into a fresh generation and swap it in (reporting)."""
    if service != "reporting":
        raise typer.BadParameter("only reporting has a rebuildable read model")
    argv = (["--no-swap"] if no_swap else []) + (["--batch", str(batch)] if batch else [])
    argv += ["--grace", str(grace)] if grace is not None else []
    raise typer.Exit(reporting_rebuild.main(argv))


# --- the tamper-evident record (issue 17 §4) ----------------------------------------------------------------


@app.command("verify")
def verify(
    code: str,
    url: str = typer.Option(..., envvar=["ONESTOP_INTAKE_DATABASE_URL", "ONESTOP_DATABASE_URL"],
                            help="intake's database"),
    as_json: bool = typer.Option(False, "--json", help="the verdict as one JSON object"),
) -> None:
    """Recompute the hash chain of dossier CODE's history in intake's database; exit 1 naming the first entry
    that was changed, 2 when there is no such dossier."""
    try:
        verdict = asyncio.run(_verify(code, url))
    except NotFound:
        typer.echo(f"no dossier with code {code}", err=True)
        raise typer.Exit(2) from None
    out = chain_out(verdict)
    if as_json:
        typer.echo(out.model_dump_json())
    else:
        typer.echo(f"{code}: {'intact' if out.intact else 'CHANGED'} — {out.entries} chained entries, "
                   f"{out.before_chain} before the chain; head {out.head or '-'}")
        if (c := out.first_changed) is not None:
            typer.echo(f"first changed: entry {c.seq} (row {c.id}) {c.event_type} at {c.at.isoformat()}: {c.why}")
    if not out.intact:
        raise typer.Exit(1)


async def _verify(code: str, url: str) -> Verdict:
    engine = make_engine(url)
    try:
        return await verify_dossier(make_session_factory(engine), code)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    app()
