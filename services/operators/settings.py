"""Settings of the operator console, read once at start from VEIVISER_OPERATORS_* variables.

VEIVISER_OPERATORS_TOKENS is required and has no default: one `name:role=token` entry per operator,
separated by commas (e.g. "kari:operator=4f0c...,ola:privileged=9b1e..."). Roles, each allowed what the one
before is: `viewer` (the health dashboard, e.g. a wallboard), `operator` (and the dead-letter queue with
personal data masked, replay, discard) and `privileged` (and a dead letter's value unmasked, audited).
Tokens are at least 24 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events import topics
from veiviser.settings import SettingsError

__all__ = ["OperatorsSettings", "Caller", "ROLES", "load_operators_settings", "parse_tokens"]

PREFIX = "VEIVISER_OPERATORS_"
ROLES = ("viewer", "operator", "privileged")  # each may do what the ones before may
NAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")


@dataclass(frozen=True)
class Caller:
    """Who holds a token: a name for the audit record and a role."""

    name: str
    role: str

    @property
    def privileged(self) -> bool:
        return self.role == "privileged"

    def may(self, role: str) -> bool:
        """True when this caller's role is `role` or one above it."""
        return ROLES.index(self.role) >= ROLES.index(role)


class OperatorsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    tokens: SecretStr = Field(description="name:role=token entries, comma separated (roles: viewer, "
                                          "operator, privileged); no default.")
    host: str = Field(default="127.0.0.1", description="Address the console listens on.")
    port: int = Field(default=8084, ge=1, le=65535, description="Port the console listens on.")
    dead_letter_topic: str = Field(default=topics.DEAD_LETTER, description="The dead-letter topic to browse.")
    sample_interval_s: float = Field(default=5.0, gt=0, le=300,
                                     description="Seconds between health samples (and dead-letter index syncs).")
    history: int = Field(default=120, ge=2, le=10_000, description="Samples kept for the dashboard's charts.")
    max_replays: int = Field(default=3, ge=1, le=100,
                             description="Replays of one message (a dead letter of a replayed message counts on) "
                                         "before a replay needs --force: stops replay loops.")

    @field_validator("tokens")
    @classmethod
    def _check_tokens(cls, value: SecretStr) -> SecretStr:
        parse_tokens(value.get_secret_value())
        return value

    def callers(self) -> dict[str, Caller]:
        """token -> caller."""
        return parse_tokens(self.tokens.get_secret_value())


def parse_tokens(text: str) -> dict[str, Caller]:
    """Parse 'name:role=token,...'; ValueError says which entry is wrong and how (never the token)."""
    found: dict[str, Caller] = {}
    for number, entry in enumerate((p.strip() for p in text.split(",") if p.strip()), start=1):
        who, sep, token = entry.partition("=")
        name, colon, role = who.strip().partition(":")
        if not sep or not colon or not NAME.match(name):
            raise ValueError(f"entry {number} is not name:role=token with a name like 'kari'")
        if role not in ROLES:
            raise ValueError(f"entry {number} ({name}) has role {role!r}; use one of {', '.join(ROLES)}")
        if len(token.strip()) < 24:
            raise ValueError(f"the token of {name!r} is shorter than 24 characters; use a long random one")
        found[token.strip()] = Caller(name, role)
    if not found:
        raise ValueError("no name:role=token entries given")
    return found


def load_operators_settings(**overrides: object) -> OperatorsSettings:
    try:
        return OperatorsSettings(**overrides)
    except ValidationError as exc:
        lines = ["bad operator console configuration:"]
        for error in exc.errors():
            name = PREFIX + "_".join(str(p) for p in error["loc"]).upper()
            example = ' e.g. VEIVISER_OPERATORS_TOKENS="kari:operator=<a random token of 24+ chars>"' \
                if "TOKENS" in name else ""
            lines.append(f"  {name}: {error['msg']}. Set it{example}.")
        raise SettingsError("\n".join(lines)) from None
