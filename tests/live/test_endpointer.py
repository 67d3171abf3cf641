from __future__ import annotations

import numpy as np
import pytest

from openlisten.engine.types import Word
from openlisten.engine.vad import FRAME_SAMPLES, EnergyDetector, SileroDetector
from openlisten.live.endpointer import Endpointer, Offset, Onset, SpeechState
from openlisten.live.stabilizer import EDGE_S, SETTLED_S, Stabilizer, heard_whole


def push_all(endpointer: Endpointer, probabilities: list[float]) -> list[Onset | Offset]:
    events = []
    for index, probability in enumerate(probabilities):
        event = endpointer.push(probability, index * FRAME_SAMPLES)
        if event is not None:
            events.append(event)
    return events


def test_speech_needs_two_frames_and_ends_after_the_silence() -> None:
    endpointer = Endpointer(silence_ms=100)  # 4 frames
    events = push_all(endpointer, [0.9, 0.1, 0.9, 0.9, 0.9, 0.2, 0.2, 0.2, 0.2, 0.0])
    assert events == [Onset(2 * FRAME_SAMPLES), Offset(5 * FRAME_SAMPLES, 9 * FRAME_SAMPLES)]
    assert endpointer.state is SpeechState.SILENCE


def test_hysteresis_keeps_speech_through_uncertain_frames() -> None:
    endpointer = Endpointer(silence_ms=64)
    events = push_all(endpointer, [0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.3, 0.3])
    assert events == [Onset(0), Offset(6 * FRAME_SAMPLES, 8 * FRAME_SAMPLES)]


def test_a_pause_shorter_than_the_silence_does_not_end_speech() -> None:
    endpointer = Endpointer(silence_ms=200)
    assert push_all(endpointer, [0.9, 0.9] + [0.0] * 5 + [0.9] * 3) == [Onset(0)]
    assert endpointer.state is SpeechState.SPEECH


def test_energy_detector() -> None:
    frames = np.stack([np.zeros(FRAME_SAMPLES), np.full(FRAME_SAMPLES, 0.5)]).astype(np.float32)
    assert list(EnergyDetector().probabilities(frames)) == [0.0, 1.0]
    assert EnergyDetector().probabilities(np.zeros((0, FRAME_SAMPLES), dtype=np.float32)).shape == (0,)


def test_silero_streams_exactly_as_a_whole(jfk_flac: bytes) -> None:
    from openlisten.audio import decode_audio

    audio = decode_audio(jfk_flac).mixed()
    frames = audio[: len(audio) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    whole = SileroDetector().probabilities(frames)
    streaming = SileroDetector()
    pieces = np.concatenate([streaming.probabilities(frames[i : i + 7]) for i in range(0, len(frames), 7)])
    np.testing.assert_allclose(pieces, whole, atol=1e-6)
    assert whole.max() > 0.9 and whole[:5].max() < 0.5  # speech, after a quiet start
    assert SileroDetector().probabilities(np.zeros((20, FRAME_SAMPLES), dtype=np.float32)).max() < 0.2


def words(*texts: str, step: float = 0.5) -> list[Word]:
    return [Word(t, i * step, (i + 1) * step, 0.9) for i, t in enumerate(texts)]


def test_local_agreement_confirms_what_two_hypotheses_share() -> None:
    stabilizer = Stabilizer()
    assert stabilizer.update(words("the", "quick", "brawn"), audio_end_s=2.0) == 0
    # "the quick" agree; "brown" differs from "brawn"; punctuation and case do not matter.
    assert stabilizer.update(words("The", "quick,", "brown", "fox"), audio_end_s=2.5) == 2
    # Compared with what was left unconfirmed last time.
    assert stabilizer.update(words("brown", "fox", "jumps"), audio_end_s=2.0) == 2


def test_words_heard_long_before_the_end_of_the_audio_need_no_second_hypothesis() -> None:
    stabilizer = Stabilizer()
    heard = words("under", "load", "a", "stream")  # they end at 0.5, 1.0, 1.5 and 2.0 s
    # The first two end SETTLED_S or more before the audio's end; without a speech start, nothing settles.
    assert stabilizer.update(heard, audio_end_s=1.0 + SETTLED_S) == 0
    stabilizer.reset()
    assert stabilizer.update(heard, audio_end_s=1.0 + SETTLED_S, speech_start_s=0.0) == 2


def test_a_hypothesis_that_skipped_speech_settles_nothing() -> None:
    # Whisper began at a later sentence: speech from 0 s, its first word at 6 s.
    skipped = [Word(w.text, w.start_s + 6, w.end_s + 6, 0.9) for w in words("the", "invention", "of")]
    assert Stabilizer().update(skipped, audio_end_s=10.0, speech_start_s=0.0) == 0
    gap = [*words("printed", "book"), *(Word(w.text, w.start_s + 4, w.end_s + 4, 0.9) for w in words("may", "justly"))]
    assert Stabilizer().update(gap, audio_end_s=10.0, speech_start_s=0.0) == 0
    assert Stabilizer().update(words("printed", "book"), audio_end_s=10.0, speech_start_s=0.0) == 2


def test_two_hypotheses_that_skipped_the_same_speech_agree_on_nothing() -> None:
    # Both began at "for", 2 s in, stretching it over "in being comparatively modern".
    stretched = [
        Word("for", 0.0, 1.97, 0.9),
        *(Word(w.text, w.start_s + 2, w.end_s + 2, 0.9) for w in words("although", "the")),
    ]
    stabilizer = Stabilizer()
    assert stabilizer.update(stretched, audio_end_s=5.0, speech_start_s=0.0) == 0
    assert stabilizer.update([*stretched, *words("chinese")], audio_end_s=6.0, speech_start_s=0.0) == 0
    assert stabilizer.update(stretched, audio_end_s=5.0) == 3  # without a speech start, agreement alone


def test_a_hypothesis_with_words_fewer_than_one_before_confirms_nothing_past_them() -> None:
    # Seen at 8 continuous streams: the alignment spread "in being comparatively modern" over "for" and "all".
    heard = words("in", "being", "comparatively", "modern", "for", "although", "the", "chinese", step=0.4)
    stretched = [Word("for", 0.3, 1.15, 0.2), Word("all", 1.15, 2.27, 0.1), Word("the", 2.27, 3.0, 0.4)]
    assert heard_whole(stretched, 0.0)
    stabilizer = Stabilizer()
    stabilizer.hear(heard, audio_end_s=4.5)
    assert stabilizer.update(stretched, audio_end_s=3.0 + SETTLED_S, speech_start_s=0.0) == 0
    # Words up to the skip are confirmed.
    stabilizer.reset()
    stabilizer.hear(words("a", "b", "c", "d", "e", "f", "g", step=0.3), audio_end_s=2.1 + EDGE_S)
    fewer = [*words("a", "b", step=0.3), Word("f", 0.6, 2.0, 0.9)]
    assert stabilizer.update(fewer, audio_end_s=2.0 + SETTLED_S, speech_start_s=0.0) == 2
    # A new prefix forgets the hypotheses before it.
    stabilizer.reset()
    assert stabilizer.update(stretched, audio_end_s=3.0 + SETTLED_S, speech_start_s=0.0) == 3


def test_words_near_the_end_of_the_audio_wait() -> None:
    stabilizer = Stabilizer()
    stabilizer.update(words("a", "b", "c"), audio_end_s=1.5)
    assert stabilizer.update(words("a", "b", "c"), audio_end_s=1.5) == pytest.approx(2)  # "c" ends at 1.5
    stabilizer.reset()
    assert stabilizer.update(words("a"), audio_end_s=1.0) == 0
