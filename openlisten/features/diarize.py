"""Deepgram's ``diarize``: which speaker said each word, from voice embeddings and clustering.

Words are grouped into turns (split at pauses and kept under a few seconds); each turn's audio is embedded by a
`VoiceEmbedder` (``engine/speaker_encoder.py``) and the embeddings are clustered. Prerecorded audio is clustered
all at once, agglomeratively (average linkage on cosine distance, scipy), so the number of speakers comes from
the distance threshold rather than being asked for; only turns long enough for a steady voice found speakers,
and short answers join the nearest. A live session holds a `SpeakerTracker`, which assigns each
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

from openlisten.engine.vad import Samples
from openlisten.transcript import TranscriptWord

__all__ = [
    "LIVE_ARCH",
    "PRERECORDED_ARCH",
    "MIN_FOUNDING_TURN_S",
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
#: Voices further apart than this cosine distance are different speakers. Tuned on real voices
#: (bench/diarize.py: 48 conversations of 2, 3 and 4 of the six speakers of eval-public's ``pub_read``, turns of
#: 0.3-9 s): turns of one speaker came 0.1-0.5 apart, of two speakers 0.33-0.75. At 0.3 the count was right in
#: 4 of 48 conversations (one voice split in two or three), at 0.4 in 40; at 0.45 voices began to merge.
SPEAKER_DISTANCE = 0.4
#: ``metadata.diarize_info.arch``: the voice encoder, and how prerecorded and live turns become speakers.
PRERECORDED_ARCH = "resemblyzer-ge2e+agglomerative"
LIVE_ARCH = "resemblyzer-ge2e+online-centroids"
#: A pause this long between two words may be a change of speaker, so it starts a new turn.
TURN_PAUSE_S = 0.3
#: Turns are split at this length so that one embedding stays one voice.
MAX_TURN_S = 4.0
#: The encoder needs about a second of audio for a stable embedding; shorter turns borrow audio around them.
MIN_EMBED_S = 1.0
#: In a recording, only turns this long are clustered into speakers; shorter ones (a "yes", an "okay") join
#: the speaker whose voice is nearest. Their embeddings wander too far for a speaker of their own: on the bench
#: above, founding speakers on every turn found the right count in 13 of 24 held-out conversations, founding
#: them on turns of 1.5 s or more in 18 (1.0 s: 18, 2.0 s: 13).
MIN_FOUNDING_TURN_S = 1.5


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


def diarize(
    words: Sequence[TranscriptWord], samples: Samples, embedder: VoiceEmbedder, distance: float = SPEAKER_DISTANCE
) -> list[TranscriptWord]:
    """``words`` of one recording (times from the start of ``samples``) labelled with speakers, turns further
    apart than `distance` (cosine) being different speakers."""
    turns = _turns(words)
    if not turns:
        return list(words)
    embeddings = np.stack([embedder.embed(_audio(samples, turn, 0.0)) for turn in turns])
    speakers = cluster_speakers(embeddings, [turn.end_s - turn.start_s for turn in turns], distance)
    confidences = _confidences(embeddings, speakers)
    return _labelled(words, turns, speakers, confidences)


def cluster_speakers(embeddings: np.ndarray, seconds: Sequence[float], distance: float = SPEAKER_DISTANCE) -> list[int]:
    """A speaker number per turn (its embedding, its length), numbered in order of first appearance.

    Turns of at least `MIN_FOUNDING_TURN_S` (the longest turn, when none is) are clustered agglomeratively:
    average linkage on cosine distance, cut at `distance`. Each shorter turn joins the cluster whose mean voice
    is nearest.
    """
    founding = [i for i, length in enumerate(seconds) if length >= MIN_FOUNDING_TURN_S] or [int(np.argmax(seconds))]
    clusters = dict(zip(founding, _agglomerate(embeddings[founding], distance), strict=True))
    centroids = {
        cluster: _unit(embeddings[[i for i in founding if clusters[i] == cluster]].mean(axis=0))
        for cluster in set(clusters.values())
    }
    labels = [
        clusters[i] if i in clusters else max(centroids, key=lambda c: float(centroids[c] @ embeddings[i]))
        for i in range(len(embeddings))
    ]
    first_seen = {label: number for number, label in enumerate(dict.fromkeys(labels))}
    return [first_seen[label] for label in labels]


def _agglomerate(embeddings: np.ndarray, distance: float) -> list[int]:
    if len(embeddings) == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(embeddings, method="average", metric="cosine")
    return [int(cluster) for cluster in fcluster(tree, t=distance, criterion="distance")]


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
