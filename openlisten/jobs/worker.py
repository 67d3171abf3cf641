"""`CallbackWorker`: runs accepted callback jobs to delivery, across crashes and restarts.

Each job is transcribed once (the result is stored before the first delivery attempt), then delivered;
a failed delivery goes back to the store with its next attempt time, so waiting jobs hold no worker
slot. A claimed job is leased to this worker, which renews the lease while it works; a job whose worker
died is claimed again once its lease runs out, here or on another replica. On stop the worker claims
nothing new and gives running jobs a grace period, after which what is left stays in the store.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from openlisten.jobs.callbacks import CallbackSender, RetryPolicy
from openlisten.jobs.store import JOB_LEASE_S, Job, JobStore

__all__ = ["CallbackWorker", "Produce"]

logger = logging.getLogger(__name__)

#: Turns a job into the JSON body to deliver: the transcript, or a Deepgram error body when the audio
#: cannot be transcribed. Raising means "try again later" (it counts as a failed attempt).
Produce = Callable[[Job], Awaitable[bytes]]

#: Longest sleep between looks at the store, so jobs another process adds are found too.
_POLL_S = 5.0


class CallbackWorker:
    """Claims due jobs from the store and works on up to `concurrency` of them at once."""

    def __init__(
        self,
        store: JobStore,
        produce: Produce,
        sender: CallbackSender,
        *,
        retry: RetryPolicy,
        concurrency: int = 2,
        lease_s: float = JOB_LEASE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._produce = produce
        self._sender = sender
        self._retry = retry
        self._concurrency = concurrency
        self._lease_s = lease_s
        self._clock = clock
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        #: The jobs being worked on, by the task working on each.
        self._running: dict[asyncio.Task[None], str] = {}
        self._stopping = False
        #: Outcomes so far: ``delivered``, ``retried`` (a failed attempt with attempts left), ``failed``.
        self.outcomes: collections.Counter[str] = collections.Counter()

    @property
    def in_flight(self) -> int:
        """Jobs being transcribed or delivered now."""
        return len(self._running)

    async def start(self) -> None:
        """Recover what a dead process left running, then start working (idempotent)."""
        if self._loop_task is not None:
            return
        self._stopping = False
        self._wake = asyncio.Event()  # made here, in the loop that runs the worker
        recovered = await asyncio.to_thread(self._store.recover_jobs, self._clock())
        if recovered:
            logger.info("%d callback job(s) left unfinished by a stopped server will be resumed", recovered)
        self._loop_task = asyncio.create_task(self._loop(), name="openlisten-callbacks")
        self._lease_task = asyncio.create_task(self._renew_leases(), name="openlisten-callback-leases")

    def notify(self) -> None:
        """A job was added: look at the store now."""
        if self._wake is not None:
            self._wake.set()

    async def stop(self, grace_s: float) -> None:
        """Claim nothing new; give running jobs `grace_s` to finish, then leave them for the next start.
        Safe to call again (the graceful drain calls it, then the app's shutdown)."""
        self._stopping = True
        self.notify()
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_s)
        tasks = [*self._running, *(task for task in (self._loop_task, self._lease_task) if task is not None)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = self._lease_task = None
        await self._sender.aclose()

    async def _loop(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                while len(self._running) < self._concurrency and not self._stopping:
                    job = await asyncio.to_thread(self._store.claim_job, self._clock(), self._lease_s)
                    if job is None:
                        break
                    task = asyncio.create_task(self._run(job), name=f"callback-{job.request_id}")
                    self._running[task] = job.request_id
                    task.add_done_callback(self._finished)
                timeout = await self._sleep_s()
            except Exception:
                logger.exception("the callback worker could not read the job store; trying again")
                timeout = _POLL_S
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self.notify()

    async def _renew_leases(self) -> None:
        """Keep the jobs being worked on leased to this worker, renewing a third of a lease ahead."""
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                ids = list(self._running.values())
                await asyncio.to_thread(self._store.renew_leases, ids, self._clock() + self._lease_s)
            except Exception:
                logger.exception("the callback worker could not renew its job leases; trying again")

    async def _sleep_s(self) -> float:
        if len(self._running) >= self._concurrency:
            return _POLL_S  # a finishing job wakes the loop
        due = await asyncio.to_thread(self._store.next_due_at)
        return _POLL_S if due is None else min(_POLL_S, max(0.0, due - self._clock()))

    async def _run(self, job: Job) -> None:
        try:
            error = await self._attempt(job)
            await asyncio.to_thread(self._record, job, error)
        except asyncio.CancelledError:
            raise  # shutting down: the job stays RUNNING until its lease runs out, then is claimed again
        except Exception:
            logger.exception("callback job %s: the job store failed; the job resumes at the next start", job.request_id)

    async def _attempt(self, job: Job) -> str | None:
        """Transcribe (once) and deliver; None when delivered, else why not."""
        try:
            body = job.result
            if body is None:
                body = await self._produce(job)
                await asyncio.to_thread(self._store.save_result, job.request_id, body)
            return await self._sender.send(job, body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("callback job %s failed before delivery", job.request_id)
            return f"{type(exc).__name__}: {exc}"

    def _record(self, job: Job, error: str | None) -> None:
        now = self._clock()
        if error is None:
            self._store.delivered(job.request_id, now)
            self.outcomes["delivered"] += 1
            logger.info("callback %s delivered (attempt %d)", job.request_id, job.attempts + 1)
            return
        delay = self._retry.delay_s(job.attempts + 1)
        self._store.attempt_failed(job.request_id, error, None if delay is None else now + delay, now)
        self.outcomes["failed" if delay is None else "retried"] += 1
        if delay is None:
            logger.warning("callback %s failed for good after %d attempts: %s", job.request_id, job.attempts + 1, error)
        else:
            logger.info(
                "callback %s attempt %d failed (%s); next in %.1f s", job.request_id, job.attempts + 1, error, delay
            )
