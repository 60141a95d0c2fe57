"""The dead-letter index, the operators' actions and the audit in PostgreSQL (migration 0100).

    operators_dead_letters            one row per dead letter (metadata; the value stays on the topic)
    operators_dead_letter_positions   how far the index has read each partition
    operators_audit                   who replayed, discarded or viewed unmasked what, when and why

An action locks the dead letter's row (`Store.action`), so two operators replaying the same dead letter
at once replay it once: the second sees it replayed and is refused unless forced.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from services.operators.deadletters import DeadLetter, Ref
from services.pool import Pool

__all__ = ["Filter", "Store", "Action", "COLUMNS"]

LETTERS, POSITIONS, AUDIT = (sql.Identifier(n) for n in
                             ("operators_dead_letters", "operators_dead_letter_positions", "operators_audit"))
COLUMNS = ("dl_partition", "dl_offset", "dead_at", "source", "stage", "outcome", "reason", "problems", "error",
           "origin_topic", "origin_partition", "origin_offset", "event_name", "event_id", "value_bytes", "status",
           "replays", "generation", "parent_partition", "parent_offset", "updated_at")
SELECT = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(
    sql.SQL("{}::text").format(sql.Identifier(c)) if c == "event_id" else sql.Identifier(c) for c in COLUMNS),
    LETTERS)
INSERT = sql.SQL(
    "INSERT INTO {} (dl_topic, dl_partition, dl_offset, dead_at, source, stage, outcome, reason, problems, error, "
    "origin_topic, origin_partition, origin_offset, event_name, event_id, value_bytes, parent_partition, "
    "parent_offset) VALUES %s ON CONFLICT DO NOTHING").format(LETTERS)
ADVANCE = sql.SQL(
    "INSERT INTO {0} (dl_topic, dl_partition, next_offset) VALUES %s ON CONFLICT (dl_topic, dl_partition) "
    "DO UPDATE SET next_offset = GREATEST({0}.next_offset, EXCLUDED.next_offset), updated_at = now()").format(POSITIONS)
# A dead letter whose origin is where a replay was written is that replay failing again: link it to the
# replayed dead letter and count it one generation deeper (a loop shows as a rising generation).
LINK = sql.SQL(
    "UPDATE {0} AS d SET parent_partition = a.dl_partition, parent_offset = a.dl_offset, "
    "generation = p.generation + 1 FROM {1} AS a JOIN {0} AS p ON p.dl_topic = a.dl_topic AND "
    "p.dl_partition = a.dl_partition AND p.dl_offset = a.dl_offset WHERE a.action = 'replay' AND "
    "a.dl_topic = %s AND d.dl_topic = a.dl_topic AND d.origin_topic = a.target_topic AND "
    "d.origin_partition = a.target_partition AND d.origin_offset = a.target_offset AND d.parent_offset IS NULL"
).format(LETTERS, AUDIT)
LINK_BY_HEADER = sql.SQL(
    "UPDATE {0} AS d SET generation = p.generation + 1 FROM {0} AS p WHERE d.dl_topic = %s AND "
    "p.dl_topic = d.dl_topic AND p.dl_partition = d.parent_partition AND p.dl_offset = d.parent_offset AND "
    "d.generation = 0").format(LETTERS)


@dataclass(frozen=True)
class Filter:
    """What to show: every given condition must hold. `origin` 'intake' means the intake's dead letters."""

    origin: str | None = None
    stage: str | None = None
    reason: str | None = None
    text: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self, topic: str) -> tuple[sql.Composed, list[Any]]:
        """The WHERE condition and its parameters."""
        parts: list[sql.Composable] = [sql.SQL("dl_topic = %s")]
        params: list[Any] = [topic]

        def add(condition: str, value: Any) -> None:
            parts.append(sql.SQL(condition))
            params.append(value)

        if self.origin == "intake":
            parts.append(sql.SQL("source = 'intake'"))
        elif self.origin:
            add("origin_topic = %s", self.origin)
        for column, value in (("stage", self.stage), ("status", self.status)):
            if value:
                parts.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
                params.append(value)
        if self.reason:
            add("reason ILIKE %s", f"%{_like(self.reason)}%")
        if self.text:
            add("concat_ws(' ', reason, problems::text, error, event_name, source, origin_topic) ILIKE %s",
                f"%{_like(self.text)}%")
        if self.since:
            add("dead_at >= %s", self.since)
        if self.until:
            add("dead_at < %s", self.until)
        return sql.SQL(" AND ").join(parts), params


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _row(values: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(COLUMNS, values, strict=True))


class Action:
    """One locked dead letter inside a transaction: record what was done to it."""

    def __init__(self, cur, ref: Ref, row: dict[str, Any]):
        self.cur, self.ref, self.row = cur, ref, row

    def _audit(self, actor: str, role: str, action: str, forced: bool, why: str,
               target: tuple[str, int, int] | None = None) -> None:
        self.cur.execute(sql.SQL(
            "INSERT INTO {} (actor, role, action, forced, why, dl_topic, dl_partition, dl_offset, target_topic, "
            "target_partition, target_offset) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(AUDIT),
            (actor, role, action, forced, why, self.ref.topic, self.ref.partition, self.ref.offset,
             *(target or (None, None, None))))

    def _status(self, status: str, replayed: bool) -> None:
        self.cur.execute(sql.SQL(
            "UPDATE {} SET status = %s, replays = replays + %s, updated_at = now() WHERE dl_topic = %s AND "
            "dl_partition = %s AND dl_offset = %s").format(LETTERS),
            (status, int(replayed), self.ref.topic, self.ref.partition, self.ref.offset))

    def replayed(self, actor: str, role: str, forced: bool, why: str, target: tuple[str, int, int]) -> None:
        self._status("replayed", True)
        self._audit(actor, role, "replay", forced, why, target)

    def discarded(self, actor: str, role: str, forced: bool, why: str) -> None:
        self._status("discarded", False)
        self._audit(actor, role, "discard", forced, why)

    def viewed_unmasked(self, actor: str, role: str) -> None:
        self._audit(actor, role, "view_unmasked", False, "")


class Store:
    """The operators' tables behind a small connection pool."""

    def __init__(self, database_url: str, max_connections: int = 6):
        self._pool = Pool(database_url, max_connections)

    def close(self) -> None:
        self._pool.close()

    def _cursor(self):
        return self._pool.cursor()

    def positions(self, topic: str) -> dict[int, int]:
        with self._cursor() as cur:
            cur.execute(sql.SQL("SELECT dl_partition, next_offset FROM {} WHERE dl_topic = %s").format(POSITIONS),
                        (topic,))
            return dict(cur.fetchall())

    def add(self, topic: str, letters: Sequence[DeadLetter], positions: dict[int, int]) -> None:
        """Index dead letters and advance the read positions in one transaction (re-adding is a no-op)."""
        rows = [_insert_row(letter) for letter in letters]
        with self._cursor() as cur:
            if rows:
                execute_values(cur, INSERT, rows, page_size=500)
            if positions:
                execute_values(cur, ADVANCE, [(topic, p, o) for p, o in positions.items()])
            self._link(cur, topic)

    def _link(self, cur, topic: str) -> None:
        cur.execute(LINK_BY_HEADER, (topic,))
        cur.execute(LINK, (topic,))

    def relink(self, topic: str) -> None:
        """Link dead letters of replays recorded after the dead letter was indexed."""
        with self._cursor() as cur:
            self._link(cur, topic)

    def search(self, topic: str, where: Filter, limit: int = 100, offset: int = 0) -> tuple[int, list[dict]]:
        """(how many match, the newest `limit` of them after skipping `offset`)."""
        with self._cursor() as cur:
            condition, params = where.where(topic)
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(LETTERS, condition), params)
            total = cur.fetchone()[0]
            cur.execute(sql.SQL("{} WHERE {} ORDER BY dead_at DESC, dl_partition, dl_offset DESC LIMIT %s OFFSET %s"
                                ).format(SELECT, condition), (*params, limit, offset))
            return total, [_row(r) for r in cur.fetchall()]

    def get(self, ref: Ref) -> dict[str, Any] | None:
        with self._cursor() as cur:
            cur.execute(sql.SQL("{} WHERE dl_topic = %s AND dl_partition = %s AND dl_offset = %s").format(SELECT),
                        (ref.topic, ref.partition, ref.offset))
            row = cur.fetchone()
            return _row(row) if row else None

    @contextmanager
    def action(self, ref: Ref) -> Iterator[Action | None]:
        """The dead letter's row locked until the block ends (committed when it ends without an error)."""
        with self._cursor() as cur:
            cur.execute(sql.SQL("{} WHERE dl_topic = %s AND dl_partition = %s AND dl_offset = %s FOR UPDATE"
                                ).format(SELECT), (ref.topic, ref.partition, ref.offset))
            row = cur.fetchone()
            yield Action(cur, ref, _row(row)) if row else None

    def summary(self, topic: str, newest: int = 5) -> dict[str, Any]:
        """Counts for the dashboard: by status, open ones by origin and stage, the last hour, newest reasons."""
        with self._cursor() as cur:
            base = sql.SQL("FROM {} WHERE dl_topic = %s").format(LETTERS)
            cur.execute(sql.SQL("SELECT status, count(*) {} GROUP BY status").format(base), (topic,))
            statuses = dict(cur.fetchall())
            cur.execute(sql.SQL("SELECT coalesce(origin_topic, source), stage, count(*) {} AND status = 'open' "
                                "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 50").format(base), (topic,))
            groups = [{"origin": o, "stage": s, "count": n} for o, s, n in cur.fetchall()]
            cur.execute(sql.SQL("SELECT count(*) FILTER (WHERE dead_at > now() - interval '1 hour'), "
                                "count(*) FILTER (WHERE generation >= 1 AND status = 'open') {}").format(base), (topic,))
            last_hour, looping = cur.fetchone()
            cur.execute(sql.SQL("SELECT reason, count(*), max(dead_at) {} AND status = 'open' GROUP BY reason "
                                "ORDER BY max(dead_at) DESC LIMIT %s").format(base), (topic, newest))
            reasons = [{"reason": r, "count": n, "newest": t.isoformat()} for r, n, t in cur.fetchall()]
        return {"total": sum(statuses.values()), "by_status": statuses, "open": statuses.get("open", 0),
                "last_hour": last_hour, "failing_again": looping, "open_by_origin": groups, "newest_reasons": reasons}

    def audit(self, topic: str, ref: Ref | None = None, limit: int = 100) -> list[dict[str, Any]]:
        names = ("at", "actor", "role", "action", "forced", "why", "dl_partition", "dl_offset", "target_topic",
                 "target_partition", "target_offset")
        condition = sql.SQL("dl_topic = %s") + (sql.SQL(" AND dl_partition = %s AND dl_offset = %s") if ref else
                                                  sql.SQL(""))
        with self._cursor() as cur:
            cur.execute(sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY audit_id DESC LIMIT %s").format(
                sql.SQL(", ").join(map(sql.Identifier, names)), AUDIT, condition),
                (topic, *((ref.partition, ref.offset) if ref else ()), limit))
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _insert_row(letter: DeadLetter) -> tuple:
    parent = _parent(letter)
    return (letter.ref.topic, letter.ref.partition, letter.ref.offset, letter.dead_at, letter.source, letter.stage,
            letter.outcome, letter.reason, json.dumps(list(letter.problems), ensure_ascii=False), letter.error,
            letter.origin_topic, letter.origin_partition, letter.origin_offset, letter.event_name, letter.event_id,
            letter.size, *parent)


def _parent(letter: DeadLetter) -> tuple[int | None, int | None]:
    """The dead letter a replayed message came from, when its replay header survived into this dead letter."""
    topic, _, rest = (letter.replay_of or "").rpartition(":")
    topic, _, partition = topic.rpartition(":")
    if topic == letter.ref.topic and partition.isdigit() and rest.isdigit():
        return int(partition), int(rest)
    return None, None
