"""The router agent's work on one batch of case events, independent of faust (streams.app wires it).

    messages ─ stages (deserialize, precondition, validate) ─▶ ledger.record (decide + store, ONE transaction)
                    │                                                 │
             dead letters (rejected, unparseable)       follow-ups (new, and re-sent for redelivered
                                                         events) + dead letters (routing failed)

Order of effects per batch: the ledger transaction commits first; then the dead letters and follow-ups are
sent and their delivery awaited; only then does the batch return, and the caller acknowledges the messages
(faust commits offsets of acknowledged messages only). A crash anywhere before that redelivers the batch:
the ledger turns the redelivered events into no-ops and returns their stored follow-ups, which are sent
again (same follow-up id: receivers dedupe). A TransientError from the ledger retries the batch with
backoff and never dead-letters it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from events import topics
from events.validation import check
from geo.offices import OfficeBoard
from geo.regions import Edition, edition_at, remember
from geo.routing import Router
from streams import metrics
from streams.cases import CaseState
from streams.delivery import Message, Send, Summary, deliver, on_retry
from streams.errors import LedgerRefused
from streams.ledger import Decided, DecisionRow, Incoming, Ledger, Recorded, Slot, merge
from streams.retry import Backoff, retry_async
from streams.routing import explanation, followup, to_geo_case
from streams.stages import Handled, Outcome, Output, Stages, dead_letter, handle

__all__ = ["Message", "Summary", "RouterAgent", "decider", "placer", "router_stages", "AGENT"]

log = logging.getLogger(__name__)
AGENT = "router"
DEFAULT_BACKOFF = Backoff()
CASE_SCOPED = frozenset({topics.CASE_EVENTS, topics.VISIT_EVENTS})  # visit events: kept in the audit trail


def _deserialize(raw: bytes) -> Any:
    return orjson.loads(raw)


def _mine(event: Any) -> bool:
    """Not mine: a contract event that belongs on another topic (counted as skipped)."""
    route = topics.ROUTES.get(event.get("event_name")) if isinstance(event, dict) else None
    return route is None or route.topic in CASE_SCOPED


def _problems(event: Any):
    return check(event).problems


def router_stages() -> Stages[Any]:
    return Stages(AGENT, _deserialize, _mine, _problems, lambda _event: ())


def decider(router: Router, board: Callable[[], OfficeBoard | None]):
    """The ledger's decide function: route the case state at the event's time with the current office board
    and the bookings the ledger knows (shared by every worker through the database)."""

    def decide(state: CaseState, event: Mapping[str, Any], bookings: Mapping[Slot, int]) -> Decided:
        case = to_geo_case(state, router.registry)
        if case is None:
            return Decided(note="no location of the person could be placed: not routable")
        known = board()
        current = OfficeBoard(router.registry, known.events if known is not None else {}, dict(bookings))
        decision = router.route(case, at=event["occurred_at"], board=current)
        follow = followup(decision, event, protected=case.protection.value != "none")
        return Decided(DecisionRow(follow["followup_id"], state.case_id, event["event_id"], decision.outcome.value,
                                   decision.point_id, decision.team_id, decision.owner_unit, explanation(decision),
                                   follow, decision.at.isoformat()))

    return decide


def placer(router: Router) -> Callable[[Sequence[Mapping[str, Any]]], None]:
    """The ledger's prepare function: places every coordinate of a batch's events in one vectorized geo call
    per boundary edition (geo remembers them), so deciding the events one by one finds them placed."""

    def prepare(events: Sequence[Mapping[str, Any]]) -> None:
        points: dict[str, tuple[Edition, list[float], list[float]]] = {}
        for event in events:
            located = [loc["coordinates"] for loc in event["payload"].get("locations") or () if "coordinates" in loc]
            if located:
                edition = edition_at(event["occurred_at"])
                _, lons, lats = points.setdefault(edition.id, (edition, [], []))
                lons.extend(c["lon"] for c in located)
                lats.extend(c["lat"] for c in located)
        for edition, lons, lats in points.values():
            remember(edition, lons, lats)

    return prepare


class RouterAgent:
    def __init__(self, ledger: Ledger, send: Send, *, followups_topic: str, dead_letter_topic: str,
                 backoff: Backoff = DEFAULT_BACKOFF) -> None:
        self.ledger, self.send, self.backoff = ledger, send, backoff
        self.followups_topic, self.dead_letter_topic = followups_topic, dead_letter_topic
        self.stages = router_stages()

    async def process(self, messages: Sequence[Message]) -> Summary:
        summary, incoming, outputs, raws = Summary(), [], [], {}
        for message in messages:
            handled = handle(self.stages, message.value or b"")
            summary.add(handled.outcome.value)
            if handled.outcome is Outcome.OK:
                item = Incoming(handled.item, message.origin.topic, message.origin.partition, message.origin.offset,
                                retry=message.replayed)
                incoming.append(item)
                raws[item.event_id] = message
            elif handled.dead_lettered:
                outputs.append(self._dead_letter(handled, message))
        recorded = await self._record_all(incoming)
        self._count(summary, recorded)
        outputs.extend(self._failed(recorded, raws))
        summary.dead_letters = len(outputs)
        outputs.extend(self._followup(f) for f in recorded.followups)
        summary.followups = len(recorded.followups)
        await deliver(self.send, outputs, self.backoff, AGENT)
        summary.count(AGENT)
        fresh = set(recorded.fresh)
        metrics.observe_latency(AGENT, (raws[e].published_s for e in raws if e in fresh))
        return summary

    @staticmethod
    def _count(summary: Summary, recorded: Recorded) -> None:
        summary.outcomes.pop(Outcome.OK.value, None)
        summary.add(Outcome.OK.value, len(recorded.fresh) + len(recorded.retried) - len(recorded.failures))
        summary.add("duplicate", len(recorded.duplicates))
        summary.add(Outcome.FAILED.value, len(recorded.failures) + len(recorded.refused))

    def _failed(self, recorded: Recorded, raws: Mapping[str, Message]) -> list[Output]:
        """Dead letters for events routing failed on (new, or redelivered: sent again), or the database refused."""
        failed = [("decide", *f) for f in {**recorded.replayed, **recorded.failures}.items()]
        failed += [("store", *r) for r in recorded.refused.items()]
        return [self._dead_letter(Handled(Outcome.FAILED, stage, error=error), raws[event_id])
                for stage, event_id, error in failed]

    async def _record(self, incoming: list[Incoming]) -> Recorded:
        """In a worker thread: faust keeps fetching the next batch while this one is routed and stored."""
        return await asyncio.to_thread(self.ledger.record, incoming)

    async def _record_all(self, incoming: list[Incoming]) -> Recorded:
        """Record the batch; when the database refuses it, split it in halves until the refused event is
        alone, and report that one as refused (dead-lettered) so the partition moves on."""
        try:
            return await retry_async(lambda: self._record(incoming), self.backoff, on_retry(AGENT))
        except LedgerRefused as exc:
            if len(incoming) == 1:
                log.error("router: event %s refused by the database: %s", incoming[0].event_id, exc)
                return Recorded(refused={incoming[0].event_id: str(exc)})
            half = len(incoming) // 2
            return merge(await self._record_all(incoming[:half]), await self._record_all(incoming[half:]))

    def _dead_letter(self, handled: Handled, message: Message) -> Output:
        return dead_letter(handled, message.value or b"", message.origin, AGENT, self.dead_letter_topic)

    def _followup(self, follow: Mapping[str, Any]) -> Output:
        value = orjson.dumps(follow)
        headers = (("followup_id", str(follow["followup_id"]).encode()), ("kind", str(follow["kind"]).encode()))
        return Output(self.followups_topic, str(follow["case_id"]).encode(), value, headers)
