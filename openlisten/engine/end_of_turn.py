"""`EndOfTurnModel`: whether a speaker has finished their turn, judged from how their speech ends.

The model is Smart Turn v3 (Pipecat / Daily, BSD-2-Clause): Whisper Tiny's encoder with a classifier head,
8.7 MB as int8 ONNX, trained on 23 languages to hear the prosody of a finished turn (falling pitch, a
completed phrase) against a pause inside one (a rising or held tone, "and um…"). It reads the last 8 s of
audio up to the pause, as Whisper's 80-bin log-mel features, and gives the probability that the turn is
complete; one call takes 10-60 ms on a CPU core. It was chosen over a silence timer (what it replaces) and
over text-only models (which need the words first, and so wait for a decode): it listens to the audio, is
small enough to run beside the recognizer on every pause, and ships in a PyPI wheel, so nothing is
downloaded. By default its weights are the copy in ``pipecat-ai`` (the ``flux`` extra); `Settings.turn_model`
points at any other Smart Turn v3 ONNX file.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.errors import UnsupportedFeature

__all__ = ["END_OF_TURN_WINDOW_S", "EndOfTurnModel", "bundled_model_path"]

#: Audio the model hears: the last 8 s before the pause, zero-padded in front when shorter.
END_OF_TURN_WINDOW_S = 8.0
_WINDOW_SAMPLES = int(END_OF_TURN_WINDOW_S * SAMPLE_RATE)
#: Where the ``pipecat-ai`` wheel keeps the model, inside its package.
_BUNDLED = ("audio", "turn", "smart_turn", "data", "smart-turn-v3.2-cpu.onnx")


def bundled_model_path() -> Path | None:
    """The Smart Turn v3.2 file the ``pipecat-ai`` wheel ships, when it is installed (found without importing
    pipecat)."""
    spec = importlib.util.find_spec("pipecat")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_BUNDLED)
    return path if path.is_file() else None


class EndOfTurnModel:
    """Smart Turn v3 on onnxruntime, in a thread of its own (`submit`): each call is small (one core, tens of
    milliseconds), and a voice agent waits on it, so it runs beside the recognizer instead of queueing behind
    a decode on the scheduler."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime
        from faster_whisper.feature_extractor import FeatureExtractor

        path = path or bundled_model_path()
        if path is None or not path.is_file():
            raise UnsupportedFeature(
                "the end-of-turn model (Smart Turn v3) is not installed: pip install 'openlisten[flux]',"
                " or set OPENLISTEN_TURN_MODEL to a smart-turn-v3 .onnx file"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(path), sess_options=options)
        self._features = FeatureExtractor(feature_size=80, chunk_length=int(END_OF_TURN_WINDOW_S))
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="openlisten-end-of-turn")
        self.path = path

    def submit(self, audio: npt.NDArray[np.float32]) -> concurrent.futures.Future[float]:
        """`probability` of `audio`, in the model's own thread."""
        return self._executor.submit(self.probability, audio)

    def probability(self, audio: npt.NDArray[np.float32]) -> float:
        """How likely the turn whose audio ends with `audio` (16 kHz mono, ending at the pause) is complete."""
        window = audio[-_WINDOW_SAMPLES:].astype(np.float32)
        if window.size < _WINDOW_SAMPLES:
            window = np.pad(window, (_WINDOW_SAMPLES - window.size, 0))
        # Whisper's feature extractor as the model was trained on it: the waveform normalized to zero mean
        # and unit variance, then log-mel features of exactly 8 s.
        normalized = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
        features = self._features(normalized, padding=0)[:, : _WINDOW_SAMPLES // 160]
        with self._lock:
            (output,) = self._session.run(None, {"input_features": features[None].astype(np.float32)})
        return float(np.clip(output.reshape(-1)[0], 0.0, 1.0))
