"""The house rules of the layout (DESIGN.md §7, docs/architecture.md), read from the source with `ast`:
- a `domain/` module imports no framework or I/O package: the rules stay pure and testable alone;
- `libs/` names no service, neither by import nor in a string (so no importlib by name);
- a service imports no other service: they meet only through Kafka contracts in `libs.contracts`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.settings import REPO_ROOT

SERVICES_DIR = REPO_ROOT / "services"
LIBS_DIR = REPO_ROOT / "libs"
FRAMEWORKS = frozenset({
    "fastapi", "starlette", "sqlalchemy", "sqlmodel", "faststream", "aiokafka", "httpx", "asyncpg", "aiosqlite",
    "aiosmtplib", "aiohttp", "uvicorn", "prometheus_client", "opentelemetry", "alembic", "boto3", "aioboto3",
})


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.relative_to(folder).parts)


def imported(path: Path) -> Iterator[str]:
    package = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    return imports_of(path.read_text(encoding="utf-8"), package)


def imports_of(source: str, package: str) -> Iterator[str]:
    """Every module `source` imports, as absolute names (relative imports resolved against `package`)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            elif node.module:
                yield node.module


def strings(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def service_names() -> list[str]:
    return sorted(p.name for p in SERVICES_DIR.iterdir() if (p / "__init__.py").exists())


def domain_files() -> list[Path]:
    """A service's `domain/` package, and the `domain.py` of a sub-area (e.g. intake's certification/)."""
    return [p for name in service_names() for p in python_files(SERVICES_DIR / name)
            if "domain" in p.relative_to(SERVICES_DIR / name).parts[:-1] or p.name == "domain.py"]


def test_there_is_something_to_check() -> None:
    assert {"intake", "processing", "notifications", "reporting"} <= set(service_names())
    assert len(domain_files()) >= 20 and len(python_files(LIBS_DIR)) >= 40


@pytest.mark.parametrize("path", domain_files(), ids=lambda p: str(p.relative_to(SERVICES_DIR)))
def test_domain_modules_import_no_framework(path: Path) -> None:
    bad = sorted(m for m in imported(path) if m.split(".")[0] in FRAMEWORKS)
    assert not bad, f"{path.relative_to(REPO_ROOT)} imports {bad}: keep domain/ pure (no I/O, no framework)"


@pytest.mark.parametrize("path", python_files(LIBS_DIR), ids=lambda p: str(p.relative_to(LIBS_DIR)))
def test_libs_name_no_service(path: Path) -> None:
    imports = sorted(m for m in imported(path) if m.split(".")[0] in ("services", "onestop"))
    named = sorted(s for s in strings(path) if s.startswith("services.") or s.startswith("services/"))
    assert not imports and not named, f"{path.relative_to(REPO_ROOT)} names a service: {imports + named}"


@pytest.mark.parametrize("service", service_names())
def test_a_service_imports_no_other_service(service: str) -> None:
    foreign = {
        f"{path.relative_to(REPO_ROOT)}: {module}"
        for path in python_files(SERVICES_DIR / service)
        for module in imported(path)
        if module.startswith("services.") and module.split(".")[1] != service
    }
    assert not foreign, f"{service} imports another service: {sorted(foreign)}"


def test_the_checks_see_every_form_of_import() -> None:
    """The rules above are only as good as `imports_of`: absolute, dotted and relative imports alike."""
    source = "import sqlalchemy.orm\nfrom fastapi import APIRouter\nfrom . import sibling\nfrom ..store import tables\n"
    assert set(imports_of(source, "services.sample.domain")) == {
        "sqlalchemy.orm", "fastapi", "services.sample.domain", "services.sample.store"}
