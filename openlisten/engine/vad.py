"""Voice activity, on faster-whisper's Silero VAD model: where the speech is in a recording, and how likely each
32 ms frame of a live stream is to be speech.

Recordings: `speech_regions` finds the stretches of speech (faster-whisper's ``get_speech_timestamps``),
read a block at a time (`VAD_BLOCK_SAMPLES`): faster-whisper's VAD copies and batches all of the audio it is
given at once, over a gigabyte for three hours. They cut long recordings into pieces (`speech_pieces`) and
pull word times out of the pauses (`clip_to_speech`): Whisper's word timestamps stretch a word over the
pause that follows or precedes it ("ask" spanning 1.6 s of silence before it), and utterances, paragraphs
and endpointing all depend on real pauses, so each word is clipped to the speech region it overlaps most.

Live streams: `SileroDetector` runs the same model one frame at a time, carrying its recurrent state
across calls, so a stream fed in any pieces gets exactly the probabilities the whole stream would.
`EnergyDetector` is a loudness threshold, for tests and tones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.engine import whisper_internals
from openlisten.engine.types import Word

__all__ = [
    "FRAME_SAMPLES",
    "EnergyDetector",
    "Samples",
    "SileroDetector",
    "SpeechDetector",
    "SpeechRegion",
    "clip_to_speech",
    "speech_pieces",
    "speech_regions",
]

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


# Live streams, frame by frame.

#: Samples per frame at 16 kHz (32 ms): the window Silero VAD takes.
FRAME_SAMPLES = 512
#: Samples of the previous frame Silero sees with each frame.
_CONTEXT_SAMPLES = 64
_STATE_SHAPE = (1, 1, 128)


class SpeechDetector(Protocol):
    """Scores frames of one stream, in order; keeps whatever state that needs."""

    def probabilities(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Speech probability of each frame of `frames`, shape (n, `FRAME_SAMPLES`) → (n,)."""
        ...


class SileroDetector:
    """Silero VAD (faster-whisper's ONNX model), streaming."""

    def __init__(self) -> None:
        self._session: Any = whisper_internals.silero_session()  # one ONNX session per process, shared
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)

    def probabilities(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(frames) == 0:
            return np.zeros(0, dtype=np.float32)
        contexts = np.concatenate([self._context[None], frames[:-1, -_CONTEXT_SAMPLES:]])
        batch = np.ascontiguousarray(np.concatenate([contexts, frames], axis=1), dtype=np.float32)
        output, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = frames[-1, -_CONTEXT_SAMPLES:].copy()
        return np.asarray(output, dtype=np.float32).reshape(-1)


class EnergyDetector:
    """Speech wherever a frame's RMS level is above `threshold` (probability 1, else 0)."""

    def __init__(self, threshold: float = 0.01) -> None:
        self.threshold = threshold

    def probabilities(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(frames) == 0:
            return np.zeros(0, dtype=np.float32)
        rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
        speech: npt.NDArray[np.float32] = (rms > self.threshold).astype(np.float32)
        return speech
