"""The planner agent's work on one batch, independent of faust (streams.planner_app wires it).

    veiviser.followups.v1 (kind mobile_visit) ─┐
    veiviser.field-shifts.v1 (shift events) ───┼─ stages (deserialize, precondition, validate) ─▶ ONE transaction:
    veiviser.visit-events.v1 (visit events) ───┘      │         record ids, apply (visits, shifts, statuses),
                                                 dead letters    re-plan each affected team, store plans
                                                                         ├─▶ route.planned / route.changed
                                                                         │   (veiviser.route-plans.v1, key team)
                                                                         └─▶ office_appointment_requested for
                                                                             each escalated visit (followups, key case)

An escalated visit (waited too long, protected address, no location, refused or unsafe) becomes an office
appointment request: a follow-up of kind office_appointment_requested with a follow-up id derived from the visit
id (redelivery never makes a second one). It is sent after the transaction and then marked sent; one not marked
(a crash between) is sent again with the same id when its team is next planned. The planner skips its own kind.

Effectively once: the follow-up / event ids are recorded (planning_processed_events) in the transaction
that applies them; a redelivered message changes nothing, but its team is planned again and its route event
sent again, so a crash between the commit and the send loses no route event. Each message is applied under
a savepoint: one the database refuses is dead-lettered (stage store) and the rest go on; a team whose
planning fails (a bug) dead-letters the messages that touched it (stage plan). A TransientError (database
or broker briefly away) retries the whole batch with backoff and never dead-letters.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
from prometheus_client import Counter, Histogram

from events.problems import Problem
from events.validation import check
from geo.decisions import Outcome as RoutingOutcome
from geo.windows import KINDS
from streams import plans as repo
from streams.delivery import Message, Send, Summary, deliver, on_retry
from streams.fieldplan import (
    CAUSES,
    OFFICE_REQUESTED,
    TZ,
    Item,
    PlannerConfig,
    apply_item,
    office_request,
    replan,
    route_event,
)
from streams.retry import Backoff, retry_async
from streams.stages import Handled, Outcome, Output, Stages, dead_letter, handle

__all__ = ["PlannerAgent", "planner_stages", "AGENT", "EVENTS"]

log = logging.getLogger(__name__)
AGENT = "planner"
EVENTS = frozenset({"field_worker.shift_scheduled", "visit.started", "visit.completed", "visit.failed"})
MOBILE = RoutingOutcome.MOBILE_VISIT.value
DEFAULT_BACKOFF = Backoff()
PLAN_SECONDS = Histogram("veiviser_planner_team_plan_seconds", "Re-planning one team's coming days (solve and store)",
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
UNPLANNED = Counter("veiviser_planner_unplanned_visits", "Visits a plan left out, by reason and next step",
                    ["reason", "next_step"])
FOLLOWUP_FIELDS = {"followup_id": str, "case_id": str, "kind": str}
MOBILE_FIELDS = {"team_id": str, "location_kind": str}


def _deserialize(raw: bytes) -> Any:
    return json.loads(raw)


def _mine(message: Any) -> bool:
    """Mine: a follow-up (a mobile visit opens a visit; any other kind, e.g. withdrawn, cancels the case's
    open visit; but not the planner's own office appointment requests), or a shift or visit event (anything
    else is counted as skipped)."""
    if not isinstance(message, dict):
        return True
    if "followup_id" in message:
        return message.get("kind") != OFFICE_REQUESTED  # the planner's own escalations: for the offices
    return message.get("event_name") in EVENTS or "event_name" not in message


def _problems(message: Any) -> list[Problem]:
    if isinstance(message, dict) and "followup_id" in message:
        return _followup_problems(message)
    problems = list(check(message).problems)
    if not problems and message.get("event_name") == "field_worker.shift_scheduled":
        problems.extend(_shift_problems(message["payload"]))
    return problems


def _shift_problems(shift: dict) -> list[Problem]:
    """Rules across fields the schema cannot express: a shift ends after it starts, on the same day."""
    if shift["ends"] <= shift["starts"]:  # HH:MM strings (the schema checked the pattern) order as times
        return [Problem("payload.ends", f"{shift['ends']} is not after starts {shift['starts']}",
                        "send local HH:MM (Europe/Oslo) with ends later the same day than starts; a shift past "
                        "midnight is two shifts, one per date")]
    return []


def _followup_problems(followup: dict) -> list[Problem]:
    needed = {**FOLLOWUP_FIELDS, **(MOBILE_FIELDS if followup.get("kind") == MOBILE else {})}
    problems = [Problem(name, f"is missing or not a {kind.__name__}", "send the follow-up as the router writes it")
                for name, kind in needed.items() if not isinstance(followup.get(name), kind)]
    kind = followup.get("location_kind")
    if isinstance(kind, str) and kind not in KINDS:
        problems.append(Problem("location_kind", f"is not one of {', '.join(KINDS)}", "use home, work or school"))
    day = followup.get("appointment_day")
    if day is not None and not _is_date(day):
        problems.append(Problem("appointment_day", "is not a date YYYY-MM-DD", "send a date or null"))
    return problems


def _is_date(value: Any) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except (TypeError, ValueError):
        return False
    return True


def _cause(item: Item | None) -> str:
    if item is None:
        return "daily"
    if item.kind == "followup" and item.payload["kind"] != MOBILE:
        return "visit_cancelled"
    return CAUSES.get(item.kind, "daily")


def planner_stages() -> Stages[Any]:
    return Stages(AGENT, _deserialize, _mine, _problems, lambda _message: ())


def _item(message: dict) -> Item:
    if "followup_id" in message:
        return Item("followup", str(message["followup_id"]), message)
    return Item(message["event_name"], message["event_id"], message)


class PlannerAgent:
    def __init__(self, database_url: str, send: Send, config: PlannerConfig, *, route_plans_topic: str,
                 dead_letter_topic: str, followups_topic: str, backoff: Backoff = DEFAULT_BACKOFF,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.database_url, self.send, self.config, self.backoff, self.clock = database_url, send, config, backoff, clock
        self.route_plans_topic, self.dead_letter_topic = route_plans_topic, dead_letter_topic
        self.followups_topic = followups_topic
        self.stages = planner_stages()

    async def process(self, messages: Sequence[Message]) -> Summary:
        summary, items, outputs = Summary(), [], []
        for message in messages:
            handled = handle(self.stages, message.value or b"")
            if handled.outcome is Outcome.OK:
                items.append((_item(handled.item), message))
            else:
                summary.add(handled.outcome.value)
                if handled.dead_lettered:
                    outputs.append(self._dead_letter(handled, message))
        work = None
        if items:
            work = await retry_async(lambda: asyncio.to_thread(self._work, items), self.backoff, on_retry(AGENT))
            outputs.extend(self._outputs(work, summary))
        summary.dead_letters = sum(1 for o in outputs if o.topic == self.dead_letter_topic)
        summary.followups = len(outputs) - summary.dead_letters
        await deliver(self.send, outputs, self.backoff, AGENT)
        await self._escalations_sent(work)
        summary.count(AGENT)
        return summary

    async def _escalations_sent(self, work: dict | None) -> None:
        sent = [e.visit_id for e in (work or {}).get("escalations", ())]
        if sent:
            await retry_async(lambda: asyncio.to_thread(repo.mark_escalations_sent, self.database_url, sent),
                              self.backoff, on_retry(AGENT))

    def _work(self, items: list[tuple[Item, Message]]) -> dict[str, Any]:
        """In a thread, one transaction: record, apply, re-plan. Returns what to send and count."""
        now = self.clock()
        today = now.astimezone(TZ).date()
        work: dict[str, Any] = {"events": [], "refused": [], "failed": [], "unknown": [], "new": 0, "duplicate": 0}
        with repo.connect(self.database_url) as conn, conn.cursor() as cur:
            new = repo.fresh(cur, self.config.consumer, list(dict.fromkeys(item.id for item, _ in items)))
            teams: dict[str, list[tuple[Item, Message]]] = {}
            for item, message in items:
                touched = self._apply(cur, item, message, item.id in new, today, work)
                new.discard(item.id)  # a second copy in the same batch is a duplicate
                for team in sorted(touched):
                    teams.setdefault(team, []).append((item, message))
            for team, touching in sorted(teams.items()):
                self._replan(cur, team, touching, now, work)
            work["escalations"] = repo.pending_escalations(cur, sorted(teams))
        return work

    async def tick(self, teams: Sequence[str] | None = None) -> Summary:
        """The periodic re-plan (a new day): every active team (or only `teams`) is planned again, so
        unplanned visits are offered again and those that waited too long are escalated (cause daily)."""
        summary = Summary()
        work = await retry_async(lambda: asyncio.to_thread(self._tick, teams), self.backoff, on_retry(AGENT))
        outputs = self._outputs(work, summary)
        summary.followups = len(outputs)
        await deliver(self.send, outputs, self.backoff, AGENT)
        await self._escalations_sent(work)
        return summary

    def _tick(self, teams: Sequence[str] | None) -> dict[str, Any]:
        now = self.clock()
        today = now.astimezone(TZ).date()
        work: dict[str, Any] = {"events": [], "refused": [], "failed": [], "unknown": [], "new": 0, "duplicate": 0}
        with repo.connect(self.database_url) as conn, conn.cursor() as cur:
            last = today + timedelta(days=self.config.horizon_days - 1)
            for team in teams if teams is not None else repo.active_teams(cur, today, last):
                self._replan(cur, team, [], now, work)
            work["escalations"] = repo.pending_escalations(cur, teams)
        return work

    def _apply(self, cur, item: Item, message: Message, is_new: bool, today, work: dict) -> set[str]:
        if not is_new:
            work["duplicate"] += 1
            return self._team_of(cur, item)
        cur.execute("SAVEPOINT planner_item")
        try:
            touched = apply_item(cur, item, self.config, today)
        except psycopg2.DatabaseError as exc:
            if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
                raise
            cur.execute("ROLLBACK TO SAVEPOINT planner_item")
            work["refused"].append((message, f"the database refused it: {str(exc).strip()}"))
            return set()
        cur.execute("RELEASE SAVEPOINT planner_item")
        if touched is None:
            return self._unknown_visit(cur, item, message, work)
        work["new"] += 1
        return touched

    def _unknown_visit(self, cur, item: Item, message: Message, work: dict) -> set[str]:
        """A visit event for a visit the planner never opened: dead-lettered (rejected) with the reason, and its
        id un-recorded so that a replay once the visit exists is applied."""
        visit = item.payload["visit_id"]
        reason = (f"payload.visit_id: {visit} is not a visit the planner knows ({item.kind} for case "
                  f"{item.payload['case_id']}). Fix: send the visit id of a stop on the worker's route, or replay "
                  "this message once the visit's mobile-visit follow-up has been planned")
        log.warning("planner: %s %s dead-lettered: %s", item.kind, item.id, reason)
        repo.forget(cur, self.config.consumer, item.id)
        work["unknown"].append((message, reason))
        return set()

    @staticmethod
    def _team_of(cur, item: Item) -> set[str]:
        """The team a redelivered message touched (re-planned again so its route event is sent again)."""
        if item.kind == "field_worker.shift_scheduled" or (item.kind == "followup" and item.payload["kind"] == MOBILE):
            return {item.payload["team_id"]}
        if item.kind == "followup":
            return repo.case_teams(cur, item.payload["case_id"])
        known = repo.visit_state(cur, item.payload["visit_id"])
        return {known[0]} if known else set()

    def _replan(self, cur, team: str, touching: list[tuple[Item, Message]], now: datetime, work: dict) -> None:
        cur.execute("SAVEPOINT planner_team")
        try:
            with PLAN_SECONDS.time():
                planned = replan(cur, team, now, self.config)
        except psycopg2.OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - a planning bug dead-letters the messages, never stalls the partition
            cur.execute("ROLLBACK TO SAVEPOINT planner_team")
            log.exception("planner: planning team %s failed", team)
            work["failed"].extend((m, f"planning team {team} failed: {type(exc).__name__}: {exc}") for _, m in touching)
            return
        cur.execute("RELEASE SAVEPOINT planner_team")
        for u in planned.unplanned:
            UNPLANNED.labels(reason=u["reason"], next_step=u["next_step"]).inc()
        last = touching[-1][0] if touching else None
        cause = _cause(last)
        causation = last.id if last and last.kind != "followup" else None
        work["events"].append(route_event(planned, cause, now, causation, self.config))

    def _outputs(self, work: dict, summary: Summary) -> list[Output]:
        now = self.clock()
        work["failed"] = list({id(m): (m, e) for m, e in reversed(work["failed"])}.values())[::-1]  # once each
        summary.add(Outcome.OK.value, max(0, work["new"] - len(work["failed"])))
        summary.add("duplicate", work["duplicate"])
        summary.add(Outcome.FAILED.value, len(work["refused"]) + len(work["failed"]))
        summary.add(Outcome.REJECTED.value, len(work["unknown"]))
        outputs = [self._dead_letter(Handled(Outcome.FAILED, stage, error=error), message)
                   for stage, key in (("store", "refused"), ("plan", "failed")) for message, error in work[key]]
        outputs.extend(self._dead_letter(Handled(Outcome.REJECTED, "apply", error=error), message)
                       for message, error in work["unknown"])
        for event in work["events"]:
            value = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
            headers = (("event_name", event["event_name"].encode()), ("event_id", event["event_id"].encode()))
            outputs.append(Output(self.route_plans_topic, event["ordering_key"].encode(), value, headers))
        outputs.extend(self._office_request(e, now) for e in work.get("escalations", ()))
        return outputs

    def _office_request(self, escalation: repo.Escalation, now: datetime) -> Output:
        follow = office_request(escalation, now)
        value = json.dumps(follow, ensure_ascii=False, separators=(",", ":")).encode()
        headers = (("followup_id", follow["followup_id"].encode()), ("kind", OFFICE_REQUESTED.encode()))
        return Output(self.followups_topic, escalation.case_id.encode(), value, headers)

    def _dead_letter(self, handled: Handled, message: Message) -> Output:
        return dead_letter(handled, message.value or b"", message.origin, AGENT, self.dead_letter_topic)

