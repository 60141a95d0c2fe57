"""events: the event contract (versioned JSON Schemas in events/schemas) and the publishing library.

    from events import Publisher, new_event, check

    event = new_event("case.closed", {"case_id": "c-1", "reason": "resolved"},
                      producing_system="modia", ordering_key="c-1")
    with Publisher("127.0.0.1:9092", producing_system="modia") as publisher:
        result = publisher.publish(event)       # Accepted(topic, partition, offset) | Rejected(problems)
"""

from events.errors import (
    ContractError,
    EventRejected,
    EventsError,
    OutboxError,
    PublishError,
    SimulatorError,
)
from events.models import MODELS, EventModel, model_for, new_event
from events.outbox import OutboxRelay, enqueue
from events.problems import Problem
from events.publisher import Accepted, Failed, Prepared, Publisher, Rejected, Result, prepare
from events.simulator import Simulator, SimulatorConfig
from events.validation import Verdict, check

__all__ = [
    "check", "Verdict", "Problem", "prepare", "Prepared", "Publisher", "Accepted", "Rejected", "Failed",
    "Result", "enqueue", "OutboxRelay", "new_event", "EventModel", "MODELS", "model_for", "Simulator",
    "SimulatorConfig", "EventsError", "ContractError", "EventRejected", "PublishError", "OutboxError",
    "SimulatorError",
]
