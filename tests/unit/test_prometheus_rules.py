"""Prometheus rules: promtool accepts them, their unit tests pass, every alert is documented.

Needs `promtool` (Debian package `prometheus`; `deploy/local/prometheus/prom.sh install`).
Without it these tests fail on purpose: the rules would otherwise ship unchecked.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.promtool import MIDDLEWARE_METRICS, SERVICE_METRICS, promtool

REPO = Path(__file__).resolve().parents[2]
PROM = REPO / "deploy" / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.yml"))
OPERATIONS = REPO / "docs" / "operations.md"

SEVERITIES = {"page", "ticket", "info"}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook")

KNOWN_METRICS = SERVICE_METRICS | MIDDLEWARE_METRICS  # the HTTP request metrics too (admission ratio)
METRIC_TOKEN = r"\b[a-z_][a-z0-9_]*(?::[a-z0-9_]+)+|\b(?:onestop|faststream|http)_\w+"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def load_groups(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]


def all_rules() -> list[dict]:
    return [rule for path in RULE_FILES for group in load_groups(path) for rule in group["rules"]]


ALERTS = [rule for rule in all_rules() if "alert" in rule]
RECORDS = [rule for rule in all_rules() if "record" in rule]


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub generates for headings, plus explicit <a id="…"> / <a name="…">."""
    anchors = set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", markdown))
    for line in markdown.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
    return anchors


def test_rule_files_exist() -> None:
    names = {path.name for path in RULE_FILES}
    assert {"recording.yml", "alerts.yml"} <= names, names
    assert TEST_FILES, "no promtool unit tests in deploy/prometheus/tests/"


def test_promtool_check_rules() -> None:
    result = run("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, f"promtool check rules failed:\n{result.stdout}\n{result.stderr}"


def test_promtool_test_rules() -> None:
    result = run("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, f"promtool test rules failed:\n{result.stdout}\n{result.stderr}"


def test_alert_and_record_names_are_unique() -> None:
    alerts = [rule["alert"] for rule in ALERTS]
    records = [rule["record"] for rule in RECORDS]
    assert len(alerts) == len(set(alerts)), alerts
    assert len(records) == len(set(records)), records


@pytest.mark.parametrize("rule", RECORDS, ids=lambda rule: rule["record"])
def test_recording_rule_names_follow_level_metric_operations(rule: dict) -> None:
    assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule["record"]), rule["record"]


@pytest.mark.parametrize("rule", ALERTS, ids=lambda rule: rule["alert"])
def test_alert_is_labelled_and_documented(rule: dict) -> None:
    name = rule["alert"]
    severity = rule.get("labels", {}).get("severity")
    assert severity in SEVERITIES, f"{name}: severity {severity!r} is not one of {sorted(SEVERITIES)}"
    annotations = rule.get("annotations", {})
    for key in REQUIRED_ANNOTATIONS:
        assert str(annotations.get(key, "")).strip(), f"{name}: annotations.{key} is missing"
    expected = f"docs/operations.md#alert-{name.lower()}"
    assert annotations["runbook"] == expected, f"{name}: runbook should be {expected}"
    anchors = github_anchors(OPERATIONS.read_text(encoding="utf-8"))
    anchor = expected.split("#", 1)[1]
    assert anchor in anchors, f"{name}: docs/operations.md has no section '### Alert: {name}' (#{anchor})"


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in ALERTS}
    assert names - firing == set(), f"alerts without a firing test case: {sorted(names - firing)}"
    assert names - quiet == set(), f"alerts without a non-firing test case: {sorted(names - quiet)}"


def test_rules_use_only_known_metrics() -> None:
    recorded = {rule["record"] for rule in RECORDS}
    unknown: set[str] = set()
    for rule in ALERTS + RECORDS:
        expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rule["expr"])  # drop label values
        for token in re.findall(METRIC_TOKEN, expr):
            base = re.sub(r"_(bucket|count|sum)$", "", token)
            if token not in recorded and token not in KNOWN_METRICS and base not in KNOWN_METRICS:
                unknown.add(token)
    assert not unknown, f"rules use metrics nobody exposes or records: {sorted(unknown)}"


def test_every_alerts_group_is_ordered_in_unit_tests() -> None:
    """The unit tests pin group order (recording first); a new group must be listed there too."""
    groups = [group["name"] for path in RULE_FILES for group in load_groups(path)]
    for path in TEST_FILES:
        order = yaml.safe_load(path.read_text(encoding="utf-8")).get("group_eval_order", [])
        assert sorted(order) == sorted(groups), f"{path.name}: group_eval_order must list {groups}"
