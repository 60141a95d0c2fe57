"""Publishing a stream of events in chunks cut by size or by age, for `Publisher.publish_stream`.

Events are checked and sent a chunk at a time (one tight send loop lets the producer fill large record
batches). A chunk goes out when it holds `chunk` events, or when its first event has waited `max_delay_s`,
whichever comes first. The age bound holds while the source is blocked waiting for its next event (a
paced simulator, a socket, a slow file): a small flusher thread sends the aged chunk, so a slow producer's
events go out promptly instead of waiting for a chunk to fill. Results come back in the order the events
came; every event taken from the source is sent or rejected, also when the source fails part way.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["ChunkedStream"]


class ChunkedStream:
    """The chunks of one publish_stream call: `process(events)` checks and sends a chunk and returns one
    (item, future-or-None) pair per event; `result(item, future)` turns a pair into a Result.

    The chunk is shared with the flusher thread under a lock. Results wait in a deque that the flusher
    only appends to and this thread only pops from (deque appends and pops are thread-safe)."""

    def __init__(self, process: Callable[[list[Any]], list[tuple[Any, Any]]], result: Callable[[Any, Any], Any],
                 settled: Callable[[Any], bool], chunk: int, max_delay_s: float):
        self._process, self._result, self._settled = process, result, settled
        self._size, self._max_delay = max(1, chunk), max_delay_s
        self._chunk: list[Any] = []
        self._started = 0.0
        self._pending: deque[tuple[Any, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()  # a chunk started, or stop
        self._stopped = False
        self._failure: BaseException | None = None
        self._flusher = threading.Thread(target=self._flush_aged, name="veiviser-publish-stream", daemon=True)

    def run(self, events: Iterable[Any], window: int, flush: Callable[[], None]) -> Iterator[Any]:
        """Take events from the source, yield a result per event in order (at most `window` unsettled)."""
        self._flusher.start()
        pending, settled = self._pending, self._settled
        try:
            source_error = None
            try:
                for event in events:
                    self._add(event)
                    while pending and (len(pending) > window or settled(pending[0][1])):
                        yield self._result(*pending.popleft())
            except Exception as exc:  # noqa: BLE001 - the source failed: send what it gave, then re-raise
                source_error = exc
            self._send_chunk()
            flush()
            while pending:
                yield self._result(*pending.popleft())
            self._raise_failure()
            if source_error is not None:
                raise source_error
        finally:
            self._stop()
            if self._chunk and self._failure is None:  # closed early: what was taken still goes out
                self._send_locked()

    def _add(self, event: Any) -> None:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if not self._chunk:
                self._started = time.monotonic()
                self._wake.set()
            self._chunk.append(event)
            if len(self._chunk) >= self._size:
                self._send_locked()

    def _send_chunk(self) -> None:
        with self._lock:
            self._raise_failure()
            self._send_locked()

    def _send_locked(self) -> None:
        chunk, self._chunk = self._chunk, []
        if chunk:
            self._pending.extend(self._process(chunk))

    def _flush_aged(self) -> None:
        """Send the chunk once its first event has waited max_delay_s (woken when a chunk starts, or stop)."""
        timeout = None
        while True:
            self._wake.wait(timeout)
            with self._lock:
                self._wake.clear()
                if self._stopped:
                    return
                due = self._started + self._max_delay - time.monotonic() if self._chunk else None
                if due is None or due > 0:
                    timeout = due
                    continue
                timeout = None
                try:
                    self._send_locked()
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self._failure = exc
                    return

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _stop(self) -> None:
        with self._lock:
            self._stopped = True
        self._wake.set()
        self._flusher.join()
