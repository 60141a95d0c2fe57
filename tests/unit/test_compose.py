"""docker-compose.yml cannot run here; it must at least describe a topology the project can serve."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
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
        assert re.search(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", value), f"{where} has a literal or defaulted password"


def test_dockerfile_copies_only_what_exists():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the project"
