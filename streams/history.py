"""Why a case went where it did: its audit trail and current decision, read from the ledger's tables.

A repository module (read side of streams.ledger): every event and decision of the case in order, with the
notes the router left (e.g. "not routable") and each decision's outcome, place and reasons, and the current
decision's full explanation (candidates considered and why each was not chosen). Never coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2 import sql

__all__ = ["Entry", "History", "case_history"]

SELECT_STATE = sql.SQL("SELECT status, events_seen, last_event_at::text FROM {} WHERE case_id = %s").format(
    sql.Identifier("streams_case_state"))
SELECT_AUDIT = sql.SQL(
    "SELECT seq, entry, event_name, occurred_at::text, detail FROM {} WHERE case_id = %s ORDER BY seq").format(
    sql.Identifier("streams_case_audit"))
SELECT_CURRENT = sql.SQL(
    "SELECT decision_id::text, outcome, point_id, team_id, owner_unit, explanation FROM {} "
    "WHERE case_id = %s AND is_current").format(sql.Identifier("streams_decisions"))


@dataclass(frozen=True)
class Entry:
    seq: int
    entry: str  # event | decision
    event_name: str
    occurred_at: str
    summary: str


@dataclass(frozen=True)
class History:
    case_id: str
    status: str
    events_seen: int
    entries: tuple[Entry, ...]
    current: dict[str, Any] | None  # decision id, outcome, point, team, owner, explanation

    @property
    def explain(self) -> list[str]:
        return list(self.current["explanation"].get("explain", [])) if self.current else []


def case_history(database_url: str, case_id: str) -> History | None:
    """The case's history, or None when the ledger has never seen the case."""
    with psycopg2.connect(database_url, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute(SELECT_STATE, (case_id,))
        state = cur.fetchone()
        if state is None:
            return None
        cur.execute(SELECT_AUDIT, (case_id,))
        entries = tuple(Entry(seq, entry, name, at, _summary(entry, detail)) for seq, entry, name, at, detail
                        in cur.fetchall())
        cur.execute(SELECT_CURRENT, (case_id,))
        row = cur.fetchone()
    current = dict(zip(("decision_id", "outcome", "point_id", "team_id", "owner_unit", "explanation"), row,
                       strict=True)) if row else None
    return History(case_id, state[0], state[1], entries, current)


def _summary(entry: str, detail: dict[str, Any]) -> str:
    if entry == "decision":
        where = detail.get("point_id") or detail.get("team_id") or "-"
        reasons = "; ".join(detail.get("reasons") or [])
        return f"{detail.get('outcome')} at {where} (owner {detail.get('owner_unit')}): {reasons}"
    note = detail.get("note")
    return f"note: {note}" if note else ""
