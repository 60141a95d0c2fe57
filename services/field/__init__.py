"""The field staff service: a worker's day route, actions on its stops, and the page they work from (app.py)."""

from services.field.actions import ACTIONS, ActionResult, Actions, failure_reasons
from services.field.app import create_app
from services.field.errors import FieldError
from services.field.metrics import Metrics
from services.field.service import FieldService
from services.field.settings import FieldSettings, load_field_settings
from services.field.store import Store

__all__ = ["create_app", "build", "FieldService", "Actions", "ActionResult", "ACTIONS", "failure_reasons",
           "FieldError", "Metrics", "Store", "FieldSettings", "load_field_settings"]


def build(settings, field_settings: FieldSettings):
    """The app wired to the running stack: planner's routes, own table, publisher. Returns (app, close)."""
    from events.publisher import Publisher
    from events.topics import VISIT_EVENTS
    from infra.migrations import apply_migrations
    from infra.stack import endpoints

    where = endpoints(settings)
    apply_migrations(where.database_url)
    publisher = Publisher(where.bootstrap_servers, producing_system=field_settings.field_producing_system,
                          topic_map={VISIT_EVENTS: field_settings.field_visit_topic}, timeout_s=30.0)
    store = Store(where.database_url)
    actions = Actions(store, publisher, field_settings.field_producing_system)
    app = create_app(FieldService(where.database_url, store, actions), field_settings.tokens())
    _warm_up()

    def close() -> None:
        publisher.close()
        store.close()

    return app, close


def _warm_up() -> None:
    """Load the boundary data and make today's outlines in the background, so the first page is quick."""
    import threading
    from datetime import date

    from services.field.outlines import outlines_json

    threading.Thread(target=outlines_json, args=(date.today(),), name="field-outlines", daemon=True).start()
