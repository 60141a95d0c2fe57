"""What the intake does with a request body, apart from HTTP: check, deduplicate, publish, dead-letter.

`Intake.submit(system, raw, batch)` returns an `Outcome` (HTTP status and JSON body). A batch is all or
nothing: when any event is rejected, none is published, every problem is listed per event index, and the
body is dead-lettered once with the reasons. Re-sending an accepted event returns its first result
(`duplicate: true`) and publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.problems import Problem
from events.publisher import Accepted, Prepared, Rejected, prepare
from events.validation import parse
from services.intake.receipts import Receipt, digest

__all__ = ["Outcome", "Intake"]

IMPERSONATION = "producing_system"


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Intake:
    def __init__(self, publisher: Any, receipts: Any, dead_letters: Any, max_batch: int = 2000):
        self.publisher = publisher
        self.receipts = receipts
        self.dead_letters = dead_letters
        self.max_batch = max_batch

    def submit(self, system: str, raw: bytes, batch: bool, endpoint: str) -> Outcome:
        events, problem = self._events(raw, batch)
        if problem is not None:
            return self._reject(raw, {None: [problem]}, system, endpoint, batch)
        prepared = [prepare(event, system, self.publisher.topic_map) for event in events]
        stored = self.receipts.find(sorted({p.event_id.lower() for p in prepared if isinstance(p, Prepared)}))
        rejected = {i: list(p.problems) for i, p in enumerate(prepared) if isinstance(p, Rejected)}
        rejected.update(_conflicts(prepared, stored))
        if rejected:
            return self._reject(raw, rejected, system, endpoint, batch, len(prepared))
        return self._publish(system, prepared, stored)

    def _events(self, raw: bytes, batch: bool) -> tuple[list[Any], Problem | None]:
        parsed, problems = parse(raw)
        if problems:
            return [], problems[0]
        if not batch:
            return [parsed], None
        events = parsed.get("events") if isinstance(parsed, dict) else None
        if not isinstance(events, list) or not 1 <= len(events) <= self.max_batch:
            return [], Problem("events", f"a batch is an object {{\"events\": [...]}} with 1 to {self.max_batch} "
                               "events", "send the events in an array under 'events', split into smaller batches")
        return events, None

    def _reject(self, raw: bytes, rejected: dict[int | None, list[Problem]], system: str, endpoint: str,
                batch: bool, total: int = 0) -> Outcome:
        impersonation = all(p.path == IMPERSONATION for ps in rejected.values() for p in ps)
        status = 403 if impersonation else 422
        flat = [Problem(_indexed(i if batch else None, p.path), p.message, p.fix)
                for i, ps in rejected.items() for p in ps]
        try:
            self.dead_letters.keep(raw, flat, system=system, endpoint=endpoint, status=status)
        except Exception as exc:
            return _unavailable(f"the rejection could not be kept on the dead-letter topic ({type(exc).__name__})")
        body = {
            "error": "rejected: nothing was published; fix every problem listed and send again",
            "rejected": [{"index": i, "problems": [p.as_dict() for p in ps]} for i, ps in rejected.items()],
            "not_published": [i for i in range(total) if i not in rejected],
        }
        return Outcome(status, body)

    def _publish(self, system: str, prepared: list[Prepared], stored: dict[str, Receipt]) -> Outcome:
        unique = list({p.event_id.lower(): p for p in prepared}.values())
        done = {key: r for key, r in stored.items() if r.status == "accepted"}
        # new ids, and ids a crashed request left pending (taken over once the claim is stale)
        open_ = [p for p in unique if p.event_id.lower() not in done]
        claimed = self.receipts.claim(system, [(p.event_id.lower(), digest(p.value)) for p in open_])
        mine = [p for p in open_ if p.event_id.lower() in claimed]
        results = self.publisher.send_prepared(mine)
        sent = [(r.event_id.lower(), r.topic, r.partition, r.offset) for r in results if isinstance(r, Accepted)]
        self.receipts.accept(sent)
        self.receipts.release([r.event_id.lower() for r in results if not isinstance(r, Accepted)])
        if len(sent) < len(mine) or len(claimed) < len(open_):
            return _unavailable("some events were not acknowledged by the broker or are being published by "
                                "another request right now")
        return Outcome(202, {"accepted": _accepted(prepared, done, sent)})


def _conflicts(prepared: list, stored: dict[str, Receipt]) -> dict[int, list[Problem]]:
    """Event ids used for two different events (in this batch, or before): a sender's bug, never a retry."""
    found: dict[int, list[Problem]] = {}
    seen: dict[str, bytes] = {}
    for index, item in enumerate(prepared):
        if not isinstance(item, Prepared):
            continue
        event_id, body = item.event_id.lower(), digest(item.value)
        earlier = seen.setdefault(event_id, body)
        receipt = stored.get(event_id)
        if earlier != body or (receipt is not None and receipt.digest != body):
            found[index] = [Problem("event_id", "was already used for a different event",
                                    "give every new event a new UUID; re-send an event only unchanged")]
    return found


def _accepted(prepared: list[Prepared], stored: dict[str, Receipt], sent: list[tuple]) -> list[dict[str, Any]]:
    where = {r.event_id: (r.topic, r.partition, r.offset) for r in stored.values()}
    where.update({row[0]: row[1:] for row in sent})
    fresh = {row[0] for row in sent}
    out = []
    for item in prepared:
        key = item.event_id.lower()
        topic, partition, offset = where[key]
        out.append({"event_id": item.event_id, "topic": topic, "partition": partition, "offset": offset,
                    "duplicate": key not in fresh})
        fresh.discard(key)
    return out


def _indexed(index: int | None, path: str) -> str:
    return path if index is None else f"events[{index}].{path}" if path != "$" else f"events[{index}]"


def _unavailable(why: str) -> Outcome:
    return Outcome(503, {"error": f"not done: {why}. Nothing is lost: send the same request again later."},
                   {"Retry-After": "5"})
