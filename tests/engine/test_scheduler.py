"""The shared scheduler: priorities, batching, coalescing, running batches to their end, starvation, failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future

import pytest

from openlisten.engine.scheduler import Priority, Scheduler

TIMEOUT = 10


class Gate:
    """Holds the worker busy until opened, so that jobs can be queued behind it."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.started = threading.Event()
        self.open = threading.Event()
        self.future = scheduler.submit(Priority.LIVE_FINAL, self._hold)
        assert self.started.wait(TIMEOUT)

    def _hold(self) -> None:
        self.started.set()
        assert self.open.wait(TIMEOUT)

    def release(self) -> None:
        self.open.set()
        self.future.result(TIMEOUT)


class Recorder:
    """A batch runner that records its runs and answers each item with item * 10."""

    def __init__(self, capacity: int = 100, hold: threading.Event | None = None) -> None:
        self.capacity = capacity
        self.runs: list[list[int]] = []
        self.hold = hold  # set: wait for it after the first result
        self.paused = threading.Event()

    def plan(self, items: Sequence[int]) -> list[int]:
        return list(range(min(len(items), self.capacity)))

    def run(self, items: Sequence[int]) -> Iterator[tuple[int, int]]:
        self.runs.append(list(items))
        for index, item in enumerate(items):
            yield index, item * 10
            if index == 0 and self.hold is not None:
                self.paused.set()
                assert self.hold.wait(TIMEOUT)


def test_submit_run_and_iterate() -> None:
    scheduler = Scheduler()
    assert scheduler.submit(Priority.PRERECORDED, lambda: 41 + 1).result(TIMEOUT) == 42
    assert scheduler.run(Priority.LIVE_FINAL, lambda: "done") == "done"
    assert list(scheduler.iterate(Priority.PRERECORDED, iter([1, 2, 3]))) == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        scheduler.run(Priority.PRERECORDED, lambda: 1 / 0)


def test_most_urgent_first_then_first_come_first_served() -> None:
    scheduler = Scheduler()
    order: list[str] = []
    gate = Gate(scheduler)
    futures = [
        scheduler.submit(priority, lambda name=name: order.append(name))
        for priority, name in [
            (Priority.PRERECORDED, "rest-1"),
            (Priority.LIVE_INTERIM, "interim-1"),
            (Priority.LIVE_FINAL, "final-1"),
            (Priority.PRERECORDED, "rest-2"),
            (Priority.LIVE_FINAL, "final-2"),
        ]
    ]
    assert scheduler.depth == 5
    gate.release()
    for future in futures:
        future.result(TIMEOUT)
    assert order == ["final-1", "final-2", "interim-1", "rest-1", "rest-2"]
    assert scheduler.depth == 0


def test_items_of_a_runner_run_together_as_it_plans() -> None:
    scheduler = Scheduler()
    runner = Recorder(capacity=3)
    gate = Gate(scheduler)
    futures = [scheduler.submit_batch(runner, Priority.LIVE_INTERIM, n) for n in range(4)]
    final = scheduler.submit_batch(runner, Priority.LIVE_FINAL, 9)
    gate.release()
    assert [f.result(TIMEOUT) for f in futures] == [0, 10, 20, 30]
    assert final.result(TIMEOUT) == 90
    assert runner.runs == [[9, 0, 1], [2, 3]]  # the final first, then the oldest interims


def test_a_newer_item_replaces_a_waiting_one_with_the_same_key() -> None:
    scheduler = Scheduler()
    runner = Recorder()
    gate = Gate(scheduler)
    first = scheduler.submit_batch(runner, Priority.LIVE_INTERIM, 1, coalesce_key="stream-a")
    other = scheduler.submit_batch(runner, Priority.LIVE_INTERIM, 2, coalesce_key="stream-b")
    newer = scheduler.submit_batch(runner, Priority.LIVE_INTERIM, 3, coalesce_key="stream-a")
    assert first.cancelled()
    gate.release()
    assert (newer.result(TIMEOUT), other.result(TIMEOUT)) == (30, 20)
    assert runner.runs == [[3, 2]]  # the newer item kept the older one's place in line


def test_a_running_batch_runs_to_its_end_before_a_final_that_came_meanwhile() -> None:
    scheduler = Scheduler()
    hold = threading.Event()
    runner = Recorder(hold=hold)
    gate = Gate(scheduler)
    interims = [scheduler.submit_batch(runner, Priority.LIVE_INTERIM, n, coalesce_key=n) for n in (1, 2)]
    finished: list[int] = []
    interims[1].add_done_callback(lambda _: finished.append(2))
    gate.release()
    assert runner.paused.wait(TIMEOUT)
    urgent = scheduler.submit_batch(runner, Priority.LIVE_FINALIZE, 7)
    urgent.add_done_callback(lambda _: finished.append(7))
    hold.set()
    assert [f.result(TIMEOUT) for f in interims] == [10, 20]
    assert urgent.result(TIMEOUT) == 70
    # The batch's shared work is paid for when the final comes: its interims are not thrown away, and the
    # batch is never put back in line, where newer urgent work could pass it over again and again.
    assert finished == [2, 7]
    assert runner.runs == [[1, 2], [7]]


def test_prerecorded_work_that_waited_long_goes_before_interims() -> None:
    now = [0.0]
    scheduler = Scheduler(starvation_s=2.0, clock=lambda: now[0])
    order: list[str] = []
    gate = Gate(scheduler)
    rest = scheduler.submit(Priority.PRERECORDED, lambda: order.append("rest"))
    now[0] = 5.0
    interim = scheduler.submit(Priority.LIVE_INTERIM, lambda: order.append("interim"))
    final = scheduler.submit(Priority.LIVE_FINAL, lambda: order.append("final"))
    gate.release()
    for future in (rest, interim, final):
        future.result(TIMEOUT)
    assert order == ["final", "rest", "interim"]


class Broken:
    def __init__(self, plan_fails: bool = False) -> None:
        self.plan_fails = plan_fails
        self.runs: list[list[int]] = []

    def plan(self, items: Sequence[int]) -> list[int]:
        if self.plan_fails:
            raise RuntimeError("bad plan")
        return [5, 0, 0]  # out of range and repeated indices are ignored

    def run(self, items: Sequence[int]) -> Iterator[tuple[int, int] | None]:
        self.runs.append(list(items))
        if items[0] < 0:
            raise ValueError("cannot")
        yield 0, items[0]  # and nothing for the others


def test_a_failing_batch_fails_its_items_and_the_worker_goes_on() -> None:
    scheduler = Scheduler()
    runner = Broken()
    gate = Gate(scheduler)
    bad = scheduler.submit_batch(runner, Priority.LIVE_FINAL, -1)
    gate.release()
    with pytest.raises(ValueError, match="cannot"):
        bad.result(TIMEOUT)
    assert scheduler.submit_batch(runner, Priority.LIVE_FINAL, 4).result(TIMEOUT) == 4
    assert scheduler.run(Priority.PRERECORDED, lambda: "alive") == "alive"


def test_items_a_runner_forgets_and_plans_that_fail() -> None:
    scheduler = Scheduler()
    runner = Broken(plan_fails=True)
    gate = Gate(scheduler)
    futures: list[Future[int]] = [scheduler.submit_batch(runner, Priority.LIVE_FINAL, n) for n in (1, 2)]
    gate.release()
    assert futures[0].result(TIMEOUT) == 1
    assert futures[1].result(TIMEOUT) == 2  # a failed plan runs the head alone, then the rest
    assert runner.runs == [[1], [2]]


def test_cancelled_jobs_are_skipped() -> None:
    scheduler = Scheduler()
    ran: list[int] = []
    gate = Gate(scheduler)
    skipped = scheduler.submit(Priority.LIVE_FINAL, lambda: ran.append(1))
    kept = scheduler.submit(Priority.LIVE_FINAL, lambda: ran.append(2))
    assert skipped.cancel()
    gate.release()
    kept.result(TIMEOUT)
    assert ran == [2]


def test_close_waits_for_the_running_job_and_takes_no_more() -> None:
    """What runs at process exit: a model call cut short by the interpreter's exit aborts the process."""
    scheduler = Scheduler()
    gate = Gate(scheduler)
    waiting = scheduler.submit(Priority.LIVE_FINAL, lambda: 1)
    threading.Timer(0.2, gate.open.set).start()
    scheduler.close(TIMEOUT)
    assert gate.future.done() and gate.future.exception() is None
    assert waiting.cancelled()
    assert scheduler.submit(Priority.LIVE_FINAL, lambda: 2).cancelled()


def test_several_workers_run_the_most_urgent_jobs_at_once() -> None:
    """On a GPU two rounds run at once: each worker takes the most urgent job left."""
    scheduler = Scheduler(workers=2)
    first, second = Gate(scheduler), Gate(scheduler)  # both started: two jobs run at once
    order: list[str] = []
    later = scheduler.submit(Priority.PRERECORDED, lambda: order.append("prerecorded"))
    urgent = scheduler.submit(Priority.LIVE_FINALIZE, lambda: order.append("finalize"))
    first.release()
    urgent.result(TIMEOUT)
    later.result(TIMEOUT)
    assert order == ["finalize", "prerecorded"]
    threading.Timer(0.2, second.open.set).start()
    scheduler.close(TIMEOUT)
    assert second.future.done() and second.future.exception() is None
