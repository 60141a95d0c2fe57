"""The dead-letter queue as operators use it: index, browse (masked), view, replay and discard, audited.

The index (store) holds each dead letter's metadata with its reasons already masked (the value and key are
at hand while indexing, so a case id quoted in a reason is masked too); the value stays on the topic and is
read from there to view or replay it. Replaying the same dead letter twice, replaying a discarded one, or
replaying a message whose replays keep failing (`max_replays` deep) is refused unless forced.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.operators import metrics
from services.operators.deadletters import DeadLetter, Ref, replay_headers, replay_target
from services.operators.errors import ActionRefused, DeadLetterNotFound, OperatorsError
from services.operators.masking import Masker, render_value
from services.operators.settings import Caller
from services.operators.store import Filter, Store
from services.operators.topic import DeadLetterTopic

__all__ = ["DeadLetterQueue", "Done", "mask_letter"]

log = logging.getLogger("veiviser.operators")


@dataclass(frozen=True)
class Done:
    """What an action did to one dead letter: ok, or refused/failed and why."""

    ref: str
    ok: bool
    detail: str
    target: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def mask_letter(letter: DeadLetter) -> DeadLetter:
    """The dead letter with its reasons masked the way its value is (for the index)."""
    masker = Masker(letter.value, _key(letter))
    problems = tuple({k: masker.text(v) for k, v in p.items()} for p in letter.problems)
    return dataclasses.replace(letter, reason=masker.text(letter.reason), error=masker.text(letter.error),
                               problems=problems)


def _key(letter: DeadLetter) -> bytes | None:
    """The record key when it may be personal: a stream dead letter keeps the case id; the intake's is the
    sending system's name."""
    return None if letter.source == "intake" else letter.key


def _shown_key(letter: DeadLetter) -> str | None:
    if letter.key is None:
        return None
    return "•••" if _key(letter) is not None else letter.key.decode("utf-8", "replace")


class DeadLetterQueue:
    def __init__(self, store: Store, topic: DeadLetterTopic, max_replays: int = 3):
        self.store, self.topic, self.max_replays = store, topic, max_replays

    @property
    def name(self) -> str:
        return self.topic.topic

    def ref(self, partition: int, offset: int) -> Ref:
        return Ref(self.name, partition, offset)

    def sync(self) -> int:
        """Index what arrived on the topic since the last sync; returns how many dead letters were new."""
        added = 0
        for letters, positions in self.topic.scan(self.store.positions(self.name)):
            self.store.add(self.name, [mask_letter(letter) for letter in letters], positions)
            added += len(letters)
        if not added:
            self.store.relink(self.name)
        metrics.INDEXED.inc(added)
        return added

    def search(self, where: Filter, limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        return self.store.search(self.name, where, limit, offset)

    def summary(self) -> dict[str, Any]:
        return self.store.summary(self.name)

    def view(self, ref: Ref, caller: Caller, unmasked: bool = False) -> dict[str, Any]:
        """The dead letter with its value: masked, or as it is for a privileged caller who asks (audited)."""
        if unmasked and not caller.privileged:
            raise ActionRefused(f"{caller.name} has role {caller.role!r}; seeing personal data needs the "
                                "'privileged' role (a token of VEIVISER_OPERATORS_TOKENS with :privileged)")
        row = self._row(ref)
        letter = self.topic.fetch(ref)
        if unmasked:
            with self.store.action(ref) as act:
                act.viewed_unmasked(caller.name, caller.role)
            encoding, text = render_value(letter.value)
            reasons = {"reason": letter.reason, "problems": list(letter.problems), "error": letter.error,
                       "key": letter.key.decode("utf-8", "replace") if letter.key is not None else None}
        else:
            masker = Masker(letter.value, _key(letter))
            encoding, text = masker.value(letter.value)
            reasons = {"reason": row["reason"], "problems": row["problems"], "error": row["error"],
                       "key": _shown_key(letter)}
        return {**row, **reasons, "ref": str(ref), "value": text, "value_encoding": encoding, "masked": not unmasked,
                "audit": self.store.audit(self.name, ref, limit=20)}

    def _row(self, ref: Ref) -> dict[str, Any]:
        row = self.store.get(ref)
        if row is None:
            self.sync()
            row = self.store.get(ref)
        if row is None:
            raise DeadLetterNotFound(f"no dead letter {ref} on {self.name}; list them with `veiviser deadletters list`")
        return row

    def replay(self, refs: Iterable[Ref], caller: Caller, why: str = "", force: bool = False) -> list[Done]:
        return [self._each(ref, lambda r: self._replay_one(r, caller, why, force), "replay") for ref in refs]

    def discard(self, refs: Iterable[Ref], caller: Caller, why: str, force: bool = False) -> list[Done]:
        if not why.strip():
            raise ActionRefused("say why the dead letters are discarded (the audit keeps it), e.g. "
                                "'test data from the 12 Nov load test'")
        return [self._each(ref, lambda r: self._discard_one(r, caller, why, force), "discard") for ref in refs]

    def _each(self, ref: Ref, work, action: str) -> Done:
        try:
            done = work(ref)
        except OperatorsError as exc:
            done = Done(str(ref), False, str(exc))
        metrics.ACTIONS.labels(action=action, outcome="done" if done.ok else "refused").inc()
        return done

    def _replay_one(self, ref: Ref, caller: Caller, why: str, force: bool) -> Done:
        self._row(ref)  # indexed (synced now when it is new)
        with self.store.action(ref) as act:
            _may_replay(act.row, ref, force, self.max_replays)
            letter = self.topic.fetch(ref)
            target = replay_target(letter)
            headers = replay_headers(letter, act.row["generation"] + 1, datetime.now(UTC))
            written = self.topic.send(target.topic, target.key, letter.value, headers)
            act.replayed(caller.name, caller.role, force, why, written)
        log.info("dead letter %s replayed to %s by %s", ref, written, caller.name)
        return Done(str(ref), True, f"replayed to {written[0]} partition {written[1]} offset {written[2]}",
                    f"{written[0]}:{written[1]}:{written[2]}")

    def _discard_one(self, ref: Ref, caller: Caller, why: str, force: bool) -> Done:
        self._row(ref)
        with self.store.action(ref) as act:
            status = act.row["status"]
            if status == "discarded":
                raise ActionRefused(f"dead letter {ref} is already discarded")
            if status == "replayed" and not force:
                raise ActionRefused(f"dead letter {ref} was replayed; discarding it now changes nothing on the "
                                    "topics. Force it to mark it discarded anyway")
            act.discarded(caller.name, caller.role, force, why)
        return Done(str(ref), True, "discarded")


def _may_replay(row: dict[str, Any], ref: Ref, force: bool, max_replays: int) -> None:
    if force:
        return
    if row["status"] == "replayed":
        raise ActionRefused(f"dead letter {ref} was already replayed ({row['replays']} time(s)); replaying it again "
                            "sends a second copy. Force it if that is what you want")
    if row["status"] == "discarded":
        raise ActionRefused(f"dead letter {ref} was discarded; force the replay if the discard was a mistake")
    if row["generation"] >= max_replays:
        raise ActionRefused(f"dead letter {ref} is a replay that failed again, {row['generation']} replays deep "
                            f"(limit {max_replays}, VEIVISER_OPERATORS_MAX_REPLAYS): fix the cause first, then force")
