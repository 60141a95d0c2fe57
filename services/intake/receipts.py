"""Receipts of accepted events in PostgreSQL (table intake_receipts, migration 0031): idempotency by event id.

A request first claims the ids it is about to publish (status 'pending'); only the request that claimed an
id publishes it, then records topic/partition/offset ('accepted'). Re-sending an accepted event returns the
stored result; a claim left behind by a crash is taken over after STALE_CLAIM.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from psycopg2.extras import execute_values

from services.pool import Pool

__all__ = ["Receipt", "Receipts", "digest", "STALE_CLAIM"]

STALE_CLAIM = "60 seconds"


@dataclass(frozen=True)
class Receipt:
    event_id: str
    digest: bytes
    status: str  # pending | accepted
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


def digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


class Receipts:
    """The receipts table behind a small connection pool."""

    def __init__(self, database_url: str, max_connections: int = 8):
        self._pool = Pool(database_url, max_connections)

    def close(self) -> None:
        self._pool.close()

    def _run(self, work) -> Any:
        with self._pool.cursor() as cur:
            return work(cur)

    def find(self, event_ids: list[str]) -> dict[str, Receipt]:
        def work(cur):
            cur.execute("SELECT event_id::text, body_sha256, status, topic, kafka_partition, kafka_offset "
                        "FROM intake_receipts WHERE event_id = ANY(%s::uuid[])", (event_ids,))
            return {row[0]: Receipt(row[0], bytes(row[1]), *row[2:]) for row in cur.fetchall()}

        return self._run(work) if event_ids else {}

    def claim(self, system: str, claims: list[tuple[str, bytes]]) -> set[str]:
        """Claim (event id, digest) pairs; return the ids this call may publish."""
        def work(cur):
            rows = execute_values(cur, (
                "INSERT INTO intake_receipts (event_id, producing_system, body_sha256, status) VALUES %s "
                "ON CONFLICT (event_id) DO UPDATE SET claimed_at = now() "
                "WHERE intake_receipts.status = 'pending' AND intake_receipts.body_sha256 = EXCLUDED.body_sha256 "
                f"AND intake_receipts.claimed_at < now() - interval '{STALE_CLAIM}' RETURNING event_id::text"),
                [(event_id, system, value, "pending") for event_id, value in claims], page_size=len(claims), fetch=True)
            return {row[0] for row in rows}

        return self._run(work) if claims else set()

    def accept(self, done: list[tuple[str, str, int, int]]) -> None:
        """Record (event id, topic, partition, offset) of published events."""
        def work(cur):
            execute_values(cur, (
                "UPDATE intake_receipts AS r SET status = 'accepted', accepted_at = now(), topic = v.t, "
                "kafka_partition = v.p, kafka_offset = v.o FROM (VALUES %s) AS v(id, t, p, o) "
                "WHERE r.event_id = v.id::uuid"), done, page_size=len(done))

        if done:
            self._run(work)

    def release(self, event_ids: list[str]) -> None:
        """Drop claims whose publishing failed, so a retry can publish them."""
        def work(cur):
            cur.execute("DELETE FROM intake_receipts WHERE status = 'pending' AND event_id = ANY(%s::uuid[])",
                        (event_ids,))

        if event_ids:
            self._run(work)
