"""The HTTP intake: office systems that cannot speak Kafka POST events here (see app.py)."""

from services.intake.app import create_app
from services.intake.core import Intake, Outcome
from services.intake.settings import IntakeSettings, load_intake_settings

__all__ = ["create_app", "Intake", "Outcome", "IntakeSettings", "load_intake_settings", "build"]


def build(settings, intake_settings: IntakeSettings):
    """The app wired to the running stack: publisher, receipts, dead letters. Returns (app, close)."""
    from events.publisher import Publisher
    from infra.migrations import apply_migrations
    from infra.stack import endpoints
    from services.intake.deadletters import DeadLetters
    from services.intake.receipts import Receipts

    where = endpoints(settings)
    apply_migrations(where.database_url)
    publisher = Publisher(where.bootstrap_servers, timeout_s=30.0)
    receipts = Receipts(where.database_url)
    intake = Intake(publisher, receipts, DeadLetters(publisher), intake_settings.intake_max_batch)
    app = create_app(intake, intake_settings.tokens(), intake_settings.intake_max_body_bytes)

    def close() -> None:
        publisher.close()
        receipts.close()

    return app, close
