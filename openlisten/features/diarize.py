"""Deepgram's ``diarize``: which speaker said each word, from voice embeddings and clustering.

Words are grouped into turns (split at pauses and kept under a few seconds); each turn's audio is embedded by a
`VoiceEmbedder` (``engine/speaker_encoder.py``) and the embeddings are clustered. Prerecorded audio is clustered
all at once, agglomeratively (average linkage on cosine distance, scipy), so the number of speakers comes from
the distance threshold rather than being asked for. A live session holds a `SpeakerTracker`, which assigns each
final's turns to the nearest speaker so far or opens a new one, so speaker numbers stay stable through a
session (`live_turns` cuts a final into turns, whose audio is embedded off the event loop; `label_live` assigns
them, in order). Speakers are numbered from 0 in order of first appearance; ``speaker_confidence`` is how close a turn
is to its speaker's mean voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from openlisten.engine.speech import Samples
from openlisten.transcript import TranscriptWord

__all__ = [
    "LIVE_ARCH",
    "PRERECORDED_ARCH",
    "SPEAKER_DISTANCE",
    "SpeakerTracker",
    "SpeakerTurns",
    "VoiceEmbedder",
    "cluster_speakers",
    "diarize",
    "label_live",
    "live_turns",
]

SAMPLE_RATE = 16_000
#: Turns whose voices are further apart than this cosine distance are different speakers. Different voices
#: measured 0.35-0.55 apart, one voice saying different sentences at most 0.2 (tests/features/test_diarize.py).
SPEAKER_DISTANCE = 0.3
#: ``metadata.diarize_info.arch``: the voice encoder, and how prerecorded and live turns become speakers.
PRERECORDED_ARCH = "resemblyzer-ge2e+agglomerative"
LIVE_ARCH = "resemblyzer-ge2e+online-centroids"
#: A pause this long between two words may be a change of speaker, so it starts a new turn.
TURN_PAUSE_S = 0.3
#: Turns are split at this length so that one embedding stays one voice.
MAX_TURN_S = 4.0
#: The encoder needs about a second of audio for a stable embedding; shorter turns borrow audio around them.
MIN_EMBED_S = 1.0
#: Least speech, over all their turns, of a speaker found in a recording; less is taken for a short answer of
#: one of the others. On espeak calls of 2, 3 and 4 voices with one-word answers ("Yes.", "Okay."), the
#: clustering alone found 2, 3 and 5 speakers; with this, 2, 3 and 3 (two espeak voices embed too alike).
MIN_SPEAKER_S = 1.0


class _Timed(Protocol):
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...


class VoiceEmbedder(Protocol):
    """Turns 16 kHz mono speech into a unit-length voice embedding."""

    def embed(self, samples: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class _Turn:
    start: int
    end: int
    start_s: float
    end_s: float


def diarize(words: Sequence[TranscriptWord], samples: Samples, embedder: VoiceEmbedder) -> list[TranscriptWord]:
    """``words`` of one recording (times from the start of ``samples``) labelled with speakers."""
    turns = _turns(words)
    if not turns:
        return list(words)
    embeddings = np.stack([embedder.embed(_audio(samples, turn, 0.0)) for turn in turns])
    speakers = absorb_minor_speakers(embeddings, cluster_speakers(embeddings), [t.end_s - t.start_s for t in turns])
    confidences = _confidences(embeddings, speakers)
    return _labelled(words, turns, speakers, confidences)


def cluster_speakers(embeddings: np.ndarray, distance: float = SPEAKER_DISTANCE) -> list[int]:
    """A speaker number per embedding: agglomerative clustering, numbered in order of first appearance."""
    if len(embeddings) == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(embeddings, method="average", metric="cosine")
    clusters = fcluster(tree, t=distance, criterion="distance")
    first_seen = {cluster: number for number, cluster in enumerate(dict.fromkeys(clusters.tolist()))}
    return [first_seen[cluster] for cluster in clusters.tolist()]


def absorb_minor_speakers(embeddings: np.ndarray, speakers: list[int], seconds: Sequence[float]) -> list[int]:
    """`speakers` with each speaker heard for less than `MIN_SPEAKER_S` in all given to the nearest other
    one, and numbered again in order of appearance. A back-channel turn ("yes", "okay") is too short for a
    stable voice embedding and would otherwise count as a speaker of its own."""
    heard: dict[int, float] = {}
    for speaker, length in zip(speakers, seconds, strict=True):
        heard[speaker] = heard.get(speaker, 0.0) + length
    major = [speaker for speaker, total in heard.items() if total >= MIN_SPEAKER_S]
    if not major or len(major) == len(heard):
        return speakers
    centroids = {m: _unit(embeddings[[s == m for s in speakers]].mean(axis=0)) for m in major}
    merged = [
        speaker if speaker in centroids else max(centroids, key=lambda m: float(centroids[m] @ embeddings[i]))
        for i, speaker in enumerate(speakers)
    ]
    first_seen = {speaker: number for number, speaker in enumerate(dict.fromkeys(merged))}
    return [first_seen[speaker] for speaker in merged]


def _unit(vector: np.ndarray) -> np.ndarray:
    unit: np.ndarray = vector / (np.linalg.norm(vector) or 1.0)
    return unit


class SpeakerTracker:
    """The speakers of a live session so far: one mean voice each, assigned incrementally."""

    def __init__(self, distance: float = SPEAKER_DISTANCE) -> None:
        self.distance = distance
        self.centroids: list[np.ndarray] = []
        self.counts: list[int] = []
        #: The speaker of the turn assigned last (0 before any): who is most likely talking now.
        self.last = 0

    def assign(self, embedding: np.ndarray) -> tuple[int, float]:
        """The speaker of a turn's embedding, and how close it is to that speaker's voice (0-1)."""
        speaker, confidence = self._match(embedding)
        self.last = speaker
        return speaker, confidence

    def _match(self, embedding: np.ndarray) -> tuple[int, float]:
        if self.centroids:
            similarities = np.stack(self.centroids) @ embedding
            best = int(np.argmax(similarities))
            if 1 - similarities[best] <= self.distance:
                self._update(best, embedding)
                return best, _confidence(float(similarities[best]))
        self.centroids.append(embedding / np.linalg.norm(embedding))
        self.counts.append(1)
        return len(self.centroids) - 1, 1.0

    def _update(self, speaker: int, embedding: np.ndarray) -> None:
        count = self.counts[speaker]
        mean = self.centroids[speaker] * count + embedding
        self.centroids[speaker] = mean / np.linalg.norm(mean)
        self.counts[speaker] = count + 1


@dataclass(frozen=True)
class SpeakerTurns:
    """The turns of a live final and their audio, to embed (on the model's thread) before labelling."""

    #: Each turn's span in stream time, in seconds.
    spans: tuple[tuple[float, float], ...]
    #: Each turn's audio (widened to `MIN_EMBED_S` where it is shorter).
    clips: tuple[np.ndarray, ...]


def live_turns(words: Sequence[_Timed], samples: np.ndarray, offset_s: float) -> SpeakerTurns:
    """The turns of one live final's words; ``samples`` start ``offset_s`` seconds into the stream."""
    turns = _turns(words)
    return SpeakerTurns(
        spans=tuple((turn.start_s, turn.end_s) for turn in turns),
        clips=tuple(_audio(samples, turn, offset_s) for turn in turns),
    )


def label_live(
    words: Sequence[TranscriptWord], turns: SpeakerTurns, embeddings: np.ndarray, tracker: SpeakerTracker
) -> list[TranscriptWord]:
    """A live final's words labelled with the session's speakers, from its turns' `embeddings` (in order).

    The turns may come from the words before formatting: each word takes the speaker of the turn its middle
    falls in (or the nearest one). Live words carry ``speaker`` only, as Deepgram's do.
    """
    if not turns.spans:
        return list(words)
    speakers = [tracker.assign(embedding)[0] for embedding in embeddings]
    return [replace(word, speaker=speakers[_nearest(turns.spans, word)]) for word in words]


def _nearest(spans: Sequence[tuple[float, float]], word: _Timed) -> int:
    middle = (word.start_s + word.end_s) / 2
    return min(range(len(spans)), key=lambda i: max(spans[i][0] - middle, middle - spans[i][1], 0.0))


def _turns(words: Sequence[_Timed]) -> list[_Turn]:
    turns: list[_Turn] = []
    start = 0
    for index in range(1, len(words) + 1):
        ends = index == len(words)
        if not ends:
            pause = words[index].start_s - words[index - 1].end_s
            ends = pause >= TURN_PAUSE_S or words[index].end_s - words[start].start_s > MAX_TURN_S
        if ends:
            turns.append(_Turn(start, index, words[start].start_s, words[index - 1].end_s))
            start = index
    return turns


def _audio(samples: Samples, turn: _Turn, offset_s: float) -> np.ndarray:
    """A turn's audio, widened evenly to `MIN_EMBED_S` when it is shorter."""
    start_s, end_s = turn.start_s - offset_s, turn.end_s - offset_s
    widen = max(0.0, MIN_EMBED_S - (end_s - start_s)) / 2
    first = max(0, int((start_s - widen) * SAMPLE_RATE))
    last = min(len(samples), max(first + 1, int((end_s + widen) * SAMPLE_RATE)))
    return samples[first:last]


def _confidences(embeddings: np.ndarray, speakers: Sequence[int]) -> list[float]:
    confidences = []
    for embedding, speaker in zip(embeddings, speakers, strict=True):
        members = embeddings[[s == speaker for s in speakers]]
        centroid = members.mean(axis=0)
        confidences.append(_confidence(float(embedding @ centroid / np.linalg.norm(centroid))))
    return confidences


def _confidence(similarity: float) -> float:
    return round(min(1.0, max(0.0, similarity)), 4)


def _labelled(
    words: Sequence[TranscriptWord], turns: Sequence[_Turn], speakers: Sequence[int], confidences: Sequence[float]
) -> list[TranscriptWord]:
    labelled = list(words)
    for turn, speaker, confidence in zip(turns, speakers, confidences, strict=True):
        for index in range(turn.start, turn.end):
            labelled[index] = replace(labelled[index], speaker=speaker, speaker_confidence=confidence)
    return labelled
