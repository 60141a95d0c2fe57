"""In-memory stand-ins for the broker and the receipts table, for unit tests of the intake's HTTP logic.
(Integration and e2e tests use the real Kafka and PostgreSQL.)"""

from __future__ import annotations

from events.publisher import Accepted
from services.intake.receipts import Receipt


class DoneFuture:
    def get(self, timeout=None):
        return None


class RecordingPublisher:
    """Records what would be sent; every message gets the next offset on partition 0."""

    def __init__(self):
        self.topic_map: dict[str, str] = {}
        self.sent = []
        self.dead = []

    def send_prepared(self, messages):
        out = []
        for m in messages:
            self.sent.append(m)
            out.append(Accepted(m.event_id, m.topic, 0, len(self.sent) - 1))
        return out

    def send_raw(self, topic, value, key, headers):
        self.dead.append((topic, value, key, dict(headers)))
        return DoneFuture()

    def flush(self):
        pass


class MemoryReceipts:
    def __init__(self):
        self.rows: dict[str, Receipt] = {}

    def find(self, event_ids):
        return {i: self.rows[i] for i in event_ids if i in self.rows}

    def claim(self, system, claims):
        won = set()
        for event_id, digest in claims:
            if event_id not in self.rows:
                self.rows[event_id] = Receipt(event_id, digest, "pending")
                won.add(event_id)
        return won

    def accept(self, done):
        for event_id, topic, partition, offset in done:
            self.rows[event_id] = Receipt(event_id, self.rows[event_id].digest, "accepted", topic, partition, offset)

    def release(self, event_ids):
        for event_id in event_ids:
            self.rows.pop(event_id, None)
