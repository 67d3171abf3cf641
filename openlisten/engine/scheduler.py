"""One scheduler in front of the model: every request's and every live session's model work runs here.

Work is queued and run by `workers` threads (`Settings.decode_workers`, 2 by default), each taking the most
urgent work next; CTranslate2 runs their calls at once, one replica of the model each, the cores shared among
them. A live final then need not wait for a whole round to end, and on 2 CPU cores two rounds of one thread
each decode more than one round of two threads (decoding steps are small; bench/live.py, bench/prerecorded.py):

- **Priorities.** Live finals a ``Finalize`` waits for run first, then other live finals, then live interims,
  then prerecorded work (`expedite` moves a waiting job up to the first rank). Prerecorded jobs
  are submitted one decoding window at a time, so urgent work waits at most one window. A prerecorded job
  that has waited `starvation_s` moves ahead of live interims (never of finals): a busy live load thins the
  interim cadence instead of starving REST requests.
- **Batching.** Items submitted with `submit_batch` to the same `BatchRunner` are run together: when the most
  urgent job is such an item, the worker offers the runner every pending item of that runner, most urgent
  first, and the runner picks the ones that fit one run (the live decoder packs them into one Whisper window).
- **No stepping aside.** A batch, once running, runs to its end: its encoder pass, most of its cost, is
  paid for at once, and what follows (decoding) is short. Interims dropped after their encoder pass would
  waste it, and under load would starve the stream of the hypotheses its finals are confirmed from; a
  batch put back in line could be passed over again and again by newer urgent work. A final therefore
  waits at most for the batch running when it came (with several workers, for the first of them to end).
- **Coalescing.** An item submitted with a `coalesce_key` replaces the pending (not yet running) item with the
  same key and runner: the older one's future is cancelled and the newer one keeps the older one's place in
  line. A live stream uses this for its interim hypotheses, so at most one of them waits per stream and it
  carries the freshest audio.
- **Exit.** Workers are daemon threads, and a model call still running when the interpreter exits
  aborts the process ("terminate called without an active exception"). At exit (or `close`) the
  scheduler takes no more work, cancels what waits, and waits up to `EXIT_WAIT_S` for the running jobs.
"""

from __future__ import annotations

import atexit
import enum
import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["BatchRunner", "Priority", "Scheduler"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 (the usual name for an item type)
R = TypeVar("R")
I_contra = TypeVar("I_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)

#: Seconds a prerecorded job may wait before it runs ahead of live interims.
DEFAULT_STARVATION_S = 2.0
#: Longest a process exit waits for the model work running then (a decoding round takes seconds).
EXIT_WAIT_S = 30.0


class Priority(enum.IntEnum):
    """Lower runs first."""

    #: Live finals a client's ``Finalize`` is waiting for: a voice agent holds its turn until they come.
    LIVE_FINALIZE = 0
    #: Live finals: a speaker is waiting for them.
    LIVE_FINAL = 1
    #: Live interim hypotheses: nice to have, may be coalesced or dropped under load.
    LIVE_INTERIM = 2
    #: Prerecorded files: throughput matters more than latency.
    PRERECORDED = 3


class BatchRunner(Protocol[I_contra, R_co]):
    """Runs many submitted items at once (see `Scheduler.submit_batch`)."""

    def plan(self, items: Sequence[I_contra]) -> Sequence[int]:
        """Indices of the `items` (most urgent first) to run together now; must include 0."""
        ...

    def run(self, items: Sequence[I_contra]) -> Iterator[tuple[int, R_co]]:
        """Run `items`, yielding (index, result) pairs as results are ready, in any order."""
        ...


@dataclass(eq=False)
class _Job(Generic[T]):
    priority: int
    seq: int
    future: Future[T]
    submitted: float
    #: A plain job's callable; None for a batch item.
    fn: Callable[[], T] | None = None
    runner: BatchRunner[Any, T] | None = None
    item: Any = None
    coalesce_key: Hashable | None = None


class Scheduler:
    """Runs model work on `workers` threads, most urgent first, batching and coalescing live items."""

    def __init__(
        self,
        *,
        workers: int = 1,
        starvation_s: float = DEFAULT_STARVATION_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pending: list[_Job[Any]] = []
        self._coalescing: dict[tuple[int, Hashable], _Job[Any]] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self._starvation_s = starvation_s
        self._clock = clock
        self._running = 0  # jobs running now
        self._closed = False
        atexit.register(_close_at_exit, weakref.ref(self))

    def submit(self, priority: Priority, fn: Callable[[], T]) -> Future[T]:
        """Queue `fn`; its result or exception arrives through the returned future."""
        job: _Job[T] = _Job(int(priority), next(self._seq), Future(), self._clock(), fn=fn)
        self._enqueue(job)
        return job.future

    def submit_batch(
        self, runner: BatchRunner[I, R], priority: Priority, item: I, *, coalesce_key: Hashable | None = None
    ) -> Future[R]:
        """Queue `item` for `runner`, to run together with other items of the same runner.

        With a `coalesce_key`, a pending item of the same runner and key is replaced (its future cancelled).
        """
        job: _Job[R] = _Job(int(priority), next(self._seq), Future(), self._clock(), runner=runner, item=item)
        job.coalesce_key = coalesce_key
        self._enqueue(job)
        return job.future

    def run(self, priority: Priority, fn: Callable[[], T]) -> T:
        """Run `fn` on a worker and wait for it (for threads other than the workers)."""
        return self.submit(priority, fn).result()

    def iterate(self, priority: Priority, items: Iterator[T]) -> Iterator[T]:
        """Pull each item of a lazy iterator on a worker, one scheduled step per item."""
        done = object()
        while True:
            item = self.run(priority, lambda: next(items, done))
            if item is done:
                return
            yield item  # type: ignore[misc]

    def expedite(self, future: Future[Any], priority: Priority = Priority.LIVE_FINALIZE) -> None:
        """Move the job of `future`, if it is still waiting, up to `priority`."""
        with self._cond:
            for job in self._pending:
                if job.future is future:
                    job.priority = min(job.priority, priority)
                    self._cond.notify()

    def close(self, timeout_s: float = EXIT_WAIT_S) -> None:
        """Take no more work, cancel the waiting jobs, and wait up to `timeout_s` for the running ones."""
        with self._cond:
            self._closed = True
            for job in self._pending:
                job.future.cancel()
            self._pending.clear()
            self._coalescing.clear()
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._running == 0, timeout_s)

    @property
    def depth(self) -> int:
        """Jobs waiting to run."""
        with self._cond:
            return sum(1 for job in self._pending if not job.future.cancelled())

    def _enqueue(self, job: _Job[Any]) -> None:
        self._ensure_workers()
        with self._cond:
            if self._closed:
                job.future.cancel()
                return
            if job.coalesce_key is not None:
                self._coalesce(job)
            self._pending.append(job)
            self._cond.notify()

    def _coalesce(self, job: _Job[Any]) -> None:
        """Replace the pending job with the same runner and key, keeping its place in line."""
        key = (id(job.runner), job.coalesce_key)
        older = self._coalescing.get(key)
        if older is not None and older in self._pending:
            self._pending.remove(older)
            older.future.cancel()
            job.seq, job.submitted = older.seq, older.submitted
        self._coalescing[key] = job

    def _ensure_workers(self) -> None:
        with self._cond:
            while len(self._threads) < self._workers:
                name = f"openlisten-scheduler-{len(self._threads)}"
                thread = threading.Thread(target=self._work, name=name, daemon=True)
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while (jobs := self._take()) is not None:
            runner = jobs[0].runner
            try:
                if runner is None:
                    _run_plain(jobs[0])
                else:
                    _run_batch(runner, jobs)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _take(self) -> list[_Job[Any]] | None:
        """Wait for work; remove and return the next job, or the batch of items that run together (None
        once the scheduler is closed)."""
        with self._cond:
            while True:
                self._drop_cancelled()
                if self._closed:
                    return None
                if not self._pending:
                    self._cond.wait()
                    continue
                self._pending.sort(key=self._rank)
                chosen = self._choose(self._pending[0])
                for job in chosen:
                    self._pending.remove(job)
                    self._forget(job)
                running = [job for job in chosen if job.future.set_running_or_notify_cancel()]
                if running:
                    self._running += 1
                    return running

    def _drop_cancelled(self) -> None:
        for job in self._pending:
            if job.future.cancelled():
                self._forget(job)
        self._pending = [job for job in self._pending if not job.future.cancelled()]

    def _forget(self, job: _Job[Any]) -> None:
        """Drop `job` from the coalescing index (if it is the entry for its key)."""
        if job.coalesce_key is not None:
            key = (id(job.runner), job.coalesce_key)
            if self._coalescing.get(key) is job:
                del self._coalescing[key]

    def _choose(self, head: _Job[Any]) -> list[_Job[Any]]:
        """`head`, or the items of its runner that run together with it (the pending list is sorted)."""
        if head.runner is None:
            return [head]
        candidates = [job for job in self._pending if job.runner is head.runner]
        return [candidates[i] for i in _checked_plan(head.runner, candidates)]

    def _rank(self, job: _Job[Any]) -> tuple[int, int]:
        priority = job.priority
        if priority == Priority.PRERECORDED and self._clock() - job.submitted >= self._starvation_s:
            priority = Priority.LIVE_INTERIM
        return priority, job.seq


def _checked_plan(runner: BatchRunner[Any, Any], candidates: list[_Job[Any]]) -> list[int]:
    """The runner's choice of candidates, always including the most urgent one, each index once."""
    try:
        chosen = sorted(set(runner.plan([job.item for job in candidates])))
    except Exception:  # a broken plan must not kill the worker; run the head alone and let run() report
        logger.exception("batch runner %r failed to plan; running one item", runner)
        chosen = []
    if 0 not in chosen:
        chosen.insert(0, 0)
    return [i for i in chosen if 0 <= i < len(candidates)]


def _run_batch(runner: BatchRunner[Any, Any], jobs: list[_Job[Any]]) -> None:
    """Run the items of `jobs` together, handing each result to its future as it comes."""
    done: set[int] = set()
    try:
        for index, result in runner.run([job.item for job in jobs]):
            if index not in done:
                done.add(index)
                jobs[index].future.set_result(result)
    except BaseException as exc:  # every item still waiting learns of the failure
        logger.exception("batch of %d item(s) failed", len(jobs))
        for index, job in enumerate(jobs):
            if index not in done:
                job.future.set_exception(exc)
        return
    for index, job in enumerate(jobs):
        if index not in done:
            job.future.set_exception(RuntimeError("the batch runner returned no result for an item"))


def _run_plain(job: _Job[Any]) -> None:
    assert job.fn is not None
    try:
        job.future.set_result(job.fn())
    except BaseException as exc:  # handed to the waiting caller, which re-raises it
        job.future.set_exception(exc)


def _close_at_exit(scheduler: weakref.ref[Scheduler]) -> None:
    alive = scheduler()
    if alive is not None:
        alive.close()
