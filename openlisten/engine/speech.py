"""Where the speech is: Silero VAD regions, used to pull word times out of the pauses.

Whisper's word timestamps stretch a word over the pause that follows or precedes it ("ask" spanning
1.6 s of silence before it). Utterances, paragraphs and endpointing all depend on real pauses, so
each word is clipped to the VAD speech region it overlaps most.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openlisten.engine.types import Word

__all__ = ["SpeechRegion", "clip_to_speech", "speech_regions"]

SAMPLE_RATE = 16000
#: A pause shorter than this does not split speech regions (Deepgram's shortest utterance gap is larger).
MIN_SILENCE_MS = 300
#: Padding around each region, so word onsets and trailing consonants stay inside.
SPEECH_PAD_MS = 60

SpeechRegion = tuple[float, float]


def speech_regions(samples: np.ndarray) -> list[SpeechRegion]:
    """(start_s, end_s) of each stretch of speech in mono 16 kHz `samples`."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in get_speech_timestamps(samples, options)]


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
