"""The office-status agent: the same stages as every agent, on veiviser.office-status.v1.

Every worker's OfficeStatusTable reads the whole topic to keep its board, and leaves out what it cannot use;
this agent, in the consumer group (so each message is checked by exactly one worker), is the one that
dead-letters such messages with their reasons and origin: unparseable bytes or an event breaking the
contract. Skipped (counted, and logged once per office): events of other kinds, and status changes of an
office the registry has no service point of (the router could not use them; the registry needs the unit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from events.problems import Problem
from events.validation import check
from geo.offices import Registry
from streams.delivery import Message, Send, Summary, deliver
from streams.retry import Backoff
from streams.stages import Stages, dead_letter, handle

__all__ = ["StatusCheckAgent", "status_stages", "AGENT"]

log = logging.getLogger(__name__)
AGENT = "office-status"
NAME = "office.status_changed"


def status_stages(registry: Registry) -> Stages[Any]:
    units, unknown = {p.unit for p in registry.points.values()}, set()

    def mine(event: Any) -> bool:
        if not isinstance(event, dict):
            return True
        name, payload = event.get("event_name"), event.get("payload")
        office = payload.get("office_id") if isinstance(payload, dict) else None
        if name == NAME and isinstance(office, str) and office not in units and office not in unknown:
            unknown.add(office)
            log.warning("office %s has no service point in the office registry: its status changes are skipped "
                        "(add the unit to geo/data/offices.yaml)", office)
        return not (isinstance(name, str) and name != NAME and "." in name) and office not in unknown

    def validate(event: Any) -> Sequence[Problem]:
        problems = check(event).problems
        if problems or event.get("event_name") != NAME:
            return problems or (Problem("event_name", f"is not {NAME}", f"send only {NAME} events to this topic"),)
        return ()

    return Stages(AGENT, json.loads, mine, validate, lambda _event: ())


class StatusCheckAgent:
    def __init__(self, registry: Registry, send: Send, *, dead_letter_topic: str, backoff: Backoff) -> None:
        self.stages, self.send, self.backoff = status_stages(registry), send, backoff
        self.dead_letter_topic = dead_letter_topic

    async def process(self, messages: Sequence[Message]) -> Summary:
        summary, outputs = Summary(), []
        for message in messages:
            handled = handle(self.stages, message.value or b"")
            summary.add(handled.outcome.value)
            if handled.dead_lettered:
                outputs.append(dead_letter(handled, message.value or b"", message.origin, AGENT,
                                           self.dead_letter_topic))
        summary.dead_letters = len(outputs)
        await deliver(self.send, outputs, self.backoff, AGENT)
        summary.count(AGENT)
        return summary
