"""Grafana dashboards: well-formed JSON, every panel queries something, every query is valid PromQL.

Queries are parsed by `promtool check rules` (written as recording rules into a temporary file), after
Grafana's template variables are replaced. Needs `promtool`; without it these tests fail on purpose.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.promtool import MIDDLEWARE_METRICS, SERVICE_METRICS, promtool

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
RECORDING = REPO / "deploy" / "prometheus" / "rules" / "recording.yml"

EXPECTED = {"onestop-business.json", "onestop-pipeline.json"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# Grafana's built-in interval variables become a duration; dashboard variables a regex matching all.
BUILTIN_DURATIONS = re.compile(r"\$\{?__(?:rate_interval|interval|range)(?:_ms|_s)?\}?")
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")

METRIC_TOKEN = r"\b[a-z_][a-z0-9_]*(?::[a-z0-9_]+)+|\b(?:onestop|faststream|http)_\w+|\bup\b"

KNOWN_METRICS = SERVICE_METRICS | MIDDLEWARE_METRICS


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def panels(dashboard: dict) -> list[dict]:
    """All panels, rows' nested panels included, rows themselves excluded."""
    found = []
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def queries(dashboard: dict) -> list[tuple[str, str]]:
    return [
        (f"{panel['title']} [{target.get('refId')}]", target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def variables(dashboard: dict) -> set[str]:
    return {var["name"] for var in dashboard.get("templating", {}).get("list", [])}


def substitute(expr: str) -> str:
    expr = BUILTIN_DURATIONS.sub("5m", expr)
    return VARIABLE.sub(".*", expr)


def test_the_dashboards_exist() -> None:
    assert {path.name for path in DASHBOARDS} >= EXPECTED


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_structure(path: Path) -> None:
    board = load(path)
    assert board.get("uid") == path.stem, "uid should be the file name (stable links between dashboards)"
    assert board.get("title")
    assert 36 <= board.get("schemaVersion", 0) <= 41
    datasource = [var for var in board["templating"]["list"] if var["type"] == "datasource"]
    assert datasource and datasource[0]["name"] == "datasource" and datasource[0]["query"] == "prometheus"
    assert datasource[0]["current"]["value"] == "prometheus", "default to the provisioned uid `prometheus`"

    ids = [panel["id"] for panel in board["panels"]] + [
        nested["id"] for panel in board["panels"] for nested in panel.get("panels", [])
    ]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert panels(board), "no panels"
    for panel in panels(board):
        title = panel.get("title", "")
        assert title.strip(), f"panel {panel.get('id')} has no title"
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, f"{title}: bad gridPos"
        assert panel.get("datasource") == DATASOURCE, f"{title}: use the `datasource` variable"
        assert panel.get("targets"), f"{title}: no queries"
        ref_ids = [target.get("refId") for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)) and all(ref_ids), f"{title}: refIds missing or repeated"
        for target in panel["targets"]:
            assert str(target.get("expr", "")).strip(), f"{title}: target {target.get('refId')} has no expr"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_queries_use_only_defined_variables(path: Path) -> None:
    board = load(path)
    defined = variables(board)
    for where, expr in queries(board):
        used = {next(g for g in match if g) for match in VARIABLE.findall(BUILTIN_DURATIONS.sub("", expr))}
        assert used <= defined, f"{where}: undefined variables {used - defined} in {expr}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_queries_use_known_metrics(path: Path) -> None:
    recorded = {
        rule["record"]
        for group in yaml.safe_load(RECORDING.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    for where, expr in queries(load(path)):
        bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
        for token in re.findall(METRIC_TOKEN, bare):
            base = re.sub(r"_(bucket|count|sum)$", "", token)
            assert token in recorded or token in KNOWN_METRICS or base in KNOWN_METRICS, (
                f"{where}: unknown metric {token}"
            )


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_queries_parse_as_promql(path: Path, tmp_path: Path) -> None:
    board = load(path)
    rules: list[dict[str, object]] = []
    panel_of: dict[str, str] = {}
    for n, (where, expr) in enumerate(queries(board)):
        concrete = substitute(expr)
        assert "$" not in concrete, f"{where}: unsubstituted variable in {concrete}"
        record = f"dashboard:query_{n}:check"
        rules.append({"record": record, "expr": concrete})
        panel_of[record] = where
    rules_file = tmp_path / f"{path.stem}.rules.yml"
    document = {"groups": [{"name": path.stem, "rules": rules}]}
    rules_file.write_text(yaml.safe_dump(document, allow_unicode=True, width=1000))
    result = subprocess.run(
        [promtool(), "check", "rules", str(rules_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"promtool rejected queries of {path.name}:\n{result.stdout}\n{result.stderr}\n"
        + "\n".join(f"{record} = {where}" for record, where in panel_of.items())
    )


def test_provisioning() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (prometheus,) = [ds for ds in datasources["datasources"] if ds["type"] == "prometheus"]
    assert prometheus["uid"] == "prometheus"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "onestop.yml").read_text())
    assert providers["apiVersion"] == 1
    assert all(p["type"] == "file" and p["options"]["path"] for p in providers["providers"])
