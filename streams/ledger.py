"""The ledger: every event a consumer processed, the case state, the audit trail and the decisions, in
PostgreSQL, effectively once under at-least-once delivery.

`Ledger.record(batch)` runs ONE transaction per batch: it inserts the event ids into
streams_processed_events (primary key consumer + event id, ON CONFLICT DO NOTHING RETURNING), and only the
events that were new there change the business rows: the case state (folded by streams.cases), an audit row
per event and per decision (seq in order per case), and the decisions (at most one current per case,
enforced by a partial unique index; none once the case closed: closing withdraws it with a 'withdrawn' row
and follow-up), and the office slots that bookings use and cancellations release
(streams_office_bookings, read at the start of the batch so decisions see the capacity already used; with
several workers a slot counted by another worker's open transaction is seen once it commits). A redelivered
event changes nothing; its stored follow-up is returned
again so the caller can re-send it (the follow-up id is derived from the event id, so receivers dedupe).
The caller commits Kafka offsets only after `record` returned. A lost or refused connection becomes
`TransientError` (retry with backoff); the next call reconnects.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson
import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values, register_default_jsonb

from streams.cases import CaseState, audit_detail, fold
from streams.errors import LedgerRefused, TransientError
from streams.routing import WITHDRAWN, withdrawal

__all__ = ["copy_rows", "Incoming", "DecisionRow", "Decided", "Recorded", "merge", "Ledger", "Decide", "Changes", "Prepare", "Slot"]

PAGE = 500
log = logging.getLogger(__name__)
PROCESSED, STATE = sql.Identifier("streams_processed_events"), sql.Identifier("streams_case_state")
DECISIONS, AUDIT = sql.Identifier("streams_decisions"), sql.Identifier("streams_case_audit")

INSERT_PROCESSED = sql.SQL(
    "INSERT INTO {} (consumer, event_id, case_id, source_topic, source_partition, source_offset) VALUES %s "
    "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id::text").format(PROCESSED)
SELECT_STATES = sql.SQL(
    "SELECT case_id, status, profile, locations, appointments, events_seen, audit_seq, last_event_id::text, "
    "last_event_at::text FROM {} WHERE case_id = ANY(%s) ORDER BY case_id FOR UPDATE").format(STATE)
UPSERT_STATES = sql.SQL(
    "INSERT INTO {} (case_id, status, profile, locations, appointments, events_seen, audit_seq, last_event_id, "
    "last_event_at) VALUES %s ON CONFLICT (case_id) DO UPDATE SET status = EXCLUDED.status, "
    "profile = EXCLUDED.profile, locations = EXCLUDED.locations, appointments = EXCLUDED.appointments, "
    "events_seen = EXCLUDED.events_seen, audit_seq = EXCLUDED.audit_seq, last_event_id = EXCLUDED.last_event_id, "
    "last_event_at = EXCLUDED.last_event_at, updated_at = now()").format(STATE)
AUDIT_COLUMNS = ("case_id", "seq", "entry", "event_id", "event_name", "occurred_at", "source_partition",
                 "source_offset", "decision_id", "detail")
RETIRE_CURRENT = sql.SQL("UPDATE {} SET is_current = false WHERE case_id = ANY(%s) AND is_current").format(DECISIONS)
DECISION_COLUMNS = ("decision_id", "case_id", "event_id", "outcome", "point_id", "team_id", "owner_unit",
                    "explanation", "followup", "decided_at", "is_current")
BOOKINGS = sql.Identifier("streams_office_bookings")
SELECT_BOOKINGS = sql.SQL("SELECT point_id, day, booked FROM {} WHERE consumer = %s AND day >= %s").format(BOOKINGS)
ADD_BOOKINGS = sql.SQL(
    "INSERT INTO {0} (consumer, point_id, day, booked) VALUES %s ON CONFLICT (consumer, point_id, day) DO UPDATE SET "
    "booked = {0}.booked + EXCLUDED.booked, updated_at = now()").format(BOOKINGS)
SET_ERRORS = sql.SQL(
    "UPDATE {} AS p SET error = v.error FROM (VALUES %s) AS v(event_id, error) "
    "WHERE p.consumer = {} AND p.event_id = v.event_id::uuid")
STORED_ERRORS = sql.SQL(
    "SELECT event_id::text, error FROM {} WHERE consumer = %s AND event_id = ANY(%s::uuid[]) "
    "AND error IS NOT NULL").format(PROCESSED)
CLEAR_ERRORS = sql.SQL(
    "UPDATE {} SET error = NULL WHERE consumer = %s AND event_id = ANY(%s::uuid[])").format(PROCESSED)
STORED_FOLLOWUPS = sql.SQL(
    "SELECT event_id::text, followup FROM {} WHERE event_id = ANY(%s::uuid[])").format(DECISIONS)


@dataclass(frozen=True)
class Incoming:
    """One valid case event and where it was consumed."""

    event: Mapping[str, Any]
    topic: str
    partition: int
    offset: int
    retry: bool = False  # replayed by an operator after a fix: a routing error stored for it is retried

    @property
    def event_id(self) -> str:
        return self.event["event_id"]

    @property
    def case_id(self) -> str:
        return self.event["payload"]["case_id"]


@dataclass(frozen=True)
class DecisionRow:
    decision_id: str
    case_id: str
    event_id: str
    outcome: str
    point_id: str | None
    team_id: str | None
    owner_unit: str | None
    explanation: dict[str, Any]
    followup: dict[str, Any]
    decided_at: str


@dataclass(frozen=True)
class Decided:
    """What routing made of a case on one event: a decision, or why there is none (`note`), or an `error`
    (a bug or data the router did not expect: the event is still recorded, and dead-lettered by the caller)."""

    row: DecisionRow | None = None
    note: str = ""
    error: str = ""


Slot = tuple[str, date]  # service point id, day
Decide = Callable[[CaseState, Mapping[str, Any], Mapping[Slot, int]], Decided]
Changes = Callable[[CaseState | None, Mapping[str, Any]], list[tuple[Slot, int]]]
Prepare = Callable[[Sequence[Mapping[str, Any]]], None]


@dataclass
class Recorded:
    """What one `record` call did."""

    fresh: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)  # new and re-sent, in their events' order
    failures: dict[str, str] = field(default_factory=dict)  # event id -> error (recorded, routing failed)
    refused: dict[str, str] = field(default_factory=dict)  # event id -> error (the database refused it)
    replayed: dict[str, str] = field(default_factory=dict)  # redelivered event id -> its stored routing error
    retried: list[str] = field(default_factory=list)  # replayed event ids whose failed routing was tried again


def merge(first: Recorded, second: Recorded) -> Recorded:
    """Two consecutive parts of one batch as one result, in order."""
    return Recorded(first.fresh + second.fresh, first.duplicates + second.duplicates,
                    first.decisions + second.decisions, first.followups + second.followups,
                    {**first.failures, **second.failures}, {**first.refused, **second.refused},
                    {**first.replayed, **second.replayed}, first.retried + second.retried)


@dataclass
class _Work:
    states: dict[str, CaseState]
    seqs: dict[str, int]
    bookings: dict[Slot, int] = field(default_factory=dict)
    booking_changes: dict[Slot, int] = field(default_factory=dict)
    audit: list[tuple] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> its follow-up (new or stored)
    result: Recorded = field(default_factory=Recorded)


class Ledger:
    """One connection, one transaction per batch. Not thread-safe: one per agent."""

    def __init__(self, database_url: str, consumer: str, decide: Decide, changes: Changes | None = None,
                 connect_timeout_s: int = 5, prepare: Prepare | None = None) -> None:
        """decide: routes a case (state, event, bookings per slot); changes: the slots an event books (+1)
        or releases (-1), from the case state before it (None: bookings are not tracked); prepare: sees a
        batch's new events before they are applied, to do in one go what decide would do one by one."""
        self.database_url, self.consumer, self.decide, self.changes = database_url, consumer, decide, changes
        self.prepare = prepare
        self.connect_timeout_s = connect_timeout_s
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def record(self, batch: Sequence[Incoming]) -> Recorded:
        if not batch:
            return Recorded()
        try:
            conn = self._connection()
            with conn, conn.cursor() as cur:
                return self._record(cur, batch)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            # includes deadlocks and serialization failures (subclasses): retrying the batch resolves them
            self.close()
            raise TransientError(f"the ledger database is unavailable or the batch conflicted "
                                 f"({str(exc).strip()[:300]}); retrying the batch") from exc
        except psycopg2.Error as exc:
            raise LedgerRefused(f"the database refused the batch: {type(exc).__name__}: "
                                f"{str(exc).strip()[:500]}") from exc

    def _connection(self):
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(self.database_url, connect_timeout=self.connect_timeout_s,
                                          application_name=f"veiviser-{self.consumer}")
            register_default_jsonb(self._conn, loads=orjson.loads)
        return self._conn

    def _record(self, cur, batch: Sequence[Incoming]) -> Recorded:
        rows = [(self.consumer, i.event_id, i.case_id, i.topic, i.partition, i.offset) for i in batch]
        fresh_ids = {r[0] for r in execute_values(cur, INSERT_PROCESSED, rows, page_size=PAGE, fetch=True)}
        fresh, taken, duplicates = [], set(), []
        for item in batch:
            if item.event_id in fresh_ids and item.event_id not in taken:
                taken.add(item.event_id)
                fresh.append(item)
            else:
                duplicates.append(item.event_id)
        self._prepare(fresh)
        errors = self._stored_errors(cur, [d for d in duplicates if d not in taken])
        retry = {i.event_id: i for i in batch if i.retry and i.event_id in errors and i.event_id not in taken}
        work = self._load(cur, {i.case_id for i in fresh} | {i.case_id for i in retry.values()})
        if self.changes is not None and (fresh or retry):
            work.bookings = self._bookings(cur, fresh or list(retry.values()))
        for item in fresh:
            self._apply_or_fail(work, item)
        for item in retry.values():
            self._retry(work, item)
        self._write(cur, work)
        if retry:
            cur.execute(CLEAR_ERRORS, (self.consumer, [e for e in retry if e not in work.result.failures]))
        work.result.duplicates = [d for d in duplicates if d not in retry]
        work.sent.update(self._stored_followups(cur, [d for d in work.result.duplicates if d not in taken]))
        work.result.followups = _in_batch_order(batch, work.sent)
        work.result.replayed = {e: error for e, error in errors.items() if e not in retry}
        return work.result

    def _load(self, cur, case_ids: set[str]) -> _Work:
        if not case_ids:
            return _Work({}, {})
        cur.execute(SELECT_STATES, (sorted(case_ids),))
        states, seqs = {}, {}
        for case_id, status, profile, locations, appts, seen, seq, last_id, last_at in cur.fetchall():
            states[case_id] = CaseState(case_id, status, profile, tuple(locations), appts, seen, last_id, last_at)
            seqs[case_id] = seq
        return _Work(states, seqs)

    def _bookings(self, cur, fresh: list[Incoming]) -> dict[Slot, int]:
        first = min(date.fromisoformat(i.event["occurred_at"][:10]) for i in fresh) - timedelta(days=1)
        cur.execute(SELECT_BOOKINGS, (self.consumer, first))
        return {(point, day): booked for point, day, booked in cur.fetchall()}

    def _apply(self, work: _Work, item: Incoming) -> None:
        event, case_id, result = item.event, item.case_id, work.result
        before = work.states.get(case_id)
        step = fold(before, event)
        work.states[case_id] = step.state
        if self.changes is not None:
            for slot, delta in self.changes(before, event):
                work.bookings[slot] = work.bookings.get(slot, 0) + delta
                work.booking_changes[slot] = work.booking_changes.get(slot, 0) + delta
        if step.route:
            decided = self._decide(step.state, event, work.bookings)
        else:
            decided = _withdrawn(case_id, event) if step.withdraw else Decided(note=step.note)
        self._audit(work, item, "event", None, audit_detail(event, decided.note or step.note))
        result.fresh.append(item.event_id)
        if decided.error:
            result.failures[item.event_id] = decided.error
        if decided.row is not None:
            result.decisions.append(decided.row)
            work.sent[item.event_id] = decided.row.followup
            self._audit(work, item, "decision", decided.row.decision_id, _decision_detail(decided.row))

    def _apply_or_fail(self, work: _Work, item: Incoming) -> None:
        """_apply, and when something other than routing breaks on the event (a bug in folding it, say), the
        event is recorded with the error and dead-lettered by the caller: a poison event never crash-loops
        the worker. The case state stays as it was before the event."""
        case_id, result = item.case_id, work.result
        state, seq, marks = work.states.get(case_id), work.seqs.get(case_id), (len(work.audit), len(result.decisions))
        try:
            self._apply(work, item)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded and dead-lettered, never dropped
            error = f"{type(exc).__name__}: {exc}"[:1000]
            _restore(work.states, case_id, state)
            _restore(work.seqs, case_id, seq)
            del work.audit[marks[0]:], result.decisions[marks[1]:]
            work.sent.pop(item.event_id, None)
            if item.event_id not in result.fresh:
                result.fresh.append(item.event_id)
            result.failures[item.event_id] = error
            self._audit(work, item, "event", None, {"event_name": item.event.get("event_name"),
                                                    "note": f"could not be applied: {error}"})
            log.error("%s: event %s could not be applied: %s", self.consumer, item.event_id, error)

    def _prepare(self, fresh: list[Incoming]) -> None:
        if self.prepare is None or not fresh:
            return
        try:
            self.prepare([item.event for item in fresh])
        except Exception:  # noqa: BLE001 - only a shortcut: decide does the same work one by one
            log.warning("%s: preparing a batch failed; deciding without it", self.consumer, exc_info=True)

    def _retry(self, work: _Work, item: Incoming) -> None:
        """Route again an event whose routing failed, replayed after a fix: the case as it stands now."""
        state = work.states.get(item.case_id)
        decided = self._decide(state, item.event, work.bookings) if state is not None else Decided(
            note="the case is not in the ledger")
        work.result.retried.append(item.event_id)
        if decided.error:
            work.result.failures[item.event_id] = decided.error
            return
        if decided.row is None:
            self._audit(work, item, "event", None, {**audit_detail(item.event), "note": f"retried: {decided.note}"})
            return
        work.result.decisions.append(decided.row)
        work.sent[item.event_id] = decided.row.followup
        self._audit(work, item, "decision", decided.row.decision_id, _decision_detail(decided.row))

    def _decide(self, state: CaseState, event: Mapping[str, Any], bookings: Mapping[Slot, int]) -> Decided:
        try:
            return self.decide(state, event, bookings)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded and dead-lettered by the caller, never dropped
            return Decided(note="routing failed", error=f"{type(exc).__name__}: {exc}"[:1000])

    def _audit(self, work: _Work, item: Incoming, entry: str, decision: str | None, detail: dict) -> None:
        seq = work.seqs.get(item.case_id, 0) + 1
        work.seqs[item.case_id] = seq
        event = item.event
        work.audit.append((item.case_id, seq, entry, item.event_id, event["event_name"], event["occurred_at"],
                           item.partition, item.offset, decision, _json(detail)))

    def _write(self, cur, work: _Work) -> None:
        if work.states:
            execute_values(cur, UPSERT_STATES, [_state_row(s, work.seqs[c]) for c, s in work.states.items()],
                           page_size=PAGE)
        if work.audit:
            copy_rows(cur, AUDIT, AUDIT_COLUMNS, work.audit)
        if work.result.failures:
            execute_values(cur, SET_ERRORS.format(PROCESSED, sql.Literal(self.consumer)),
                           list(work.result.failures.items()), page_size=PAGE)
        changed = sorted((self.consumer, point, day, n) for (point, day), n in work.booking_changes.items() if n)
        if changed:
            execute_values(cur, ADD_BOOKINGS, changed, page_size=PAGE)
        decisions = work.result.decisions
        if decisions:
            last = {d.case_id: d.decision_id for d in decisions}  # a withdrawal last: no current decision
            cur.execute(RETIRE_CURRENT, (sorted(last),))
            copy_rows(cur, DECISIONS, DECISION_COLUMNS, [_decision_row(d, last[d.case_id] == d.decision_id
                                                                       and d.outcome != WITHDRAWN)
                                                         for d in decisions])

    def _stored_errors(self, cur, event_ids: list[str]) -> dict[str, str]:
        if not event_ids:
            return {}
        cur.execute(STORED_ERRORS, (self.consumer, event_ids))
        return dict(cur.fetchall())

    def _stored_followups(self, cur, event_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not event_ids:
            return {}
        cur.execute(STORED_FOLLOWUPS, (event_ids,))
        return dict(cur.fetchall())


def copy_rows(cur, table: sql.Identifier, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert rows with COPY (text format): several times cheaper than INSERT ... VALUES for append-only
    rows on both sides (no per-value quoting in Python, no statement to parse). None is NULL."""
    lines = "".join("\t".join(map(_copy_text, row)) + "\n" for row in rows)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(map(sql.Identifier, columns)))
    cur.copy_expert(statement, io.StringIO(lines))


def _copy_text(value: Any) -> str:
    """One value in COPY's text format: backslash, tab, newline and carriage return escaped; None is \\N."""
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _restore(values: dict, key: str, value: Any) -> None:
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value


def _in_batch_order(batch: Sequence[Incoming], sent: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The follow-ups in the order of the events that caused them (a redelivered batch re-sends stored ones
    at their events' places, so one case's follow-ups never go out of order)."""
    seen: set[str] = set()
    ordered = []
    for item in batch:
        if item.event_id not in seen and item.event_id in sent:
            ordered.append(sent[item.event_id])
        seen.add(item.event_id)
    return ordered


def _withdrawn(case_id: str, event: Mapping[str, Any]) -> Decided:
    """A closed case's current decision is withdrawn: a decision row that is never current, and its follow-up."""
    follow = withdrawal(case_id, event)
    return Decided(DecisionRow(follow["followup_id"], case_id, event["event_id"], WITHDRAWN, None, None, None,
                               {"explain": [f"case {case_id}: withdrawn", *follow["reasons"]]}, follow,
                               event["occurred_at"]))


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _state_row(state: CaseState, seq: int) -> tuple:
    return (state.case_id, state.status, _json(state.profile),
            _json(state.locations), _json(state.appointments),
            state.events_seen, seq, state.last_event_id, state.last_event_at)


def _decision_row(d: DecisionRow, current: bool) -> tuple:
    return (d.decision_id, d.case_id, d.event_id, d.outcome, d.point_id, d.team_id, d.owner_unit,
            _json(d.explanation), _json(d.followup),
            d.decided_at, current)


def _decision_detail(d: DecisionRow) -> dict[str, Any]:
    return {"decision_id": d.decision_id, "outcome": d.outcome, "point_id": d.point_id, "team_id": d.team_id,
            "owner_unit": d.owner_unit, "reasons": d.followup.get("reasons", [])}
