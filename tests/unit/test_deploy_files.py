"""deploy/docker, deploy/compose and deploy/k8s cannot run here; this checks they agree with the code:
every file parses, every module, port, ONESTOP_* variable and topic they name exists (docs/deploy.md)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from libs.contracts import topics
from libs.settings import CommonSettings
from onestop.registry import NAMES
from onestop.registry import service as registered
from services.notifications.adapters import config as secrets

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
K8S = DEPLOY / "k8s"
SERVICES = NAMES
TOPIC_TOKEN = re.compile(r"\bonestop\.(?:dlq\.[a-z]+|[a-z]+\.v\d+)\b")


# --- what the code defines ---------------------------------------------------------------------------------


def settings_class(service: str) -> type[BaseSettings]:
    cls: type[BaseSettings] = registered(service).app.Settings
    return cls


def env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in cls.model_fields}


@cache
def known_env() -> dict[str, str | None]:
    """ONESTOP_* variable → the service it belongs to (None: suite-wide)."""
    known: dict[str, str | None] = {name: None for name in env_names(CommonSettings)}
    for service in SERVICES:
        known |= {name: service for name in env_names(settings_class(service))}
    from onestop.cli import app

    known |= {e: None for e in cli_envvars(app)}
    known |= {getattr(secrets, n): "notifications" for n in dir(secrets) if n.endswith("_ENV")}
    return known


def cli_envvars(app: Any) -> set[str]:
    import typer.main

    found: set[str] = set()
    stack = [typer.main.get_command(app)]
    while stack:
        cmd = stack.pop()
        stack += list(getattr(cmd, "commands", {}).values())
        for param in cmd.params:
            envvar = getattr(param, "envvar", None)
            found |= {envvar} if isinstance(envvar, str) else set(envvar or ())
    return found


def port_of(service: str) -> int:
    return int(settings_class(service).model_fields["port"].default)


def all_topics() -> set[str]:
    return set(topics.ALL) | {topics.dlq(s) for s in SERVICES}


def check_env(names: list[str], service: str | None, where: str) -> None:
    for name in names:
        if not name.startswith("ONESTOP_"):
            continue
        assert name in known_env(), f"{where}: {name} is no setting (libs/settings.py, services/*/settings.py)"
        owner = known_env()[name]
        assert owner in (None, service), f"{where}: {name} belongs to {owner}, set on {service}"


def check_module_command(command: list[str], where: str) -> str:
    """`python -m <module> …`: the module exists; returns it."""
    assert command[:2] == ["python", "-m"], f"{where}: {command}"
    module = command[2]
    assert importlib.util.find_spec(module) is not None, f"{where}: no module {module}"
    if module.startswith("services."):
        assert importlib.util.find_spec(f"{module}.__main__") is not None, f"{where}: {module} is not runnable"
    return module


# --- every file parses, every topic is real -------------------------------------------------------------------

STRUCTURED = sorted(p for ext in ("*.yml", "*.yaml", "*.json") for p in DEPLOY.rglob(ext))


@pytest.mark.parametrize("path", STRUCTURED, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_file_parses_and_names_only_real_topics(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    assert docs and all(d is not None for d in docs), path
    unknown = set(TOPIC_TOKEN.findall(text)) - all_topics()
    assert not unknown, f"{path}: topics not in libs/contracts/topics.py: {unknown}"


# --- Dockerfile -------------------------------------------------------------------------------------------


def dockerfile_stages() -> dict[str, list[str]]:
    """Stage name → its instruction lines (continuations joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if m := re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I):
            current = stages.setdefault(m.group(2) or m.group(1), [])
        current.append(line)
    return stages


def test_dockerfile_has_a_target_per_service_running_it() -> None:
    stages = dockerfile_stages()
    assert set(SERVICES) <= stages.keys() and "runtime" in stages
    for service in SERVICES:
        lines = stages[service]
        assert lines[0].split()[1] == "runtime", f"{service} must build on the runtime stage"
        [cmd] = [json.loads(line[4:]) for line in lines if line.startswith("CMD ")]
        assert check_module_command(cmd, f"Dockerfile {service}") == f"services.{service}"
        assert f"EXPOSE {port_of(service)}" in lines
        env = [w.split("=", 1)[0] for line in lines if line.startswith("ENV ") for w in shlex.split(line[4:])]
        check_env(env, service, f"Dockerfile {service}")
    default = list(stages)[-1]
    assert stages[default][0].split()[1] == "runtime", "the default (last) stage is the generic image"


def test_dockerfile_copies_what_exists_and_is_not_ignored() -> None:
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    for lines in dockerfile_stages().values():
        for line in lines:
            if not line.startswith("COPY ") or "--from=" in line:
                continue
            for src in line.split()[1:-1]:
                assert (REPO / src).exists(), f"COPY {src}: not in the repository"
                assert f"!{src}" in ignore, f"COPY {src}: excluded by Dockerfile.dockerignore"
        for cmd in (json.loads(line[4:]) for line in lines if line.startswith("CMD ")):
            check_module_command(cmd, "Dockerfile")
        env = [w.split("=", 1)[0] for line in lines if line.startswith("ENV ") for w in shlex.split(line[4:])]
        check_env(env, None if not set(SERVICES) & set(lines[0].split()) else lines[0].split()[-1], "Dockerfile")


# --- compose ---------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def test_compose_runs_each_service_as_in_the_code() -> None:
    services = compose()["services"]
    stages = dockerfile_stages()
    assert {"kafka", "postgres", "prometheus", "grafana", *SERVICES} <= services.keys()
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    for service in SERVICES:
        spec = services[service]
        assert spec["build"]["target"] in stages and spec["build"]["target"] == service
        assert (COMPOSE.parent / spec["build"]["context"] / spec["build"]["dockerfile"]).resolve() == DOCKERFILE
        assert check_module_command(spec["command"], f"compose {service}") == f"services.{service}"
        port = port_of(service)
        assert spec["ports"] == [f"{port}:{port}"]
        env = spec["environment"]
        check_env(list(env), service, f"compose {service}")
        assert env[f"ONESTOP_{service.upper()}_PORT"] == str(port)
        assert env[f"ONESTOP_{service.upper()}_HOST"] == "0.0.0.0"
        assert env[f"ONESTOP_{service.upper()}_DATABASE_URL"].endswith(f"@postgres:5432/onestop_{service}")
        assert env["ONESTOP_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert f"127.0.0.1:{port}/readyz" in " ".join(spec["healthcheck"]["test"])


def test_compose_kafka_authenticates_each_service_and_listens_on_localhost_only() -> None:
    services = compose()["services"]
    kafka = services["kafka"]
    assert all(str(port).startswith("127.0.0.1:") for port in kafka["ports"])
    assert all(str(port).startswith("127.0.0.1:") for name in ("prometheus", "grafana")
               for port in services[name]["ports"])
    protocols = dict(p.split(":") for p in kafka["environment"]["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = dict(p.split("://") for p in kafka["environment"]["KAFKA_LISTENERS"].split(","))
    # Unauthenticated listeners are bound to the broker container's own localhost.
    assert all(listeners[name].startswith("localhost:") for name, proto in protocols.items() if proto == "PLAINTEXT")
    assert kafka["environment"]["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert services["kafka-acls"]["command"][:3] == ["python", "-m", "onestop.kafka_access"]
    for service in SERVICES:
        env = services[service]["environment"]
        assert env["ONESTOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["ONESTOP_KAFKA_SASL_USERNAME"] == service
        assert env["ONESTOP_KAFKA_SASL_PASSWORD"].startswith(f"${{KAFKA_PASSWORD_{service.upper()}:?")
        assert f"KAFKA_PASSWORD_{service.upper()}" in services["kafka-users"]["environment"]


def test_compose_mounts_exist_and_databases_are_created() -> None:
    for name, spec in compose()["services"].items():
        for volume in spec.get("volumes", []):
            host = volume.split(":", 1)[0]
            if host.startswith("."):
                assert (COMPOSE.parent / host).exists(), f"{name}: {host} does not exist"
    init = (COMPOSE.parent / "postgres-init.sql").read_text(encoding="utf-8")
    assert set(re.findall(r"CREATE DATABASE (\w+);", init)) == {f"onestop_{s}" for s in SERVICES}


def test_compose_prometheus_scrapes_every_service_with_the_shipped_rules() -> None:
    prom = yaml.safe_load((COMPOSE.parent / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = [j for j in prom["scrape_configs"] if j["job_name"] == "onestop"]
    targets = {c["labels"]["service"]: c["targets"] for c in job["static_configs"]}
    assert targets == {s: [f"{s}:{port_of(s)}"] for s in SERVICES}
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "../prometheus:/etc/prometheus:ro" in mounts and prom["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    grafana = compose()["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/onestop.yml").read_text(encoding="utf-8"))
    assert f"../grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in grafana


# --- Kubernetes ------------------------------------------------------------------------------------------


def k8s_docs(*folders: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for folder in folders:
        for path in sorted((K8S / folder).glob("*.yaml")):
            docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_docs("base") if d.get("kind") == kind]


def test_kustomizations_list_existing_files() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(kustomization.read_text(encoding="utf-8"))["resources"]:
            assert (kustomization.parent / resource).exists(), f"{kustomization}: {resource}"


def test_generated_k8s_files_are_current() -> None:
    result = subprocess.run([sys.executable, str(K8S / "generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_deployments_run_each_service_as_in_the_code() -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    assert deployments.keys() == {f"onestop-{s}" for s in SERVICES}
    for service in SERVICES:
        pod = deployments[f"onestop-{service}"]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert check_module_command(container["command"], f"k8s {service}") == f"services.{service}"
        assert container["ports"] == [{"name": "http", "containerPort": port_of(service)}]
        check_env([e["name"] for e in container["env"]], service, f"k8s {service}")
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env[f"ONESTOP_{service.upper()}_PORT"] == str(port_of(service))
        [migrate] = pod["initContainers"]
        assert check_module_command(migrate["command"], "k8s migrate") == "onestop.cli"
        assert migrate["command"][3:] == ["db", "upgrade", service]
        check_env([e["name"] for e in migrate["env"]], None, f"k8s {service} migrate")
    services = {d["metadata"]["name"]: d["spec"]["ports"] for d in of_kind("Service")}
    assert services == {f"onestop-{s}": [{"name": "http", "port": port_of(s), "targetPort": "http"}]
                        for s in SERVICES}


def test_two_replicas_of_each_service_never_more_than_the_partitions_and_a_disruption_budget() -> None:
    """docs/deploy.md "How many of each service": two of each, rolled one at a time, never both drained."""
    partitions = min(t["spec"]["partitions"] for t in of_kind("KafkaTopic"))
    budgets = {d["metadata"]["name"]: d["spec"] for d in of_kind("PodDisruptionBudget")}
    for deployment in of_kind("Deployment"):
        spec, name = deployment["spec"], deployment["metadata"]["name"]
        assert 2 == spec["replicas"] <= partitions, name
        assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}, name
        assert budgets[name] == {"minAvailable": 1, "selector": spec["selector"]}, name


def test_shared_env_config_map_names_real_settings() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        for generator in yaml.safe_load(kustomization.read_text(encoding="utf-8")).get("configMapGenerator", []):
            check_env([lit.split("=", 1)[0] for lit in generator.get("literals", [])], None, str(kustomization))


def test_strimzi_cluster_and_one_kafka_topic_per_topic_of_the_code() -> None:
    [kafka] = of_kind("Kafka")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    # TLS and SCRAM on the only listener, ACLs enforced (ADR 0014).
    [listener] = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    literals = shared_env()
    assert literals["ONESTOP_KAFKA_BOOTSTRAP"] == bootstrap
    assert literals["ONESTOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert literals["ONESTOP_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    kafka_topics = of_kind("KafkaTopic")
    assert {t["spec"]["topicName"] for t in kafka_topics} == all_topics()
    assert all(t["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for t in kafka_topics)
    assert all(t["spec"]["partitions"] == CommonSettings().topic_partitions for t in kafka_topics)


def shared_env() -> dict[str, str]:
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text(encoding="utf-8"))
    return dict(lit.split("=", 1) for lit in kustomization["configMapGenerator"][0]["literals"])


def test_each_service_is_its_own_kafka_principal_writing_only_the_topics_it_owns() -> None:
    [kafka] = of_kind("Kafka")
    users = {u["metadata"]["name"]: u for u in of_kind("KafkaUser")}
    assert users.keys() == {f"onestop-{s}" for s in SERVICES} | {"onestop-operator"}
    owners = {topics.INTAKE: "intake", topics.PROCESSING: "processing", topics.NOTIFICATIONS: "notifications"}
    writers: dict[str, set[str]] = {}
    for name, user in users.items():
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        for acl in user["spec"]["authorization"]["acls"]:
            if "Write" in acl["operations"]:
                assert acl["resource"] == {"type": "topic", "name": acl["resource"]["name"], "patternType": "literal"}
                writers.setdefault(acl["resource"]["name"], set()).add(name)
    for service in SERVICES:
        mine = {t for t, owner in owners.items() if owner == service} | {topics.dlq(service)}
        assert {t for t, w in writers.items() if f"onestop-{service}" in w} == mine, service
        groups = [a["resource"] for a in users[f"onestop-{service}"]["spec"]["authorization"]["acls"]
                  if a["resource"]["type"] == "group"]
        assert groups == [{"type": "group", "name": f"onestop-{service}", "patternType": "prefix"}]
    for topic, owner in owners.items():  # besides its owner, only the operator's re-drive writes it
        assert writers[topic] == {f"onestop-{owner}", "onestop-operator"}, topic
    assert all(writers[topics.dlq(s)] == {f"onestop-{s}"} for s in SERVICES)


def test_deployments_connect_as_their_principal_and_check_the_brokers_ca() -> None:
    [kafka] = of_kind("Kafka")
    cafile = Path(shared_env()["ONESTOP_KAFKA_SSL_CAFILE"])
    for deployment in of_kind("Deployment"):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["ONESTOP_KAFKA_SASL_USERNAME"]["value"] == f"onestop-{service}"
        password = env["ONESTOP_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": f"onestop-{service}", "key": "password"}  # the User Operator's Secret
        [mount] = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == cafile.parent]
        [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == f"{kafka['metadata']['name']}-cluster-ca-cert"
        assert {"key": "ca.crt", "path": cafile.name} in volume["secret"]["items"]


def test_service_monitor_gives_job_and_service_labels_the_rules_expect() -> None:
    [monitor] = of_kind("ServiceMonitor")
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/part-of"
    assert {"targetLabel": "service",
            "sourceLabels": ["__meta_kubernetes_service_label_app_kubernetes_io_name"]} in endpoint["relabelings"]
    for svc in of_kind("Service"):
        labels = svc["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "onestop" and labels["app.kubernetes.io/name"] in SERVICES


def test_prometheus_rule_carries_every_shipped_rule() -> None:
    [rule] = of_kind("PrometheusRule")
    shipped = [g for p in sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
               for g in yaml.safe_load(p.read_text(encoding="utf-8"))["groups"]]
    assert rule["spec"]["groups"] == shipped
