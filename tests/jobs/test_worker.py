"""The worker against a real loopback receiver: delivery, retries with backoff, giving up, resuming."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from openlisten.errors import URLFetchError
from openlisten.jobs.callbacks import CallbackSender, RetryPolicy
from openlisten.jobs.sql_store import SqlStore
from openlisten.jobs.store import Job, JobState, NewJob, open_store
from openlisten.jobs.worker import CallbackWorker
from tests.callback_receiver import Receiver, callback_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with callback_receiver() as receiver:
        yield receiver


async def allow_all(url: str) -> None:
    pass


async def produce(job: Job) -> bytes:
    return b'{"request_id_seen": "%s"}' % job.request_id.encode()


def add(store: SqlStore, request_id: str, url: str, method: str = "POST") -> None:
    store.add_job(NewJob(request_id, "key123", (), url, method, audio=b"x"), now=0.0)


async def run_worker(store: SqlStore, until: int, receiver: Receiver, retry: RetryPolicy, **kw: object) -> None:
    worker = CallbackWorker(
        store, produce, CallbackSender(timeout_s=5, check_url=allow_all), retry=retry, concurrency=2, **kw
    )  # type: ignore[arg-type]
    await worker.start()
    worker.notify()
    try:
        for _ in range(400):
            if store.pending_jobs() == 0 and len(receiver.deliveries) >= until:
                break
            await asyncio.sleep(0.025)
    finally:
        await worker.stop(1.0)


def test_delivers_with_method_and_dg_token(receiver: Receiver) -> None:
    store = open_store(None)
    add(store, "a", receiver.url)
    add(store, "b", receiver.url + "?x=1", "PUT")
    asyncio.run(run_worker(store, 2, receiver, RetryPolicy()))
    by_id = {d.json()["request_id_seen"]: d for d in receiver.deliveries}
    assert by_id["a"].method == "POST" and by_id["b"].method == "PUT" and by_id["b"].path == "/hook?x=1"
    assert by_id["a"].headers["dg-token"] == "key123"
    assert by_id["a"].headers["content-type"] == "application/json"
    assert {s.state for s in store.list_jobs()} == {JobState.DELIVERED}


def test_retries_with_exponential_backoff_until_the_receiver_accepts(receiver: Receiver) -> None:
    receiver.status_for = lambda n: 503 if n < 3 else 200
    store = open_store(None)
    add(store, "a", receiver.url)
    asyncio.run(run_worker(store, 4, receiver, RetryPolicy(max_attempts=5, base_s=0.1, max_s=10)))
    times = [d.at for d in receiver.deliveries]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert len(times) == 4
    # 0.1 s, 0.2 s, 0.4 s (each at least its backoff, and not wildly more)
    for gap, expected in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert expected <= gap < expected + 0.5, gaps
    [status] = store.list_jobs()
    assert status.state is JobState.DELIVERED and status.attempts == 4


def test_gives_up_after_max_attempts(receiver: Receiver) -> None:
    receiver.status_for = lambda n: 500
    store = open_store(None)
    add(store, "a", receiver.url)
    asyncio.run(run_worker(store, 3, receiver, RetryPolicy(max_attempts=3, base_s=0.05, max_s=0.05)))
    assert len(receiver.deliveries) == 3
    [status] = store.list_jobs()
    assert status.state is JobState.FAILED and status.attempts == 3
    assert status.last_error == "http://127.0.0.1 answered HTTP 500"


def test_unreachable_and_refused_urls_are_failed_attempts(receiver: Receiver) -> None:
    async def refuse(url: str) -> None:
        if "refused" in url:
            raise URLFetchError("not allowed")

    store = open_store(None)
    add(store, "closed", "http://127.0.0.1:9/hook")  # discard port: nothing listens
    add(store, "refused", receiver.url + "?refused")

    async def go() -> CallbackWorker:
        worker = CallbackWorker(
            store, produce, CallbackSender(timeout_s=2, check_url=refuse), retry=RetryPolicy(max_attempts=1)
        )
        await worker.start()
        for _ in range(200):
            if store.pending_jobs() == 0:
                break
            await asyncio.sleep(0.025)
        await worker.stop(1.0)
        return worker

    worker = asyncio.run(go())
    errors = {s.request_id: s.last_error for s in store.list_jobs(state=JobState.FAILED)}
    assert errors["refused"] == "not allowed"
    assert "ConnectError" in (errors["closed"] or "")
    assert receiver.deliveries == [] and worker.outcomes["failed"] == 2


def test_transcribes_once_even_when_delivery_is_retried(receiver: Receiver) -> None:
    receiver.status_for = lambda n: 500 if n == 0 else 200
    produced: list[str] = []

    async def counting(job: Job) -> bytes:
        produced.append(job.request_id)
        return b"{}"

    store = open_store(None)
    add(store, "a", receiver.url)

    async def go() -> None:
        sender = CallbackSender(timeout_s=5, check_url=allow_all)
        worker = CallbackWorker(store, counting, sender, retry=RetryPolicy(base_s=0.05))
        await worker.start()
        for _ in range(200):
            if store.pending_jobs() == 0:
                break
            await asyncio.sleep(0.025)
        await worker.stop(1.0)

    asyncio.run(go())
    assert produced == ["a"] and len(receiver.deliveries) == 2


def test_a_failing_producer_is_retried_then_given_up() -> None:
    async def broken(job: Job) -> bytes:
        raise RuntimeError("model exploded")

    store = open_store(None)
    add(store, "a", "http://127.0.0.1:9/")

    async def go() -> None:
        sender = CallbackSender(timeout_s=1, check_url=allow_all)
        worker = CallbackWorker(store, broken, sender, retry=RetryPolicy(max_attempts=2, base_s=0.05))
        await worker.start()
        for _ in range(200):
            if store.pending_jobs() == 0:
                break
            await asyncio.sleep(0.025)
        await worker.stop(1.0)

    asyncio.run(go())
    [status] = store.list_jobs()
    assert status.state is JobState.FAILED and status.last_error == "RuntimeError: model exploded"


def test_stop_leaves_an_unfinished_job_for_the_next_start(receiver: Receiver) -> None:
    receiver.delay_for = lambda n: 3.0 if n == 0 else 0.0
    store = open_store(None)
    add(store, "slow", receiver.url)

    async def first_run() -> None:
        sender = CallbackSender(timeout_s=10, check_url=allow_all)
        worker = CallbackWorker(store, produce, sender, retry=RetryPolicy())
        await worker.start()
        while not receiver.deliveries:
            await asyncio.sleep(0.02)
        await worker.stop(0.1)  # the delivery is still waiting for its answer

    asyncio.run(first_run())
    assert store.list_jobs()[0].state is JobState.RUNNING
    asyncio.run(run_worker(store, 2, receiver, RetryPolicy()))
    assert store.list_jobs()[0].state is JobState.DELIVERED
    assert [d.json()["request_id_seen"] for d in receiver.deliveries] == ["slow", "slow"]


def test_retry_policy_delays() -> None:
    policy = RetryPolicy(max_attempts=6, base_s=2, max_s=10)
    assert [policy.delay_s(n) for n in range(1, 7)] == [2, 4, 8, 10, 10, None]


def test_a_worker_keeps_its_job_leased_while_it_works_and_a_dead_ones_job_is_resumed(
    receiver: Receiver, postgres_url: str
) -> None:
    """Two replicas on one PostgreSQL store: a slow job stays with the worker renewing its lease; a job whose
    worker stopped (its lease not renewed) is delivered by the other, with its request id."""

    async def slow(job: Job) -> bytes:
        await asyncio.sleep(1.5)  # five leases long: renewed meanwhile
        return await produce(job)

    async def scenario() -> None:
        first_store, second_store = open_store(None, postgres_url), open_store(None, postgres_url)
        add(first_store, "slow", receiver.url)
        sender = CallbackSender(timeout_s=5, check_url=allow_all)
        first = CallbackWorker(first_store, slow, sender, retry=RetryPolicy(), lease_s=0.3)
        await first.start()
        await asyncio.sleep(0.2)
        assert first.in_flight == 1
        for _ in range(10):  # the other replica looks during the job and never gets it
            assert second_store.claim_job(now=time.time(), lease_s=0.3) is None
            await asyncio.sleep(0.1)
        await first.stop(5.0)
        assert [d.json()["request_id_seen"] for d in receiver.deliveries] == ["slow"]

        add(first_store, "orphan", receiver.url)
        assert first_store.claim_job(now=time.time(), lease_s=0.3) is not None  # claimed by a replica that dies
        sender = CallbackSender(timeout_s=5, check_url=allow_all)
        second = CallbackWorker(second_store, produce, sender, retry=RetryPolicy(), lease_s=0.3)
        await second.start()
        for _ in range(100):
            if len(receiver.deliveries) == 2:
                break
            await asyncio.sleep(0.05)
        await second.stop(1.0)
        assert [d.json()["request_id_seen"] for d in receiver.deliveries] == ["slow", "orphan"]
        assert {s.state for s in second_store.list_jobs()} == {JobState.DELIVERED}
        first_store.close()
        second_store.close()

    asyncio.run(scenario())
