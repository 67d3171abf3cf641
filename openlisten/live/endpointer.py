"""The endpointer: turns per-frame speech probabilities into speech onsets and endpoints.

Hysteresis as in Silero's own ``get_speech_timestamps``: a frame at or above `SPEECH_THRESHOLD` is
speech; once in speech, only frames below `SILENCE_THRESHOLD` count as silence. Speech starts after
`min_speech_ms` of speech frames (a click is not speech) and ends after `silence_ms` of silence frames.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from openlisten.engine.vad import FRAME_SAMPLES

__all__ = ["Endpointer", "Offset", "Onset", "SpeechState"]

#: Silero's default speech threshold.
SPEECH_THRESHOLD = 0.5
#: Silero's default: 0.15 under the speech threshold.
SILENCE_THRESHOLD = 0.35
#: Speech shorter than this does not open an utterance: 2 frames.
MIN_SPEECH_MS = 64


class SpeechState(enum.Enum):
    """Where the stream is."""

    #: No speech since the last endpoint.
    SILENCE = "silence"
    #: Speech started and has not ended.
    SPEECH = "speech"


@dataclass(frozen=True)
class Onset:
    """Speech started at `sample` (the first speech frame)."""

    sample: int


@dataclass(frozen=True)
class Offset:
    """Speech ended at `speech_end` (the first silent frame); `sample` is where the silence became long enough."""

    speech_end: int
    sample: int


class Endpointer:
    """Speech/silence state of one stream, one frame at a time (frames are `FRAME_SAMPLES` long)."""

    def __init__(self, silence_ms: int, min_speech_ms: int = MIN_SPEECH_MS) -> None:
        self.state = SpeechState.SILENCE
        self._silence_frames = max(1, math.ceil(silence_ms * 16 / FRAME_SAMPLES))
        self._speech_frames = max(1, math.ceil(min_speech_ms * 16 / FRAME_SAMPLES))
        self._run = 0  # frames in the current run of speech (in SILENCE) or silence (in SPEECH)
        self._run_start = 0

    def push(self, probability: float, sample: int) -> Onset | Offset | None:
        """Take the frame starting at `sample`; say whether speech started or ended with it."""
        if self.state is SpeechState.SILENCE:
            return self._in_silence(probability, sample)
        return self._in_speech(probability, sample)

    def _in_silence(self, probability: float, sample: int) -> Onset | None:
        if probability < SPEECH_THRESHOLD:
            self._run = 0
            return None
        if self._run == 0:
            self._run_start = sample
        self._run += 1
        if self._run < self._speech_frames:
            return None
        self.state, self._run = SpeechState.SPEECH, 0
        return Onset(self._run_start)

    def _in_speech(self, probability: float, sample: int) -> Offset | None:
        if probability >= SILENCE_THRESHOLD:
            self._run = 0
            return None
        if self._run == 0:
            self._run_start = sample
        self._run += 1
        if self._run < self._silence_frames:
            return None
        self.state, self._run = SpeechState.SILENCE, 0
        return Offset(self._run_start, sample + FRAME_SAMPLES)
