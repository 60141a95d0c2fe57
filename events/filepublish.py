"""Publishing a JSON Lines file of events: one event per line, in batches, counting every outcome.

Lines are checked and sent as a stream (publish_stream). Rejected lines are written to a rejects file (one JSON object a line: line number, problems, and the line
with national identity numbers masked), so nothing is lost and the sender can fix and re-publish them.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from events import identity
from events.problems import Problem
from events.publisher import Accepted, Failed, Publisher, Rejected
from events.validation import parse

__all__ = ["FileSummary", "publish_file", "read_lines"]


@dataclass
class FileSummary:
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    reasons: Counter = field(default_factory=Counter)
    rejects_path: Path | None = None

    @property
    def total(self) -> int:
        return self.accepted + self.rejected + self.failed


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of every non-blank line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line.rstrip(b"\r\n")


def publish_file(path: Path, publisher: Publisher, rejects_path: Path, progress: Callable[[int], None] = lambda n: None
                 ) -> FileSummary:
    """Publish every line of the file; write rejected and failed lines to `rejects_path`."""
    summary = FileSummary(rejects_path=rejects_path)
    lines: deque[tuple[int, bytes]] = deque()

    def events() -> Iterator[object]:
        for number, raw in read_lines(path):
            lines.append((number, raw))
            yield _event(raw)

    with rejects_path.open("w", encoding="utf-8") as rejects:
        for result in publisher.publish_stream(events()):
            number, raw = lines.popleft()
            _count(result, number, raw, summary, rejects)
            progress(1)
    if summary.rejected + summary.failed == 0:
        rejects_path.unlink(missing_ok=True)
        summary.rejects_path = None
    return summary


def _count(result: object, number: int, raw: bytes, summary: FileSummary, rejects) -> None:
    if isinstance(result, Accepted):
        summary.accepted += 1
        return
    problems = result.problems if isinstance(result, Rejected) else (Problem("$", result.error, "retry"),)
    summary.rejected += isinstance(result, Rejected)
    summary.failed += isinstance(result, Failed)
    summary.reasons.update(f"{p.path}: {p.message}" for p in problems)
    rejects.write(json.dumps({"line": number, "problems": [p.as_dict() for p in problems],
                              "original": identity.mask_bytes(raw).decode("utf-8", "replace")},
                             ensure_ascii=False) + "\n")


def _event(raw: bytes) -> object:
    parsed, problems = parse(raw)
    return raw if problems else parsed
