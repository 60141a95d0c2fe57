"""The office status table: every worker reads the whole compacted office-status topic into an OfficeBoard.

Routing needs the state of every office, whatever partitions of the case topic a worker owns, so this is a
global table: a consumer without a group is assigned all partitions of veiviser.office-status.v1, reads
from the beginning (the compacted topic holds the latest status per office) and keeps following it. `ready`
is set once it has caught up with the end offsets seen at start, so the first decisions already see every
known closure. A message that is not a valid office.status_changed event is counted as rejected and left
out (the intake and the publishing library check events before they reach the topic).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from events.validation import check
from geo.errors import GeoError
from geo.offices import OfficeBoard, Registry
from streams import metrics
from streams.errors import StreamError
from streams.routing import status_events

__all__ = ["OfficeStatusTable"]

log = logging.getLogger(__name__)
AGENT = "office-table"  # the table's counters; the checking agent counts as "office-status"


class OfficeStatusTable:
    def __init__(self, bootstrap_servers: str, topic: str, registry: Registry) -> None:
        self.bootstrap_servers, self.topic, self.registry = bootstrap_servers, topic, registry
        self.board = OfficeBoard(registry)
        self.ready = asyncio.Event()
        self.applied = 0

    def apply(self, raw: bytes | None) -> bool:
        """Apply one message; False (counted as rejected) when it is not a valid status change."""
        verdict = check(raw or b"")
        event = verdict.event if verdict.ok else None
        if event is None or event.get("event_name") != "office.status_changed":
            metrics.count(AGENT, "rejected")
            log.warning("office status message left out: %s", verdict.problems[:1] or "not a status change")
            return False
        try:
            changes = status_events(event, self.registry)
        except (GeoError, ValueError) as exc:
            metrics.count(AGENT, "failed")
            log.warning("office status message left out: %s", exc)
            return False
        events = dict(self.board.events)
        for change in changes:
            self.registry.point(change.point_id)
            events[change.point_id] = sorted([*events.get(change.point_id, ()), change], key=lambda e: e.at)
        self.board.events = events  # copy-on-write: a router thread holding the old dict sees a consistent one
        self.applied += 1
        metrics.count(AGENT, "ok")
        return True

    async def run(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            cluster = await consumer._client.fetch_all_metadata()
            found = cluster.partitions_for_topic(self.topic)
            if not found:
                raise StreamError(f"topic {self.topic!r} does not exist; create the topics with `veiviser up` "
                                  "(infra/topics.yaml) or set VEIVISER_STREAMS_OFFICE_STATUS_TOPIC")
            parts = [TopicPartition(self.topic, p) for p in sorted(found)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            end = await consumer.end_offsets(parts) if parts else {}
            await self._follow(consumer, end)
        finally:
            await consumer.stop()

    async def _follow(self, consumer: Any, end: dict) -> None:
        if not end or all(offset == 0 for offset in end.values()):
            self.ready.set()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                for record in records:
                    self.apply(record.value)
            if not self.ready.is_set() and all(await _positions(consumer, end)):
                log.info("office status caught up: %d status change(s)", self.applied)
                self.ready.set()


async def _positions(consumer: Any, end: dict) -> list[bool]:
    return [await consumer.position(tp) >= offset for tp, offset in end.items()]
