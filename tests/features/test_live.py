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
    features, embedder = LiveFeatures(options("diarize=true")), LevelEmbedder()
    labels = []
    for index, level in enumerate((1, 2, 1)):
        _, audio = turns(level)
        offset_s = 10.0 * index
        raw = spoken("a b c", offset_s)
        found = features.speaker_turns(raw, audio, offset_s)
        assert found is not None
        embeddings = np.stack([embedder.embed(clip) for clip in found.clips])
        labelled = features.speakers(features.words(raw, final=True), found, embeddings)
        labels.append({(w.speaker, w.speaker_confidence) for w in labelled})
        assert len(labelled) == 3
    assert labels == [{(0, None)}, {(1, None)}, {(0, None)}]


def test_interims_carry_the_speaker_heard_last() -> None:
    features, embedder = LiveFeatures(options("diarize=true")), LevelEmbedder()
    assert {w.speaker for w in features.words(spoken("a b"), final=False)} == {0}
    for index, level in enumerate((1, 2)):
        _, audio = turns(level)
        raw = spoken("a b c", 10.0 * index)
        found = features.speaker_turns(raw, audio, 10.0 * index)
        assert found is not None
        features.speakers(features.words(raw, final=True), found, np.stack([embedder.embed(c) for c in found.clips]))
    assert {w.speaker for w in features.words(spoken("d e", 20.0), final=False)} == {1}
    assert {w.speaker for w in features.reconfigured(options("diarize=true")).words(spoken("f"), final=False)} == {1}


def test_without_diarization_or_search_nothing_changes() -> None:
    features = LiveFeatures(options("punctuate=true"))
    raw = spoken("hello there")
    assert features.speaker_turns(raw, np.zeros(16000, dtype=np.float32), 0.0) is None
    assert features.search(features.words(raw, final=True)) is None


def test_search_on_finals() -> None:
    features = LiveFeatures(options("search=systrom"))
    (result,) = features.search(features.words(spoken("kevin sistram"), final=True)) or ()
    assert result.query == "systrom" and result.hits[0].snippet == "sistram"
