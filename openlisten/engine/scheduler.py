"""One scheduler in front of the model: every request's model work runs here, most urgent first.

The model already uses every core for one decode, so running two decodes at once only makes both
slower (../shared/DESIGN.md). Work is therefore queued and run by one worker thread, in priority
order; long prerecorded jobs are submitted one decoding window at a time, so urgent work waits at
most one window.
"""

from __future__ import annotations

import enum
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["Priority", "Scheduler"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Priority(enum.IntEnum):
    """Lower runs first."""

    #: Live finals: a speaker is waiting for them.
    LIVE_FINAL = 0
    #: Live interim hypotheses: nice to have, may be coalesced or dropped under load.
    LIVE_INTERIM = 1
    #: Prerecorded files: throughput matters more than latency.
    PRERECORDED = 2


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    future: Future[Any] = field(compare=False)


class Scheduler:
    """Runs submitted callables on one worker thread, lowest `Priority` first, FIFO within a priority."""

    def __init__(self) -> None:
        self._queue: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, priority: Priority, fn: Callable[[], T]) -> Future[T]:
        """Queue `fn`; its result or exception arrives through the returned future."""
        future: Future[T] = Future()
        self._ensure_worker()
        self._queue.put(_Job(int(priority), next(self._seq), fn, future))
        return future

    def run(self, priority: Priority, fn: Callable[[], T]) -> T:
        """Run `fn` on the worker and wait for it (for threads other than the worker)."""
        return self.submit(priority, fn).result()

    def iterate(self, priority: Priority, items: Iterator[T]) -> Iterator[T]:
        """Pull each item of a lazy iterator on the worker, one scheduled step per item."""
        done = object()
        while True:
            item = self.run(priority, lambda: next(items, done))
            if item is done:
                return
            yield item  # type: ignore[misc]

    @property
    def depth(self) -> int:
        """Jobs waiting to run."""
        return self._queue.qsize()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="openlisten-scheduler", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(job.fn())
            except BaseException as exc:  # handed to the waiting caller, which re-raises it
                job.future.set_exception(exc)
