"""docker-compose.yml cannot run here; it must at least describe a topology the project can serve."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import promql_parser
import pytest
import yaml

from infra.kafka import kafka_version
from veiviser.cli import _register, cli

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def veiviser_invocations(service: dict) -> list[list[str]]:
    command = service.get("command", [])
    text = " ".join(command) if isinstance(command, list) else command
    if "entrypoint" not in service and service.get("build"):
        text = "veiviser " + text  # the image's entrypoint is `veiviser`
    return [shlex.split(part)[1:] for part in re.findall(r"veiviser(?:\s+[a-z][\w-]*)+", text)]


def resolves(words: list[str]) -> bool:
    _register()
    command: click.Command = cli
    for word in words:
        if not isinstance(command, click.Group):
            return True  # the rest are arguments
        if word not in command.commands:
            return False
        command = command.commands[word]
    return True


def test_every_project_service_runs_a_command_that_exists(compose):
    ours = {name: s for name, s in compose["services"].items() if "build" in s}
    assert ours, "the compose file runs none of the project's own services"
    for name, service in ours.items():
        invocations = veiviser_invocations(service)
        assert invocations, f"{name} runs no veiviser command"
        for words in invocations:
            assert resolves(words), f"service {name} runs `veiviser {' '.join(words)}`, which the CLI does not have"


def test_three_kraft_brokers_of_the_pinned_version(compose):
    brokers = {name: s for name, s in compose["services"].items() if s.get("image", "").startswith("apache/kafka:")}
    assert len(brokers) == 3
    assert {s["image"].split(":")[1] for s in brokers.values()} == {kafka_version()}
    ids = {str(s["environment"]["KAFKA_NODE_ID"]) for s in brokers.values()}
    voters = next(iter(brokers.values()))["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert ids == {"1", "2", "3"} and all(f"{i}@{name}:" in voters for i, name in zip(sorted(ids), sorted(brokers), strict=True))


def test_long_running_services_have_health_checks_and_named_volumes(compose):
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        if service.get("restart") != "no":
            assert "healthcheck" in service, f"{name} has no health check"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in declared, f"{name} mounts {source}, which is not a declared named volume"
        for dependency in service.get("depends_on", {}):
            assert dependency in compose["services"], f"{name} depends on unknown service {dependency}"


def test_no_default_passwords(compose):
    secrets = {
        f"{name}.{key}": str(value)
        for name, service in compose["services"].items()
        for key, value in (service.get("environment") or {}).items()
        if "PASSWORD" in key or "DATABASE_URL" in key
    }
    assert secrets
    for where, value in secrets.items():
        assert re.search(r"\$\{[A-Z_]*PASSWORD:\?[^}]+\}", value), f"{where} has a literal or defaulted password"


def test_dockerfile_copies_only_what_exists():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the project"


# -- monitoring: Prometheus, alert rules and Grafana (infra/prometheus, infra/grafana) -------------------------
METRIC = re.compile(r"\b(veiviser_[a-z0-9_]+)\b")


@pytest.fixture(scope="module")
def exposed() -> set[str]:
    from tests.unit.health.catalogue import exposed_names, project_metrics

    return exposed_names(project_metrics())


def test_every_mounted_config_file_is_in_the_project(compose):
    declared = compose.get("configs", {})
    assert {"prometheus-config", "prometheus-alerts", "grafana-dashboard-streams"} <= set(declared)
    for name, config in declared.items():
        assert (ROOT / config["file"]).is_file(), f"config {name} names {config['file']}, which is not in the project"
    for name, service in compose["services"].items():
        for mount in service.get("configs", []):
            assert mount["source"] in declared, f"{name} mounts undeclared config {mount['source']}"


def test_prometheus_scrapes_every_service_on_the_port_it_listens_on(compose):
    config = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    targets = {f"{c['names'][0]}:{c['port']}" for job in config["scrape_configs"] for c in job.get("dns_sd_configs", [])}
    targets |= {t for job in config["scrape_configs"] for c in job.get("static_configs", []) for t in c["targets"]}
    ours = {name: s for name, s in compose["services"].items() if "build" in s and s.get("restart") != "no"}
    for name, service in ours.items():
        ports = {str(v) for k, v in service["environment"].items() if k.endswith("_PORT")}
        assert ports and any(f"{name}:{port}" in targets for port in ports), \
            f"Prometheus does not scrape {name} on its port {sorted(ports)}"
    for target in targets - {"localhost:9090"}:
        assert target.split(":")[0] in ours, f"Prometheus scrapes {target}, which compose does not run"
    mounted = {m["target"] for m in compose["services"]["prometheus"]["configs"]}
    assert set(config["rule_files"]) <= mounted


def test_alert_rules_parse_cover_the_issue_and_use_metrics_that_exist(exposed):
    rules = [r for g in yaml.safe_load((ROOT / "infra/prometheus/alerts.yml").read_text())["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert {"ConsumerLagGrowing", "ConsumerGroupStopped", "DeadLettersArriving", "KafkaBrokerDown",
            "KafkaUnderReplicatedPartitions"} <= names
    assert len(names) == len(rules), "two alert rules have the same name"
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"]
        expr = rule["expr"]
        promql_parser.parse(expr)  # ValueError names the syntax error
        unknown = set(METRIC.findall(expr)) - exposed
        assert unknown == set(), f"alert {rule['alert']} uses metrics nothing exports: {sorted(unknown)}"


def test_grafana_provisions_prometheus_and_the_dashboard_queries_metrics_that_exist(compose, exposed):
    source = yaml.safe_load((ROOT / "infra/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prometheus:9090" and "prometheus" in compose["services"]
    provider = yaml.safe_load((ROOT / "infra/grafana/provisioning/dashboards/veiviser.yml").read_text())
    folder = provider["providers"][0]["options"]["path"]
    mounted = {m["target"] for m in compose["services"]["grafana"]["configs"]}
    assert any(target.startswith(folder + "/") and target.endswith(".json") for target in mounted)
    import json

    dashboard = json.loads((ROOT / "infra/grafana/dashboards/veiviser-streams.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        promql_parser.parse(expr)
    unknown = {m for e in exprs for m in METRIC.findall(e)} - exposed
    assert unknown == set(), f"the dashboard queries metrics nothing exports: {sorted(unknown)}"
    uid = source["datasources"][0]["uid"]
    assert all(p["datasource"]["uid"] == uid for p in dashboard["panels"])


def test_the_deployed_database_gets_the_ledger_tuning_of_the_local_one(compose):
    from infra.postgres import LEDGER_TUNING

    wanted = shlex.split(LEDGER_TUNING)
    command = compose["services"]["postgis"]["command"]
    assert command[0] == "postgres" and command[1:] == wanted


def test_two_router_workers_share_the_partitions_by_default(compose):
    router = compose["services"]["router"]
    assert router["deploy"]["replicas"] == 2 and "ports" not in router and "container_name" not in router
