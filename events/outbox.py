"""The transactional outbox: write the event in your own PostgreSQL transaction, let a relay publish it.

    with conn, conn.cursor() as cur:                 # the office system's own transaction
        cur.execute("UPDATE cases SET ...")
        enqueue(cur, event)                           # checked against the contract, then inserted

    relay = OutboxRelay(database_url, publisher)
    relay.drain()                                     # or relay.run(stop) in a worker

The table (event_outbox) comes from infra/migrations/0030_outbox.sql. The relay takes a transaction-level
advisory lock, so only one relay publishes at a time and rows go out in id order; a row is marked sent only
after the broker acknowledged it. A relay that stops between publishing and marking publishes those rows
again after a restart (at least once; the event id stays the same, so consumers drop the repeat). Nothing
is lost: a row leaves the pending set only when Kafka has it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from events.errors import EventRejected, OutboxError
from events.publisher import Accepted, Prepared, Publisher, prepare

__all__ = ["TABLE", "enqueue", "OutboxRelay"]

TABLE = "event_outbox"
RELAY_LOCK = 0x0E7B0C5  # advisory lock key of the outbox relay


def enqueue(cursor: Any, event: Any, *, producing_system: str | None = None, table: str = TABLE,
            topic_map: dict[str, str] | None = None) -> Prepared:
    """Check the event and insert it into the outbox within the caller's transaction.

    Raises EventRejected (with every problem) when the event breaks the contract: roll back then.
    Enqueuing the same event id twice keeps the first row."""
    prepared = prepare(event, producing_system, topic_map)
    if not isinstance(prepared, Prepared):
        raise EventRejected(prepared.problems)
    cursor.execute(sql.SQL(
        "INSERT INTO {} (event_id, topic, message_key, value, headers) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (event_id) DO NOTHING").format(sql.Identifier(table)),
        (prepared.event_id, prepared.topic, prepared.key, prepared.value, _headers_json(prepared.headers)))
    return prepared


def _headers_json(headers: list[tuple[str, bytes]]) -> str:
    return json.dumps([[name, value.decode()] for name, value in headers])


class OutboxRelay:
    """Publishes pending outbox rows in order and marks them sent."""

    def __init__(self, database_url: str, publisher: Publisher, *, batch_size: int = 500, table: str = TABLE):
        self.database_url = database_url
        self.publisher = publisher
        self.batch_size = batch_size
        self.table = sql.Identifier(table)

    def run_once(self) -> int:
        """Publish one batch of pending rows; return how many were published and marked sent."""
        import psycopg2

        try:
            conn = psycopg2.connect(self.database_url)
        except psycopg2.OperationalError as exc:
            raise OutboxError(f"cannot reach the outbox database: {str(exc).strip()}; is it running?") from None
        try:
            with conn, conn.cursor() as cur:
                return self._relay(cur)
        except psycopg2.errors.UndefinedTable:
            raise OutboxError("the outbox table is missing: run `veiviser migrate` (0030_outbox.sql)") from None
        finally:
            conn.close()

    def _relay(self, cur: Any) -> int:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (RELAY_LOCK,))
        if not cur.fetchone()[0]:
            return 0  # another relay is publishing; it keeps the order
        cur.execute(sql.SQL("SELECT id, event_id::text, topic, message_key, value, headers FROM {} "
                            "WHERE sent_at IS NULL ORDER BY id LIMIT %s").format(self.table), (self.batch_size,))
        rows = cur.fetchall()
        results = self.publisher.send_prepared([_message(row) for row in rows])
        done = []
        for row, result in zip(rows, results, strict=True):
            if not isinstance(result, Accepted):
                break  # keep order: nothing after a failure is marked sent
            done.append((row[0], result.partition, result.offset))
        self._mark_sent(cur, done)
        return len(done)

    def _mark_sent(self, cur: Any, done: list[tuple[int, int, int]]) -> None:
        if not done:
            return
        execute_values(cur, sql.SQL(
            "UPDATE {} AS o SET sent_at = now(), kafka_partition = v.p, kafka_offset = v.o "
            "FROM (VALUES %s) AS v(id, p, o) WHERE o.id = v.id").format(self.table).as_string(cur), done)

    def drain(self) -> int:
        """Publish until nothing is pending; return the number published."""
        total = 0
        while (count := self.run_once()) > 0:
            total += count
        return total

    def run(self, stop: threading.Event, idle_s: float = 0.5) -> None:
        """Relay until `stop` is set, resting `idle_s` when nothing is pending."""
        while not stop.is_set():
            if self.run_once() == 0:
                stop.wait(idle_s)


def _message(row: tuple) -> Prepared:
    _, event_id, topic, key, value, headers = row
    return Prepared(event_id, topic, bytes(key), bytes(value), [(n, v.encode()) for n, v in headers])
