"""The turn state machine of ``/v2/listen``, row by row of its transition table."""

from __future__ import annotations

import pytest

from openlisten.live.turns import TurnEvent, TurnState, TurnThresholds, TurnTracker, confidence
from openlisten.transcript import TranscriptWord


def words(*texts: str, start: float = 0.0) -> list[TranscriptWord]:
    return [TranscriptWord(t.lower(), t, start + i * 0.4, start + i * 0.4 + 0.3, 0.9) for i, t in enumerate(texts)]


def brief(events: list[TurnEvent]) -> list[tuple[object, ...]]:
    return [(e.event, e.turn_index, e.transcript, e.end_of_turn_confidence, e.trigger) for e in events]


def tracker(**thresholds: object) -> TurnTracker:
    return TurnTracker(TurnThresholds(**thresholds))  # type: ignore[arg-type]


def test_a_turn_starts_with_its_first_words_grows_and_ends_on_a_confident_pause() -> None:
    turns = tracker()
    turns.heard([], [], 0.5)
    assert turns.events() == [] and turns.state is TurnState.IDLE  # nothing heard: no turn
    turns.heard([], words("Hello"), 1.0)
    turns.heard([], words("Hello", "there"), 1.5)
    turns.heard(words("Hello", "there."), [], 1.6)
    turns.paused(0.7)
    pause = turns.pause_id
    assert pause is not None
    turns.advance(1.0)
    turns.judged(pause, 0.9)  # sure, but 0.3 s is too short a pause to end a turn on
    turns.advance(1.3)  # 0.6 s: now it ends
    assert brief(turns.events()) == [
        ("StartOfTurn", 0, "Hello", 0.0, None),
        ("Update", 0, "Hello there", 0.0, None),
        ("Update", 0, "Hello there.", 0.0, None),
        ("Update", 0, "Hello there.", 0.0, None),  # 0.25 s and more since the last message
        ("Update", 0, "Hello there.", round(confidence(0.9, 0.3), 4), None),
        ("EndOfTurn", 0, "Hello there.", round(confidence(0.9, 0.6), 4), "model"),
    ]
    assert turns.state is TurnState.IDLE and turns.turn_index == 1


def test_silence_raises_the_confidence_of_an_unsure_pause_until_it_ends_the_turn() -> None:
    turns = tracker()
    turns.heard(words("So", "I", "was", "thinking"), [], 2.0)
    turns.paused(1.5)
    turns.judged(turns.pause_id or 0, 0.2)
    turns.advance(2.5)  # 1.0 s of silence: 0.59
    assert brief(turns.events())[-1] == ("Update", 0, "So I was thinking", round(confidence(0.2, 1.0), 4), None)
    assert turns.state is TurnState.SPEAKING
    turns.advance(3.0)  # 1.5 s: 0.71
    assert brief(turns.events()) == [("EndOfTurn", 0, "So I was thinking", round(confidence(0.2, 1.5), 4), "model")]


def test_the_timeout_ends_a_turn_the_confidence_never_ends() -> None:
    turns = tracker(eot_threshold=1.0, eot_timeout_ms=2000)  # 1.0: the confidence never gets there
    turns.heard(words("Well"), [], 1.0)
    turns.paused(0.3)
    turns.judged(turns.pause_id or 0, 0.5)
    turns.advance(2.2)
    assert turns.state is TurnState.SPEAKING
    turns.advance(2.4)
    assert brief(turns.events())[-1][::4] == ("EndOfTurn", "timeout")


def test_eager_comes_at_once_but_the_end_waits_for_a_real_pause() -> None:
    turns = tracker(eager_eot_threshold=0.5)
    turns.heard(words("Yes."), [], 0.4)
    turns.paused(0.3)
    turns.advance(0.5)
    turns.judged(turns.pause_id or 0, 0.95)
    assert [e.event for e in turns.events() if e.event != "Update"] == ["StartOfTurn", "EagerEndOfTurn"]
    turns.heard([], words("but", start=0.6), 0.8)  # a breath, not an end: the turn goes on
    assert [e.event for e in turns.events()] == ["TurnResumed", "Update"]


def test_confidence_joins_the_model_and_the_silence() -> None:
    assert confidence(0.9, 0.0) == pytest.approx(0.9)
    assert confidence(0.0, 1.8) == pytest.approx(0.7, abs=0.01)  # unfinished: 1.8 s of silence
    assert confidence(0.3, 1.0) < 0.7 < confidence(0.3, 1.3)  # a 1 s hesitation after an unsure phrase
    assert confidence(0.5, 100.0) == pytest.approx(1.0)


def test_eager_end_then_resumed_then_ended_and_the_end_repeats_the_eager_transcript() -> None:
    turns = tracker(eager_eot_threshold=0.4)
    turns.heard(words("Book", "a", "table"), [], 1.5)
    turns.paused(1.1)
    turns.judged(turns.pause_id or 0, 0.5)
    turns.heard([], words("for", "two", start=2.0), 2.6)  # the speaker goes on
    turns.heard(words("for", "two.", start=2.0), [], 2.8)
    turns.paused(2.7)
    turns.judged(turns.pause_id or 0, 0.55)
    turns.advance(3.0)
    turns.paused(2.7)
    turns.judged(turns.pause_id or 0, 0.8)  # judged again, surer: ended once the pause is 0.6 s long
    turns.advance(3.31)
    events = [e for e in brief(turns.events()) if e[0] != "Update"]
    assert [e[0] for e in events] == ["StartOfTurn", "EagerEndOfTurn", "TurnResumed", "EagerEndOfTurn", "EndOfTurn"]
    assert events[-2][2] == events[-1][2] == "Book a table for two."
    assert events[-1][3:] == (round(confidence(0.8, 0.61), 4), "model")


def test_a_judgement_of_a_pause_the_speaker_ended_is_stale() -> None:
    turns = tracker()
    turns.heard(words("Wait"), [], 0.5)
    turns.paused(0.3)
    stale = turns.pause_id or 0
    turns.speech(0.6)  # the voice detector hears speech again before the model answers
    turns.judged(stale, 0.95)
    assert [e.event for e in turns.events()] == ["StartOfTurn"]
    assert turns.state is TurnState.SPEAKING and turns.pause_id is None


def test_a_pause_whose_words_come_after_the_speaker_went_on_is_no_pause() -> None:
    turns = tracker()
    turns.heard([], words("I", "think"), 0.8)
    turns.speech(1.2)  # speech again after 0.3 s: the endpoint's final arrives only now
    turns.heard(words("I", "think"), [], 0.9)
    turns.paused(0.7)
    assert turns.pause_id is None


def test_force_end_ends_an_open_turn_and_does_nothing_between_turns() -> None:
    turns = tracker(eot_threshold=1.0)  # only the client ends turns
    turns.force_end()
    assert turns.events() == []
    turns.heard(words("Cancel", "my", "order."), [], 1.5)
    turns.paused(1.1)
    turns.judged(turns.pause_id or 0, 0.99)  # under 1.0: the model never ends it
    turns.force_end()
    assert brief(turns.events())[-1] == ("EndOfTurn", 0, "Cancel my order.", 0.99, "manual")


def test_turns_alternate_strictly_and_count_up() -> None:
    turns = tracker()
    for index, text in enumerate(["One.", "Two.", "Three."]):
        turns.heard(words(text, start=index * 2.0), [], index * 2.0 + 0.5)
        turns.paused(index * 2.0 + 0.3)
        turns.judged(turns.pause_id or 0, 0.9)
        turns.advance(index * 2.0 + 1.0)
    events = [e for e in turns.events() if e.event != "Update"]
    assert [(e.event, e.turn_index) for e in events] == [
        ("StartOfTurn", 0),
        ("EndOfTurn", 0),
        ("StartOfTurn", 1),
        ("EndOfTurn", 1),
        ("StartOfTurn", 2),
        ("EndOfTurn", 2),
    ]
    assert [e.audio_window_start for e in events if e.event == "StartOfTurn"] == [0.0, 2.0, 4.0]


def test_an_open_turn_gets_an_update_every_quarter_second_of_audio() -> None:
    turns = tracker()
    turns.advance(1.0)
    assert turns.events() == []  # no turn: nothing to say
    turns.heard([], words("Let", "me", "see", start=0.3), 1.4)  # StartOfTurn at 1.0 s of audio
    for step in range(1, 9):
        turns.advance(1.5 + step * 0.1)  # 100 ms messages
    updates = [e for e in turns.events() if e.event == "Update"]
    assert [e.audio_window_end for e in updates] == [1.6, 1.9, 2.2]
    assert {e.transcript for e in updates} == {"Let me see"}


@pytest.mark.parametrize("probability", [0.0, 0.69])
def test_below_the_threshold_the_model_alone_never_ends_a_turn(probability: float) -> None:
    turns = tracker()
    turns.heard(words("Hmm"), [], 0.5)
    turns.paused(0.3)
    turns.judged(turns.pause_id or 0, probability)
    assert turns.state is TurnState.SPEAKING
