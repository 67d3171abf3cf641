"""Diarization (features/diarize.py) with scripted embeddings, and the real encoder on espeak-ng voices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import resample_poly

from openlisten.features.diarize import (
    SPEAKER_DISTANCE,
    SpeakerTracker,
    cluster_speakers,
    diarize,
    label_live,
    live_turns,
)
from openlisten.transcript import TranscriptWord
from tests.conftest import VOICES, espeak_samples

RATE = 16_000
SENTENCES = (
    "the weather is nice today and we should go for a walk in the park",
    "please send the quarterly report to the finance team before friday",
    "my favorite color is green",
)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


class LevelEmbedder:
    """Embeds audio by its level: samples at 0.1 sound like one voice, at 0.2 like another, and so on."""

    def embed(self, samples: np.ndarray) -> np.ndarray:
        level = round(float(np.median(np.abs(samples))) * 10)
        return unit(*(1.0 if i == level else 0.05 for i in range(5)))


def turns(*levels: int, words_each: int = 4) -> tuple[list[TranscriptWord], np.ndarray]:
    """Words in turns 3 s apart, each turn's audio at its level; 0.4 s words, 0.1 s between them."""
    words, audio = [], np.zeros(RATE * (len(levels) * 3 + 1), dtype=np.float32)
    for turn, level in enumerate(levels):
        start = turn * 3.0
        audio[int(start * RATE) : int((start + 2.0) * RATE)] = level / 10
        for i in range(words_each):
            words.append(TranscriptWord(f"w{turn}{i}", f"w{turn}{i}", start + i * 0.5, start + i * 0.5 + 0.4, 0.9))
    return words, audio


def test_speakers_are_numbered_by_first_appearance() -> None:
    embeddings = np.stack([unit(0, 1), unit(1, 0), unit(0, 1), unit(1, 0.05)])
    assert cluster_speakers(embeddings, [2.0] * 4) == [0, 1, 0, 1]
    assert cluster_speakers(embeddings[:1], [0.5]) == [0]


def test_diarize_labels_every_word_of_a_turn() -> None:
    words, audio = turns(1, 2, 1, 3)
    labelled = diarize(words, audio, LevelEmbedder())
    assert [w.speaker for w in labelled] == [0] * 4 + [1] * 4 + [0] * 4 + [2] * 4
    assert all(w.speaker_confidence is not None and 0.9 <= w.speaker_confidence <= 1 for w in labelled)
    assert [(w.word, w.start_s) for w in labelled] == [(w.word, w.start_s) for w in words]


def test_no_words_nothing_to_label() -> None:
    assert diarize([], np.zeros(RATE, dtype=np.float32), LevelEmbedder()) == []


def test_tracker_keeps_speaker_numbers_across_finals() -> None:
    tracker, embedder = SpeakerTracker(), LevelEmbedder()
    speakers = []
    for level in (2, 1, 2, 3, 1):
        words, audio = turns(level)
        offset_s = 10.0 * len(speakers)
        shifted = [TranscriptWord(w.word, w.word, w.start_s + offset_s, w.end_s + offset_s, 0.9) for w in words]
        found = live_turns(shifted, audio, offset_s)
        embeddings = np.stack([embedder.embed(clip) for clip in found.clips])
        labelled = label_live(shifted, found, embeddings, tracker)
        speakers.append({w.speaker for w in labelled})
        assert all(w.speaker_confidence is None for w in labelled)  # live words carry the speaker only
    assert speakers == [{0}, {1}, {0}, {2}, {1}]
    assert len(tracker.centroids) == 3


def test_live_words_take_the_speaker_of_the_turn_they_fall_in() -> None:
    words, audio = turns(1, 2, words_each=3)
    found = live_turns(words, audio, 0.0)
    assert found.spans == ((0.0, 1.4), (3.0, 4.4))
    embeddings = np.stack([LevelEmbedder().embed(clip) for clip in found.clips])
    # Formatting may merge words ("twenty five" → "25"): a word spanning a turn's middle keeps its speaker,
    # one between turns takes the nearer.
    merged = [TranscriptWord("25", "25", 0.0, 0.9, 0.9), TranscriptWord("x", "x", 1.6, 1.7, 0.9)]
    between = TranscriptWord("y", "y", 2.3, 2.5, 0.9)
    labelled = label_live([*merged, between, words[-1]], found, embeddings, SpeakerTracker())
    assert [w.speaker for w in labelled] == [0, 0, 1, 1]


@pytest.fixture(scope="module")
def encoder() -> object:
    pytest.importorskip("torch", reason="diarization needs the 'diarize' extra")
    from openlisten.engine.speaker_encoder import SpeakerEncoder

    return SpeakerEncoder()


def embed(encoder: object, text: str, voice: tuple[str, int]) -> np.ndarray:
    samples, rate = espeak_samples(text, *voice)
    return encoder.embed(resample_poly(samples.astype(np.float32) / 32768, RATE, rate).astype(np.float32))  # type: ignore[attr-defined]


def test_encoder_embeddings_are_unit_vectors(encoder: object) -> None:
    vector = embed(encoder, SENTENCES[2], ("en-us", 50))
    assert vector.shape == (256,) and np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
    assert encoder.embed(np.zeros(1600, dtype=np.float32)).shape == (256,)  # type: ignore[attr-defined]


def test_test_voices_are_told_apart_and_one_voice_is_one_speaker(encoder: object) -> None:
    vectors = {(voice, i): embed(encoder, text, voice) for voice in VOICES for i, text in enumerate(SENTENCES)}
    distances: dict[tuple[tuple[str, int], tuple[str, int]], list[float]] = {}
    for (a, i), (b, j) in itertools.combinations(vectors, 2):
        distances.setdefault((a, b), []).append(1 - float(vectors[a, i] @ vectors[b, j]))
    for (a, b), values in distances.items():
        if a == b:
            assert max(values) < SPEAKER_DISTANCE - 0.05, a
        else:
            assert np.mean(values) > SPEAKER_DISTANCE, (a, b)
    for count in (2, 3):
        voices = VOICES[:count]
        keys = [(voice, i) for i in range(len(SENTENCES)) for voice in voices]
        speakers = cluster_speakers(np.stack([vectors[key] for key in keys]), [2.0] * len(keys))
        assert speakers == [i % count for i in range(len(keys))], count


def test_a_short_answer_joins_the_nearest_speaker_and_founds_none() -> None:
    embeddings = np.stack([unit(0, 1, 0), unit(1, 0, 0), unit(0.1, 0.5, 1), unit(0, 1, 0), unit(1, 0, 0)])
    assert cluster_speakers(embeddings, [3.0, 3.0, 0.4, 2.0, 2.0]) == [0, 1, 0, 0, 1]  # the "yes" is nearest 0
    assert cluster_speakers(embeddings, [3.0, 3.0, 1.5, 2.0, 2.0]) == [0, 1, 2, 0, 1]  # long enough to found one
    assert cluster_speakers(embeddings, [0.4, 0.5, 0.4, 0.3, 0.2]) == [0, 0, 0, 0, 0]  # none long: the longest founds
