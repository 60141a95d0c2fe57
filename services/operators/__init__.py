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


def build(settings, operators: OperatorsSettings, health_settings=None):
    """The console wired to the running stack, with the stream health sampler (streams.health; its
    VEIVISER_HEALTH_* settings say which groups it watches) ticked by the console's monitor; each report also
    sets the health gauges (streams.health.HealthMetrics) the console serves at /metrics.
    Returns (app, close); the monitor is running."""
    from prometheus_client import CollectorRegistry

    from infra.stack import endpoints
    from streams.health import HealthMetrics, Sampler, load_health_settings

    queue = open_queue(settings, operators.dead_letter_topic, operators.max_replays)
    where = endpoints(settings)
    health_settings = (health_settings or load_health_settings()).model_copy(update={
        "dead_letter_topic": operators.dead_letter_topic, "interval_s": operators.sample_interval_s})
    sampler = Sampler(where.bootstrap_servers, where.database_url, health_settings)
    registry = CollectorRegistry()  # the app's own: several consoles (tests) and a health worker may share a process
    gauges = HealthMetrics(registry)

    def health() -> dict:
        report = sampler.tick()
        gauges.update(report)  # a few hundred gauge sets: cheap next to the sample itself
        return report.to_dict()

    monitor = Monitor(health, queue.sync, queue.summary, operators.sample_interval_s, operators.history)
    monitor.start()
    app = create_app(queue, monitor, operators.callers(), registries=(registry,))

    def close() -> None:
        monitor.stop()
        sampler.close()
        queue.topic.close()
        queue.store.close()

    return app, close
