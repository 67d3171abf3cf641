"""`LiveFeatures`: the features of live finals and interims (features/live.py)."""

from __future__ import annotations

import numpy as np

from openlisten.engine.types import Word
from openlisten.features.live import LiveFeatures
from openlisten.options import ListenOptions
from tests.features.test_diarize import LevelEmbedder, turns


def options(query: str) -> ListenOptions:
    return ListenOptions.from_query([tuple(p.split("=")) for p in query.split("&")]).check_live()  # type: ignore[misc]


def spoken(text: str, offset_s: float = 0.0) -> list[Word]:
    return [
        Word(" " + piece, offset_s + i * 0.5, offset_s + i * 0.5 + 0.4, 0.9) for i, piece in enumerate(text.split())
    ]


def test_redaction_counts_through_finals_but_not_interims() -> None:
    features = LiveFeatures(options("redact=ssn&punctuate=true&replace=social:Social"))
    ssn = "my social number is 1, 2, 3, 4, 5, 6, 7, 8, 9."
    interim = features.words(spoken(ssn), final=False)
    first = features.words(spoken(ssn), final=True)
    second = features.words(spoken(ssn), final=True)
    assert " ".join(w.punctuated_word for w in interim) == "My Social number is [SSN_1]."
    assert first[-1].word == "[SSN_1]" and second[-1].word == "[SSN_2]"


def test_profanity_and_dictation_live() -> None:
    features = LiveFeatures(options("profanity_filter=true&dictation=true&punctuate=true"))
    words = features.words(spoken("oh shit period"), final=True)
    assert [w.punctuated_word for w in words] == ["Oh", "****."]


def test_speakers_are_stable_and_carry_no_confidence() -> None:
    features = LiveFeatures(options("diarize=true"), embedder=LevelEmbedder())
    labels = []
    for index, level in enumerate((1, 2, 1)):
        words, audio = turns(level)
        offset_s = 10.0 * index
        shifted = features.words(spoken("a b c", offset_s), final=True)
        labelled = features.speakers(shifted, audio, offset_s)
        labels.append({(w.speaker, w.speaker_confidence) for w in labelled})
        assert len(words) == len(labelled)
    assert labels == [{(0, None)}, {(1, None)}, {(0, None)}]


def test_without_diarization_or_search_nothing_changes() -> None:
    features = LiveFeatures(options("punctuate=true"))
    words = features.words(spoken("hello there"), final=True)
    assert features.speakers(words, np.zeros(16000, dtype=np.float32), 0.0) == words
    assert features.search(words) is None


def test_search_on_finals() -> None:
    features = LiveFeatures(options("search=systrom"))
    (result,) = features.search(features.words(spoken("kevin sistram"), final=True)) or ()
    assert result.query == "systrom" and result.hits[0].snippet == "sistram"
