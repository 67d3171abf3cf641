"""`AheadDecode`: a final decoded ahead at a pause is taken by its utterance's final only while it holds."""

from __future__ import annotations

import numpy as np

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word
from openlisten.live.ahead import AHEAD_AFTER_S, Ahead, AheadDecode
from openlisten.live.finals import Utterance

S = SAMPLE_RATE


def asked(decode: AheadDecode, utterance: Utterance, *, request_id: int = 7, version: int = 0) -> Ahead:
    ahead = Ahead(request_id, utterance, version, origin=S, end=3 * S, samples=np.zeros(2 * S, np.float32), prefix=[])
    decode.asked(ahead)
    return ahead


def test_a_pause_is_decoded_ahead_only_after_enough_audio_since_the_last_one() -> None:
    decode, utterance = AheadDecode(), Utterance(start=0, onset=0)
    assert not decode.due(utterance, int(AHEAD_AFTER_S * S) - 1)
    assert decode.due(utterance, 3 * S)
    asked(decode, utterance)
    assert not decode.due(utterance, 9 * S)  # one at a time
    assert decode.drop() == 7
    assert not decode.due(utterance, 3 * S + int(AHEAD_AFTER_S * S) - 1)  # counted from the last one's end
    assert decode.due(utterance, 3 * S + int(AHEAD_AFTER_S * S))


def test_its_words_come_back_in_stream_time_and_its_final_takes_them() -> None:
    decode, utterance = AheadDecode(), Utterance(start=0, onset=0)
    asked(decode, utterance)
    assert not decode.deliver(8, [])  # another request's result
    assert decode.deliver(7, [Word("hello", 0.5, 0.9, 0.9)])
    taken, stale = decode.take(utterance, version=0, speech_end=3 * S)
    assert taken is not None and stale is None
    assert taken.words == [Word("hello", 1.5, 1.9, 0.9)]  # its audio starts 1 s into the stream
    assert decode.take(utterance, version=0, speech_end=3 * S) == (None, None)  # taken once


def test_a_final_still_in_flight_is_taken_and_waited_for() -> None:
    decode, utterance = AheadDecode(), Utterance(start=0, onset=0)
    ahead = asked(decode, utterance)
    assert decode.take(utterance, version=0, speech_end=2 * S) == (ahead, None)


def test_speech_after_the_pause_or_a_new_prefix_makes_it_stale_and_cancels_it() -> None:
    utterance = Utterance(start=0, onset=0)
    for version, speech_end in ((0, 3 * S + 1), (1, 3 * S)):
        decode = AheadDecode()
        asked(decode, utterance)
        assert decode.take(utterance, version=version, speech_end=speech_end) == (None, 7)


def test_one_back_already_needs_no_cancel_and_another_utterance_leaves_it_alone() -> None:
    decode, utterance = AheadDecode(), Utterance(start=0, onset=0)
    asked(decode, utterance)
    assert decode.drop(Utterance(start=5 * S, onset=5 * S)) is None
    decode.deliver(7, [])
    assert decode.drop(utterance) is None  # back: nothing to cancel
    assert decode.take(utterance, version=0, speech_end=0) == (None, None)


def test_a_cancelled_decode_is_gone() -> None:
    decode, utterance = AheadDecode(), Utterance(start=0, onset=0)
    asked(decode, utterance)
    decode.cancelled(7)
    assert decode.take(utterance, version=0, speech_end=0) == (None, None)
