"""Errors of the events package: the contract, validation and publishing.

    EventsError                     base; every message says what is wrong and how to fix it
    ├── ContractError               a schema file is missing, unreadable or names an unknown event
    ├── EventRejected               an event broke the contract; `.problems` lists every problem
    ├── PublishError                the broker did not take an event (timeout, unreachable); safe to retry
    ├── OutboxError                 the outbox table is missing or a row cannot be read
    └── SimulatorError              the simulator was asked for something it cannot do (bad rate, count)

Messages never contain a national identity number: problems name the field, not the value.
"""

from __future__ import annotations

__all__ = ["EventsError", "ContractError", "EventRejected", "PublishError", "OutboxError", "SimulatorError"]


class EventsError(Exception):
    """Base of the errors of the events package."""


class ContractError(EventsError):
    """The event contract (events/schemas) is broken or asked for an event it does not define."""


class EventRejected(EventsError):
    """An event broke the contract. `problems` holds every problem found, each with a field path and a fix."""

    def __init__(self, problems) -> None:
        self.problems = tuple(problems)
        lines = [f"  {p}" for p in self.problems]
        super().__init__(f"event rejected with {len(self.problems)} problem(s):\n" + "\n".join(lines))


class PublishError(EventsError):
    """The broker did not acknowledge an event in time; nothing is known to be written. Retry it."""


class OutboxError(EventsError):
    """The transactional outbox could not be read or written."""


class SimulatorError(EventsError):
    """The office-system simulator got an impossible request."""
