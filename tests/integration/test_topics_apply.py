"""`topics apply` against the real cluster: idempotent, grows partitions, follows config, refuses shrinking."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from infra.errors import TopicSpecError
from infra.topics import apply_topics

pytestmark = pytest.mark.integration


@pytest.fixture
def spec_file(tmp_path, bootstrap_servers):
    name = f"test.spec.{uuid.uuid4().hex[:10]}"
    path = tmp_path / "topics.yaml"

    def write(partitions: int, **config: str) -> str:
        lines = [f"      {k}: {v!r}" for k, v in config.items()]
        body = f"topics:\n  {name}:\n    partitions: {partitions}\n"
        path.write_text(body + ("    config:\n" + "\n".join(lines) + "\n" if lines else ""))
        return name

    yield path, write
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    if name in admin.list_topics():
        admin.delete_topics([name])
    admin.close()


def describe(bootstrap: str, name: str) -> tuple[int, dict[str, str]]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    partitions = len(admin.describe_topics([name])[0]["partitions"])
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])["topic"][name]
    admin.close()
    return partitions, {k: v["value"] for k, v in configs.items() if v["config_source"] == "DYNAMIC_TOPIC_CONFIG"}


def test_apply_is_idempotent_and_follows_the_spec(bootstrap_servers, spec_file):
    path, write = spec_file
    name = write(2, **{"retention.ms": "3600000"})
    assert [c.action for c in apply_topics(bootstrap_servers, path)] == ["create"]
    assert apply_topics(bootstrap_servers, path) == []  # second run: nothing to do
    assert describe(bootstrap_servers, name) == (2, {"retention.ms": "3600000"})

    write(4, **{"cleanup.policy": "compact"})
    actions = sorted(c.action for c in apply_topics(bootstrap_servers, path))
    assert actions == ["add-partitions", "delete-config", "set-config"]
    assert describe(bootstrap_servers, name) == (4, {"cleanup.policy": "compact"})
    assert apply_topics(bootstrap_servers, path) == []


def test_fewer_partitions_are_refused_and_nothing_changes(bootstrap_servers, spec_file):
    path, write = spec_file
    name = write(3)
    apply_topics(bootstrap_servers, path)
    write(1, **{"retention.ms": "1000"})
    with pytest.raises(TopicSpecError, match="(?s)nothing was changed.*cannot remove partitions"):
        apply_topics(bootstrap_servers, path)
    assert describe(bootstrap_servers, name) == (3, {})  # the config change was not applied either


def test_dry_run_changes_nothing(bootstrap_servers, spec_file):
    path, write = spec_file
    name = write(2)
    assert [c.action for c in apply_topics(bootstrap_servers, path, dry_run=True)] == ["create"]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    assert name not in admin.list_topics()
    admin.close()
