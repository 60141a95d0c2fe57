"""The operator console: stream health and the dead-letter queue for operators (see app.py)."""

from services.operators.app import create_app
from services.operators.deadletters import DeadLetter, Ref, from_record, parse_ref, replay_target
from services.operators.errors import ActionRefused, DeadLetterNotFound, NotReplayable, OperatorsError
from services.operators.masking import Masker, mask_event
from services.operators.monitor import Monitor
from services.operators.queue import DeadLetterQueue, Done
from services.operators.settings import Caller, OperatorsSettings, load_operators_settings
from services.operators.store import Filter, Store
from services.operators.topic import DeadLetterTopic

__all__ = ["create_app", "DeadLetter", "Ref", "from_record", "parse_ref", "replay_target", "ActionRefused",
           "DeadLetterNotFound", "NotReplayable", "OperatorsError", "Masker", "mask_event", "Monitor",
           "DeadLetterQueue", "Done", "Caller", "OperatorsSettings", "load_operators_settings", "Filter", "Store",
           "DeadLetterTopic", "open_queue", "build"]


def open_queue(settings, topic: str, max_replays: int = 3) -> DeadLetterQueue:
    """The dead-letter queue of the running stack (migrations applied first)."""
    from infra.migrations import apply_migrations
    from infra.stack import endpoints

    where = endpoints(settings)
    apply_migrations(where.database_url)
    return DeadLetterQueue(Store(where.database_url), DeadLetterTopic(where.bootstrap_servers, topic), max_replays)


def build(settings, operators: OperatorsSettings, health=None):
    """The console wired to the running stack; `health` is a callable returning a health report as a dict
    (default: the stream health sampler on the same stack). Returns (app, close); the monitor is running."""
    queue = open_queue(settings, operators.dead_letter_topic, operators.max_replays)
    if health is None:
        health = _health_sampler(settings, operators)
    monitor = Monitor(health, queue.sync, queue.summary, operators.sample_interval_s)
    monitor.start()
    app = create_app(queue, monitor, operators.callers())

    def close() -> None:
        monitor.stop()
        queue.topic.close()
        queue.store.close()

    return app, close


def _health_sampler(settings, operators: OperatorsSettings):
    return None
