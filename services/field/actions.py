"""Actions on a stop: start, complete, could not meet. The outcome is recorded once per visit and route day; a
start once per visit, route day and worker (a visit handed over mid-day is started anew by the colleague).

    start -> visit.started      complete -> visit.completed      fail (with a reason) -> visit.failed

Idempotent: the first tap stores the event (with its event id) and publishes it; a second tap of the same
action returns the stored result (`duplicate: true`) and publishes nothing. A tap whose publishing was not
acknowledged leaves the event stored as 'pending'; the next tap re-sends the same event (same id), never a
new one. A visit has one outcome per day: completing a visit recorded as failed (or the other way round), or
starting a finished one, is a 409 that says what was recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from events import contract
from events.publisher import Accepted, Rejected
from services.field.errors import ActionConflict, BadAction, Unavailable
from services.field.store import ActionRow, Claim

__all__ = ["ACTIONS", "Actions", "ActionResult", "failure_reasons"]

STEP = {"start": "start", "complete": "finish", "fail": "finish"}
OUTCOME = {"start": "started", "complete": "completed", "fail": "failed"}
EVENT = {"start": "visit.started", "complete": "visit.completed", "fail": "visit.failed"}
ACTIONS = tuple(STEP)
VISITS = uuid.UUID("6f1b8a52-3c1e-4d7a-9a55-0b7f3f0e2a91")  # namespace of the visits' correlation ids


def failure_reasons() -> tuple[str, ...]:
    """The reasons a visit can fail, from the visit.failed schema (the contract is the one source)."""
    payload = contract.schema("visit.failed")["properties"]["payload"]
    return tuple(payload["properties"]["reason"]["enum"])


@dataclass(frozen=True)
class ActionResult:
    visit_id: str
    day: date
    action: str
    outcome: str
    reason: str | None
    acted_at: datetime
    event_id: str | None
    published: bool
    duplicate: bool

    def body(self) -> dict[str, Any]:
        return {"visit_id": self.visit_id, "day": self.day.isoformat(), "action": self.action,
                "outcome": self.outcome, "reason": self.reason, "acted_at": self.acted_at.isoformat(),
                "event_id": self.event_id, "published": self.published, "duplicate": self.duplicate}


class Actions:
    def __init__(self, store: Any, publisher: Any, producing_system: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.publisher = publisher
        self.producing_system = producing_system
        self.clock = clock

    def act(self, worker_id: str, day: date, stop: Any, action: str, reason: str | None) -> ActionResult:
        """Record (and publish) `action` on `stop` of worker_id's route of `day`. Raises a FieldError."""
        reason = _checked(action, reason)
        if action == "start":
            finished = self.store.of_day(day, [stop.visit_id], worker_id).get((stop.visit_id, "finish"))
            if finished is not None:
                raise ActionConflict(f"visit {stop.visit_id} is already recorded as {_recorded(finished)}",
                                     "there is nothing to start: go on to the next stop")
        new = self._row(worker_id, day, stop, action, reason)
        with self.store.claim(new) as claim:
            _refuse_conflict(claim.row, action, reason)
            duplicate = claim.row.status == "published"  # an earlier tap published it: nothing to send
            if not duplicate:
                self._publish(claim)  # ours, or an earlier tap's event that Kafka did not acknowledge
        row = claim.row
        if row.status == "pending":
            raise Unavailable(f"the {row.outcome} event of visit {row.visit_id} is stored but Kafka did not "
                              "acknowledge it", "tap the same button again in a moment: the same event is re-sent")
        return ActionResult(row.visit_id, day, action, row.outcome, row.reason, row.acted_at,
                            row.event["event_id"] if row.event else None, row.status == "published", duplicate)

    def _row(self, worker_id: str, day: date, stop: Any, action: str, reason: str | None) -> ActionRow:
        at = self.clock()
        event = self._event(action, stop, worker_id, at, reason)
        return ActionRow(stop.visit_id, day, STEP[action], OUTCOME[action], reason, worker_id, stop.case_id, at,
                         event, "pending")

    def _event(self, action: str, stop: Any, worker_id: str, at: datetime, reason: str | None) -> dict[str, Any]:
        stamp = at.isoformat(timespec="seconds")
        payload = {"case_id": stop.case_id, "visit_id": stop.visit_id, "worker_id": worker_id}
        if action == "complete":
            payload["completed_at"] = stamp
        elif action == "fail":
            payload.update(attempted_at=stamp, reason=reason)
        else:
            payload["started_at"] = stamp
        return {"event_id": str(uuid.uuid4()), "event_name": EVENT[action], "schema_version": 1,
                "occurred_at": stamp, "producing_system": self.producing_system,
                "correlation_id": str(uuid.uuid5(VISITS, stop.visit_id)), "causation_id": None,
                "ordering_key": stop.case_id, "payload": payload}

    def _publish(self, claim: Claim) -> None:
        result = self.publisher.publish(claim.row.event)
        if isinstance(result, Accepted):
            claim.published(result.topic, result.partition, result.offset)
        elif isinstance(result, Rejected):  # our own event breaks the contract: a bug, not the worker's fault
            raise RuntimeError(f"the field service built an invalid {claim.row.event['event_name']}: {result.reason}")


def _checked(action: str, reason: str | None) -> str | None:
    if action not in STEP:
        raise BadAction(f"unknown action {action!r}", f"use one of: {', '.join(ACTIONS)}")
    if action != "fail":
        if reason is not None:
            raise BadAction(f"a reason is only given when the visit could not take place (action 'fail'), "
                            f"not with {action!r}", "leave out 'reason'")
        return None
    reasons = failure_reasons()
    if reason not in reasons:
        got = "no reason" if reason is None else f"reason {reason!r}"
        raise BadAction(f"{got} for a visit that could not take place",
                        f"send {{\"reason\": one of {', '.join(reasons)}}}")
    return reason


def _refuse_conflict(row: ActionRow, action: str, reason: str | None) -> None:
    if row.outcome != OUTCOME[action] or row.reason != reason:
        raise ActionConflict(f"visit {row.visit_id} is already recorded as {_recorded(row)}",
                             "a visit has one outcome a day; if it was wrong, ask the office to correct the case")


def _recorded(row: ActionRow) -> str:
    what = f"{row.outcome} ({row.reason})" if row.reason else row.outcome
    return f"{what} at {row.acted_at.isoformat(timespec='minutes')}"
