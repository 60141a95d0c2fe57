"""Settings of the field staff service, read once at start from VEIVISER_FIELD_* variables.

VEIVISER_FIELD_TOKENS is required and has no default: one `worker_id=token` pair per field worker,
separated by commas (e.g. "w-bodo-1=4f0c...,w-narvik-2=9b1e..."). Tokens are at least 24 characters and
each token belongs to exactly one worker. A worker's token reads only that worker's route and acts only on
that worker's visits.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.topics import VISIT_EVENTS
from veiviser.settings import SettingsError

__all__ = ["FieldSettings", "load_field_settings", "parse_tokens"]

PREFIX = "VEIVISER_"
WORKER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$")
SYSTEM = r"^[a-z][a-z0-9-]{1,39}$"
EXAMPLES = {"field_tokens": "w-bodo-1=<a random token of 24+ chars>", "field_port": "8083",
            "field_visit_topic": VISIT_EVENTS, "field_producing_system": "veiviser-field"}


class FieldSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    field_tokens: SecretStr = Field(description="worker_id=token pairs, comma separated; no default.")
    field_host: str = Field(default="127.0.0.1", description="Address the field service listens on.")
    field_port: int = Field(default=8083, ge=1, le=65535, description="Port the field service listens on.")
    field_visit_topic: str = Field(default=VISIT_EVENTS, min_length=1, max_length=249,
                                   description="Topic of the visit events (tests use their own).")
    field_producing_system: str = Field(default="veiviser-field", pattern=SYSTEM,
                                        description="producing_system of the events the service publishes.")

    @field_validator("field_tokens")
    @classmethod
    def _check_tokens(cls, value: SecretStr) -> SecretStr:
        parse_tokens(value.get_secret_value())
        return value

    def tokens(self) -> dict[str, str]:
        """token -> worker id."""
        return parse_tokens(self.field_tokens.get_secret_value())


def parse_tokens(text: str) -> dict[str, str]:
    """Parse 'worker_id=token,...' into token -> worker id; ValueError says what is wrong (never the token)."""
    found: dict[str, str] = {}
    for number, pair in enumerate(p.strip() for p in text.split(",") if p.strip()):
        worker, sep, token = (part.strip() for part in pair.partition("="))
        if not sep or not WORKER.match(worker):
            raise ValueError(f"entry {number + 1} is not worker_id=token with a worker id like 'w-bodo-1' "
                             "(3-64 letters, digits, _ . : -)")
        if len(token) < 24:
            raise ValueError(f"the token of worker {worker!r} is shorter than 24 characters; use a long random one")
        if token in found:
            raise ValueError(f"workers {found[token]!r} and {worker!r} share a token; give each worker its own")
        found[token] = worker
    if not found:
        raise ValueError("no worker_id=token pairs given")
    return found


def load_field_settings(**overrides: object) -> FieldSettings:
    try:
        return FieldSettings(**overrides)
    except ValidationError as exc:
        lines = ["bad field service configuration:"]
        for error in exc.errors():
            field = "_".join(str(p) for p in error["loc"])
            name = PREFIX + field.upper()
            example = EXAMPLES.get(field, "a valid value")
            lines.append(f"  {name}: {error['msg']}. Set it, e.g. {name}=\"{example}\".")
        raise SettingsError("\n".join(lines)) from None
