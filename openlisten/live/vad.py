"""Speech detectors: the probability that each 32 ms frame of a live stream holds speech.

`SileroDetector` runs the Silero VAD model that faster-whisper ships (``faster_whisper.vad``) one frame
at a time, carrying its recurrent state across calls, so a stream fed in any pieces gets exactly the
probabilities the whole stream would. `EnergyDetector` is a loudness threshold, for tests and tones.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from openlisten.engine import whisper_internals

__all__ = ["FRAME_SAMPLES", "EnergyDetector", "SileroDetector", "SpeechDetector"]

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
