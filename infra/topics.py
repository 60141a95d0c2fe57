"""Kafka topics as data (infra/topics.yaml), applied idempotently to a running cluster.

`plan` is pure: it compares the spec with what the cluster has and returns the changes to make and
the changes Kafka cannot make in place (refusals). `apply_topics` refuses the whole plan when anything
is refused, so a bad spec changes nothing; otherwise it creates topics, adds partitions and makes
each topic's configuration match the spec (keys set by hand and absent from the spec are removed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from infra.errors import TopicSpecError

__all__ = ["TopicSpec", "Current", "Change", "SPEC", "load_spec", "effective", "plan", "apply_topics"]

SPEC = Path(__file__).parent / "topics.yaml"
KNOWN_KEYS = {"description", "partitions", "replication_factor", "config"}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Current:
    """What the cluster has for one topic: partitions, replication and non-default configs."""

    partitions: int
    replication_factor: int
    config: dict[str, str]


@dataclass(frozen=True)
class Change:
    topic: str
    action: str  # create | add-partitions | set-config | delete-config
    detail: str


def load_spec(path: Path = SPEC) -> list[TopicSpec]:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise TopicSpecError(f"{path} is not valid YAML: {exc}") from None
    defaults = doc.get("defaults", {})
    topics = doc.get("topics") or {}
    if not topics:
        raise TopicSpecError(f"{path} names no topics: add them under `topics:`")
    return [_one(name, body or {}, defaults, path) for name, body in topics.items()]


def _one(name: str, body: dict, defaults: dict, path: Path) -> TopicSpec:
    unknown = set(body) - KNOWN_KEYS
    if unknown:
        raise TopicSpecError(f"{path}: topic {name} has unknown keys {sorted(unknown)}; allowed: {sorted(KNOWN_KEYS)}")
    partitions = body.get("partitions", defaults.get("partitions", 1))
    replication = body.get("replication_factor", defaults.get("replication_factor", 1))
    for key, value in (("partitions", partitions), ("replication_factor", replication)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise TopicSpecError(f"{path}: topic {name} has {key}={value!r}; it must be a whole number >= 1")
    config = {**defaults.get("config", {}), **body.get("config", {})}
    return TopicSpec(name, partitions, replication, {k: str(v) for k, v in config.items()}, body.get("description", ""))


def effective(spec: TopicSpec, brokers: int) -> TopicSpec:
    """Cap replication at the broker count and min.insync.replicas at replication - 1 (at least 1)."""
    replication = min(spec.replication_factor, brokers)
    config = dict(spec.config)
    if "min.insync.replicas" in config:
        config["min.insync.replicas"] = str(min(int(config["min.insync.replicas"]), max(1, replication - 1)))
    return replace(spec, replication_factor=replication, config=config)


def plan(specs: list[TopicSpec], current: dict[str, Current]) -> tuple[list[Change], list[str]]:
    """The changes that make the cluster match specs, and the refusals (changes Kafka cannot make)."""
    changes: list[Change] = []
    refusals: list[str] = []
    for spec in specs:
        have = current.get(spec.name)
        if have is None:
            changes.append(Change(spec.name, "create", f"{spec.partitions} partitions, replication {spec.replication_factor}"))
            continue
        refusals.extend(_refusals(spec, have))
        if spec.partitions > have.partitions:
            changes.append(Change(spec.name, "add-partitions", f"{have.partitions} -> {spec.partitions}"))
        changes.extend(_config_changes(spec, have))
    return changes, refusals


def _refusals(spec: TopicSpec, have: Current) -> list[str]:
    out = []
    if spec.partitions < have.partitions:
        out.append(
            f"{spec.name}: the spec asks for {spec.partitions} partitions but the topic has {have.partitions}. "
            "Kafka cannot remove partitions (it would lose data and break key ordering). Keep "
            f"partitions: {have.partitions} in the spec, or create a new topic version and migrate to it."
        )
    if spec.replication_factor != have.replication_factor:
        out.append(
            f"{spec.name}: the spec asks for replication {spec.replication_factor} but the topic has "
            f"{have.replication_factor}. Changing it needs a partition reassignment, which `topics apply` "
            "does not do: run kafka-reassign-partitions, or keep the current value in the spec."
        )
    return out


def _config_changes(spec: TopicSpec, have: Current) -> list[Change]:
    changes = [
        Change(spec.name, "set-config", f"{key}={value}")
        for key, value in sorted(spec.config.items())
        if have.config.get(key) != value
    ]
    changes += [
        Change(spec.name, "delete-config", key) for key in sorted(set(have.config) - set(spec.config))
    ]
    return changes


def apply_topics(bootstrap: str, path: Path = SPEC, dry_run: bool = False) -> list[Change]:
    """Make the cluster at bootstrap match the spec; return the changes (made, or planned if dry_run)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        brokers = len(admin.describe_cluster()["brokers"])
        specs = [effective(spec, brokers) for spec in load_spec(path)]
        changes, refusals = plan(specs, _read_cluster(admin, [s.name for s in specs]))
        if refusals:
            raise TopicSpecError("nothing was changed, because:\n  " + "\n  ".join(refusals))
        if not dry_run:
            _execute(admin, {s.name: s for s in specs}, changes)
        return changes
    finally:
        admin.close()


def _read_cluster(admin, names: list[str]) -> dict[str, Current]:
    from kafka.admin import ConfigResource, ConfigResourceType

    existing = [name for name in names if name in set(admin.list_topics())]
    if not existing:
        return {}
    described = {t["name"]: t for t in admin.describe_topics(existing)}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in existing]
    configs = admin.describe_configs(resources)
    topic_configs = next(iter(configs.values())) if configs else {}
    return {
        name: Current(
            partitions=len(described[name]["partitions"]),
            replication_factor=len(described[name]["partitions"][0]["replica_nodes"]),
            config={
                key: str(entry["value"])
                for key, entry in topic_configs.get(name, {}).items()
                if entry.get("config_source") == "DYNAMIC_TOPIC_CONFIG"
            },
        )
        for name in existing
    }


def _execute(admin, specs: dict[str, TopicSpec], changes: list[Change]) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

    creates = [specs[c.topic] for c in changes if c.action == "create"]
    if creates:
        admin.create_topics(
            [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config) for s in creates],
            wait_for_metadata=True,
        )
    grow = {c.topic: NewPartitions(specs[c.topic].partitions) for c in changes if c.action == "add-partitions"}
    if grow:
        admin.create_partitions(grow)
    alter: dict[str, dict] = {}
    for c in changes:
        if c.action == "set-config":
            key, _, value = c.detail.partition("=")
            alter.setdefault(c.topic, {})[key] = ("SET", value)
        elif c.action == "delete-config":
            alter.setdefault(c.topic, {})[c.detail] = ("DELETE", None)
    if alter:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t, cfg) for t, cfg in alter.items()])
