"""Settings of the HTTP intake, read once at start from VEIVISER_* variables.

VEIVISER_INTAKE_TOKENS is required and has no default: one `system=token` pair per producing system,
separated by commas (e.g. "modia=4f0c...,arena=9b1e..."). Tokens are at least 24 characters.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from veiviser.settings import SettingsError

__all__ = ["IntakeSettings", "load_intake_settings", "parse_tokens"]

PREFIX = "VEIVISER_"
SYSTEM = r"^[a-z][a-z0-9-]{1,39}$"


class IntakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    intake_tokens: SecretStr = Field(description="system=token pairs, comma separated; no default.")
    intake_host: str = Field(default="127.0.0.1", description="Address the intake listens on.")
    intake_port: int = Field(default=8081, ge=1, le=65535, description="Port the intake listens on.")
    # A rejected body is kept whole on the dead-letter topic: it must fit in one Kafka record (~1 MB with
    # the reasons in headers), so the limit stays below that.
    intake_max_body_bytes: int = Field(default=900 * 1024, ge=1024, le=960 * 1024,
                                       description="Largest request body (at most 983040: a rejected body is kept "
                                                   "whole in one Kafka record).")
    intake_max_batch: int = Field(default=2000, ge=1, le=100_000, description="Most events in one batch.")

    @field_validator("intake_tokens")
    @classmethod
    def _check_tokens(cls, value: SecretStr) -> SecretStr:
        parse_tokens(value.get_secret_value())
        return value

    def tokens(self) -> dict[str, str]:
        """token -> producing system."""
        return parse_tokens(self.intake_tokens.get_secret_value())


def parse_tokens(text: str) -> dict[str, str]:
    """Parse 'system=token,...' into token -> system; ValueError says what is wrong (never the token)."""
    import re

    found: dict[str, str] = {}
    for number, pair in enumerate(p.strip() for p in text.split(",") if p.strip()):
        system, sep, token = pair.partition("=")
        if not sep or not re.match(SYSTEM, system.strip()):
            raise ValueError(f"entry {number + 1} is not system=token with a system name like 'modia'")
        if len(token.strip()) < 24:
            raise ValueError(f"the token of {system.strip()!r} is shorter than 24 characters; use a long random one")
        found[token.strip()] = system.strip()
    if not found:
        raise ValueError("no system=token pairs given")
    return found


def load_intake_settings(**overrides: object) -> IntakeSettings:
    try:
        return IntakeSettings(**overrides)
    except ValidationError as exc:
        lines = ["bad intake configuration:"]
        for error in exc.errors():
            name = PREFIX + "_".join(str(p) for p in error["loc"]).upper()
            lines.append(f"  {name}: {error['msg']}. Set it, e.g. {name}=\"modia=<a random token of 24+ chars>\".")
        raise SettingsError("\n".join(lines)) from None
