"""A final in line moves by its transition table only (the property test in test_tiling.py drives the moves a
channel makes; any other raises there)."""

from __future__ import annotations

import pytest

from openlisten.live.finals import KNOWN, MOVES, FinalSlot, FinalState


def slot() -> FinalSlot:
    return FinalSlot(0, 16000, speech_final=True, from_finalize=False)


def test_a_final_is_decoded_then_embedded_then_ready() -> None:
    final = slot()
    assert final.state is FinalState.WAITING
    for state in (FinalState.DECODING, FinalState.DECODING, FinalState.EMBEDDING, FinalState.READY):
        final.move(state)  # decoded again once (it skipped speech), then its speakers' voices
    assert final.state is FinalState.READY


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((FinalState.READY,), FinalState.DECODING),  # a final's words never change once known
        ((FinalState.EMBEDDING,), FinalState.DECODING),
        ((FinalState.DECODING,), FinalState.WAITING),
        ((), FinalState.WAITING),
    ],
)
def test_no_other_move(path: tuple[FinalState, ...], refused: FinalState) -> None:
    final = slot()
    for state in path:
        final.move(state)
    with pytest.raises(AssertionError):
        final.move(refused)


def test_every_state_can_reach_ready_and_ready_is_the_end() -> None:
    assert MOVES[FinalState.READY] == frozenset()
    for state in FinalState:
        reachable, frontier = {state}, [state]
        while frontier:
            for following in MOVES[frontier.pop()] - reachable:
                reachable.add(following)
                frontier.append(following)
        assert FinalState.READY in reachable
    assert {FinalState.EMBEDDING, FinalState.READY} == KNOWN
