"""`InterimDecodes`: an interim's result counts only while it is current; a new prefix makes all stale."""

from __future__ import annotations

import numpy as np

from openlisten.audio import SAMPLE_RATE
from openlisten.live.interims import Interim, InterimDecodes

S = SAMPLE_RATE


def interim(end_s: float, version: int = 0) -> Interim:
    return Interim(version, 0, int(end_s * S), np.zeros(int(end_s * S), np.float32), [], confirmable=True)


def test_one_is_due_an_interval_after_the_onset_and_after_the_last_one_asked() -> None:
    interims = InterimDecodes()
    interims.restart(2 * S)
    assert not interims.due(3 * S - 1, 1.0)
    assert interims.due(3 * S, 1.0)
    interims.asked(1, interim(3.0))
    assert not interims.due(int(3.9 * S), 1.0)
    assert interims.due(4 * S, 1.0)


def test_a_result_older_than_one_applied_or_asked_with_an_old_prefix_is_dropped() -> None:
    interims = InterimDecodes()
    for request_id, end_s in ((1, 1.0), (2, 2.0), (3, 3.0)):
        interims.asked(request_id, interim(end_s))
    taken = interims.result(2, version=0)
    assert taken is not None and taken.end == 2 * S
    assert interims.result(1, version=0) is None  # came back after a newer one
    assert interims.result(3, version=1) is None  # the prefix has changed since it was asked
    assert interims.result(3, version=0) is None  # taken (or dropped) once
    assert interims.result(9, version=0) is None  # not ours


def test_a_new_prefix_cancels_those_in_flight_and_asks_again_at_once() -> None:
    interims = InterimDecodes()
    interims.asked(1, interim(1.0))
    interims.asked(2, interim(2.0))
    interims.cancelled(1)  # coalesced by the scheduler
    assert interims.stale() == [2]
    assert interims.due(2 * S, 1.0)
    assert interims.stale() == []


def test_with_none_in_flight_a_new_prefix_changes_nothing_and_a_close_cancels_all() -> None:
    interims = InterimDecodes()
    interims.asked(1, interim(1.0))
    assert interims.result(1, version=0) is not None
    assert interims.stale() == []
    assert not interims.due(int(1.5 * S), 1.0)
    interims.asked(2, interim(2.0))
    assert interims.cancel() == [2]
    assert interims.result(2, version=0) is None
