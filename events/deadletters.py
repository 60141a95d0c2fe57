"""The dead-letter record's headers, shared by everything that dead-letters (the intake, the stream agents).

A dead letter keeps the original bytes as its value (identity numbers masked) and says why in headers:
    dlq_reason     one line: the first problem, or the error
    dlq_problems   JSON list of {path, message, fix}; cut to 50 entries when longer than 16 KiB
    dlq_*          where it came from and when (each source adds its own: dlq_source, dlq_origin_*, ...)
Every header value is masked for national identity numbers before it is encoded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from events import identity
from events.problems import Problem

__all__ = ["dead_letter_headers", "MAX_PROBLEMS_HEADER"]

MAX_PROBLEMS_HEADER = 16 * 1024


def dead_letter_headers(problems: Sequence[Problem], reason: str, fields: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """Headers for a dead letter: the reason, the problems as JSON, and the source's own dlq_* fields."""
    listed = json.dumps([p.as_dict() for p in problems], ensure_ascii=False)
    if len(listed) > MAX_PROBLEMS_HEADER:
        cut = [p.as_dict() for p in problems[:50]]
        listed = json.dumps(cut + [{"path": "$", "message": "more problems left out", "fix": "see the source"}])
    headers = {"dlq_reason": reason[:1000], "dlq_problems": listed, **fields}
    return [(name, identity.mask_text(value).encode()) for name, value in headers.items()]
