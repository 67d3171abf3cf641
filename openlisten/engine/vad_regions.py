"""Where the speech is: Silero VAD regions, used to pull word times out of the pauses and to cut long
recordings into pieces.

Whisper's word timestamps stretch a word over the pause that follows or precedes it ("ask" spanning
1.6 s of silence before it). Utterances, paragraphs and endpointing all depend on real pauses, so
each word is clipped to the VAD speech region it overlaps most.

Long audio is read a block at a time (`VAD_BLOCK_SAMPLES`): faster-whisper's VAD copies and batches all
of the audio it is given at once, over a gigabyte for three hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from openlisten.engine import whisper_internals
from openlisten.engine.types import Word

__all__ = ["Samples", "SpeechRegion", "clip_to_speech", "speech_pieces", "speech_regions"]

SAMPLE_RATE = 16000
#: A pause shorter than this does not split speech regions (Deepgram's shortest utterance gap is larger).
MIN_SILENCE_MS = 300
#: Padding around each region, so word onsets and trailing consonants stay inside.
SPEECH_PAD_MS = 60

#: Samples the VAD reads at a time: 320 s, faster-whisper's own batch of 10,000 windows of 512 samples.
VAD_BLOCK_SAMPLES = 10_000 * 512

SpeechRegion = tuple[float, float]


class Samples(Protocol):
    """Mono 16 kHz float32 samples that can be sliced: an array, or an `openlisten.audio.Track`."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: slice, /) -> np.ndarray: ...


def speech_regions(samples: Samples, max_region_s: float = float("inf")) -> list[SpeechRegion]:
    """(start_s, end_s) of each stretch of speech in mono 16 kHz `samples`, read a block at a time.

    A stretch longer than `max_region_s` is split at its last short pause before that length (Silero's
    ``max_speech_duration_s``), or where it must be if it has none.
    """
    regions: list[SpeechRegion] = []
    for first in range(0, len(samples), VAD_BLOCK_SAMPLES):
        block = np.asarray(samples[first : first + VAD_BLOCK_SAMPLES], dtype=np.float32)
        found_in_block = whisper_internals.speech_timestamps(
            block, min_silence_ms=MIN_SILENCE_MS, pad_ms=SPEECH_PAD_MS, max_speech_s=max_region_s
        )
        for found in found_in_block:
            start, end = (first + found["start"]) / SAMPLE_RATE, (first + found["end"]) / SAMPLE_RATE
            cut_by_block = regions and start - regions[-1][1] < MIN_SILENCE_MS / 1000
            if cut_by_block and end - regions[-1][0] <= max_region_s:
                start = regions.pop()[0]
            regions.append((start, end))
    return regions


def speech_pieces(regions: Sequence[SpeechRegion], total: int, max_s: float, pad_s: float) -> list[tuple[int, int]]:
    """Sample ranges, each at most about `max_s` long, that cover every region with `pad_s` around it,
    cut in the pauses between regions (a region longer than `max_s` is cut where it must be)."""
    pieces: list[tuple[int, int]] = []
    first = last = None
    for start_s, end_s in regions:
        start = max(0, int((start_s - pad_s) * SAMPLE_RATE))
        end = min(total, int((end_s + pad_s) * SAMPLE_RATE))
        if first is not None and last is not None and end - first > max_s * SAMPLE_RATE:
            pieces.append((first, min(last, start) if start > first else last))
            first = None
        if first is None:
            first = max(start, pieces[-1][1]) if pieces else start
        last = end
        while last - first > max_s * SAMPLE_RATE:  # one region longer than a piece
            pieces.append((first, first + int(max_s * SAMPLE_RATE)))
            first = pieces[-1][1]
    if first is not None and last is not None and last > first:
        pieces.append((first, last))
    return pieces


def clip_to_speech(words: Sequence[Word], regions: Sequence[SpeechRegion]) -> list[Word]:
    """`words` with each one's times clipped to the speech region it overlaps most (unchanged if none)."""
    return [_clip(word, regions) for word in words]


def _clip(word: Word, regions: Sequence[SpeechRegion]) -> Word:
    best, best_overlap = None, 0.0
    for region in regions:
        overlap = min(word.end_s, region[1]) - max(word.start_s, region[0])
        if overlap > best_overlap:
            best, best_overlap = region, overlap
    if best is None:
        return word
    start, end = max(word.start_s, best[0]), min(word.end_s, best[1])
    return Word(word.text, round(start, 3), round(end, 3), word.confidence)
