"""The field service's own table (field_visit_actions, migrations 0090 and 0091) and the one fact it reads from
the router's case state: whether a case's person has a protected address.

A visit has one 'finish' row a day (its outcome, whoever recorded it) and one 'start' row per worker who
started it that day (a worker off sick hands a started visit back; the colleague who takes it starts it anew).

An action runs inside `Store.claim(row)`: the row is inserted unless the visit's step already has one, then
locked (SELECT ... FOR UPDATE) for the rest of the block, so a double tap waits for the first tap to finish
and then sees what it recorded. The block records the broker's acknowledgement with `Claim.published`; a
row left 'pending' keeps its event, which the next tap re-sends unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from psycopg2 import sql

from services.pool import Pool

__all__ = ["ActionRow", "Claim", "Store"]

TABLE = sql.Identifier("field_visit_actions")
COLUMNS = ("visit_id", "shift_date", "step", "outcome", "reason", "worker_id", "case_id", "acted_at", "event",
           "status", "topic", "kafka_partition", "kafka_offset")
_COLS = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
INSERT = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
    TABLE, _COLS, sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
LOCK = sql.SQL("SELECT {} FROM {} WHERE visit_id = %s AND shift_date = %s AND step = %s "
               "AND (step = 'finish' OR worker_id = %s) FOR UPDATE").format(_COLS, TABLE)
PUBLISHED = sql.SQL("UPDATE {} SET status = 'published', topic = %s, kafka_partition = %s, kafka_offset = %s, "
                    "updated_at = now() WHERE visit_id = %s AND shift_date = %s AND step = %s "
                    "AND worker_id = %s").format(TABLE)
OF_DAY = sql.SQL("SELECT {} FROM {} WHERE shift_date = %s AND visit_id = ANY(%s) "
                 "AND (step = 'finish' OR worker_id = %s)").format(_COLS, TABLE)
PROTECTION = sql.SQL("SELECT case_id, profile->>'protected_address' FROM {} WHERE case_id = ANY(%s)").format(
    sql.Identifier("streams_case_state"))


@dataclass(frozen=True)
class ActionRow:
    visit_id: str
    shift_date: date
    step: str  # start | finish
    outcome: str  # started | completed | failed
    reason: str | None
    worker_id: str
    case_id: str
    acted_at: datetime
    event: dict[str, Any] | None
    status: str  # pending | published ('recorded': a step without an event; none has that now)
    topic: str | None = None
    kafka_partition: int | None = None
    kafka_offset: int | None = None

    def values(self) -> tuple[Any, ...]:
        event = json.dumps(self.event) if self.event is not None else None
        return tuple(event if name == "event" else getattr(self, name) for name in COLUMNS)


class Claim:
    """The locked row of one visit step, inside its transaction."""

    def __init__(self, cur: Any, row: ActionRow):
        self._cur = cur
        self.row = row

    def published(self, topic: str, partition: int, offset: int) -> None:
        self._cur.execute(PUBLISHED, (topic, partition, offset, self.row.visit_id, self.row.shift_date, self.row.step,
                                      self.row.worker_id))
        self.row = replace(self.row, status="published", topic=topic, kafka_partition=partition, kafka_offset=offset)


class Store:
    """field_visit_actions behind a small connection pool."""

    def __init__(self, database_url: str, max_connections: int = 8):
        self._pool = Pool(database_url, max_connections)

    def close(self) -> None:
        self._pool.close()

    def _cursor(self):
        return self._pool.cursor()

    @contextmanager
    def claim(self, new: ActionRow) -> Iterator[Claim]:
        """Insert `new` unless its visit step has a row, lock the row, yield it; commit when the block ends."""
        with self._cursor() as cur:
            cur.execute(INSERT, new.values())
            cur.execute(LOCK, (new.visit_id, new.shift_date, new.step, new.worker_id))
            yield Claim(cur, ActionRow(*cur.fetchone()))

    def of_day(self, day: date, visit_ids: list[str], worker_id: str) -> dict[tuple[str, str], ActionRow]:
        """(visit id, step) -> the row, for the visits of one route day: their outcomes, and the starts that
        worker recorded (a colleague's start of a visit handed back is not theirs)."""
        if not visit_ids:
            return {}
        with self._cursor() as cur:
            cur.execute(OF_DAY, (day, visit_ids, worker_id))
            rows = [ActionRow(*r) for r in cur.fetchall()]
        return {(r.visit_id, r.step): r for r in rows}

    def protection(self, case_ids: list[str]) -> dict[str, str]:
        """case id -> protected_address grading as the router last saw it ('none', 'confidential', ...)."""
        if not case_ids:
            return {}
        with self._cursor() as cur:
            cur.execute(PROTECTION, (case_ids,))
            return {case_id: grading or "unknown" for case_id, grading in cur.fetchall()}
