"""The console's own /metrics carries the stream health gauges its monitor samples (streams.health)."""

from __future__ import annotations

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from services.operators import OperatorsSettings
from streams.health import load_health_settings
from tests.integration.operators.support import TOKEN_TEXT, RunningConsole, forget, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_the_console_serves_the_health_gauges_of_its_samples(settings, bootstrap_servers, database_url, new_topic,
                                                             new_group):
    dlq, watched, group = new_topic(1), new_topic(1), new_group("veiviser-it-console-metrics")
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    for n in range(5):
        producer.send(watched, f"m{n}".encode(), partition=0)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(watched, 0): OffsetAndMetadata(2, "", -1)})
    consumer.close()
    running = RunningConsole(settings, OperatorsSettings(tokens=TOKEN_TEXT, dead_letter_topic=dlq,
                                                         sample_interval_s=1),
                             load_health_settings(groups=group, interval_s=1))
    try:
        lag = f'veiviser_consumer_lag_messages{{group="{group}",partition="0",topic="{watched}"}} 3.0'

        def showing_lag() -> str | None:
            text = httpx.get(running.url + "/metrics", timeout=30).text
            return text if lag in text else None

        text = wait_for(showing_lag, 60, "the console's /metrics did not show the watched group's lag")
        statuses = [line for line in text.splitlines() if line.startswith("veiviser_consumer_group_status{")
                    and f'group="{group}"' in line]
        assert len(statuses) == 3 and sum(float(line.split()[-1]) for line in statuses) == 1
        assert "veiviser_kafka_broker_up{" in text and "veiviser_health_last_sample_timestamp_seconds" in text
        assert "veiviser_operators_sample_duration_seconds_count" in text  # the console's own metrics still there
    finally:
        running.close()
        forget(database_url, dlq)
