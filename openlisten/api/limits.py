"""Concurrency limits, server-wide and per key, for REST requests and live sessions.

Over a limit the client gets 429 in Deepgram's shape with ``Retry-After`` (``api/errors.py``); the SDK
retries it (spec/listen-v1.md §0.10, §7.2). A key's temporary tokens count against the key.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Iterator

from openlisten.config import Settings
from openlisten.errors import CapacityError

__all__ = ["ConcurrencyLimit", "Limits"]

#: How often `ConcurrencyLimit.wait_idle` looks again.
_IDLE_POLL_S = 0.05


class ConcurrencyLimit:
    """At most `total` holders at once, and at most `per_key` for one key; 0 means no limit."""

    def __init__(self, what: str, *, total: int = 0, per_key: int = 0) -> None:
        self.what = what
        self.total = total
        self.per_key = per_key
        self._held: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        """Slots held now."""
        return sum(self._held.values())

    def acquire(self, key_id: str) -> None:
        """Take a slot for `key_id`, or raise `CapacityError` (429)."""
        with self._lock:
            if self.total and self.active >= self.total:
                raise CapacityError(f"Too many {self.what} in progress on this server; retry shortly.")
            if self.per_key and self._held[key_id] >= self.per_key:
                raise CapacityError(f"Too many {self.what} in progress for this key (at most {self.per_key}).")
            self._held[key_id] += 1

    def release(self, key_id: str) -> None:
        """Give back a slot taken with `acquire`."""
        with self._lock:
            self._held[key_id] -= 1
            if self._held[key_id] <= 0:
                del self._held[key_id]

    @contextlib.contextmanager
    def slot(self, key_id: str) -> Iterator[None]:
        """Hold a slot for the duration of a ``with`` block."""
        self.acquire(key_id)
        try:
            yield
        finally:
            self.release(key_id)

    async def wait_idle(self) -> None:
        """Return once no slot is held (graceful shutdown waits for in-flight work with it)."""
        while self.active:
            await asyncio.sleep(_IDLE_POLL_S)


class Limits:
    """The server's limits, from `Settings`."""

    def __init__(self, settings: Settings) -> None:
        #: Every ``POST /v1/listen`` from its start, its body still arriving included; no cap (the body's
        #: minimum rate and size bound each one), but a graceful shutdown waits for them.
        self.requests = ConcurrencyLimit("requests")
        #: ``POST /v1/listen`` requests being worked on, taken once the body has arrived: a slow upload
        #: never holds one, so it cannot keep other clients out.
        self.rest = ConcurrencyLimit(
            "requests", total=settings.max_concurrent_requests, per_key=settings.max_concurrent_requests_per_key
        )
        #: Live WebSocket sessions: ``routes_live`` holds one slot per open session, so `active` is also
        #: the live-session gauge of ``/metrics``.
        self.live = ConcurrencyLimit(
            "live sessions",
            total=settings.max_live_sessions,
            per_key=settings.max_live_sessions_per_key,
        )
