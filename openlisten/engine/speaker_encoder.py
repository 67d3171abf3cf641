"""`SpeakerEncoder`: voice embeddings from the encoder that the ``resemblyzer`` wheel ships.

Resemblyzer bundles a trained GE2E speaker encoder (``pretrained.pt``, 17 MB): a 3-layer LSTM over 40-band
mel frames, whose last hidden state, through a linear layer, a ReLU and an L2 norm, is a 256-dimensional
voice embedding. Importing ``resemblyzer`` itself needs ``webrtcvad``, which needs ``pkg_resources`` (gone from
current setuptools), and librosa, whose first call JIT-compiles for about 20 s. So this module loads the
bundled weights with torch and runs the same network on the same features (resemblyzer's
``wav_to_mel_spectrogram``: power mel spectrogram, 25 ms Hann windows every 10 ms, Slaney mel filters as
faster-whisper builds them). Install with ``pip install 'openlisten[diarize]'``.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

import numpy as np

from openlisten.engine import whisper_internals
from openlisten.errors import InternalError

if TYPE_CHECKING:
    import torch

__all__ = ["EMBEDDING_SIZE", "SAMPLE_RATE", "SpeakerEncoder"]

SAMPLE_RATE = 16_000
EMBEDDING_SIZE = 256
#: resemblyzer's hparams: 40 mel bands over 25 ms windows every 10 ms.
_MEL_BANDS = 40
_WINDOW_SAMPLES = 400
_HOP_SAMPLES = 160
#: resemblyzer embeds an utterance as the mean of 1.6 s partial windows (160 frames), about 1.3 per second.
_PARTIAL_FRAMES = 160
_PARTIAL_STEP_FRAMES = 77
_HIDDEN = 256
_LAYERS = 3


class SpeakerEncoder:
    """Turns 16 kHz mono speech into unit-length voice embeddings; stateless, safe to share."""

    def __init__(self, weights_path: str | None = None) -> None:
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise InternalError("diarization needs the 'diarize' extra: pip install 'openlisten[diarize]'") from exc
        state = torch.load(weights_path or bundled_weights_path(), map_location="cpu", weights_only=True)["model_state"]
        self._lstm = torch.nn.LSTM(_MEL_BANDS, _HIDDEN, _LAYERS, batch_first=True)
        self._linear = torch.nn.Linear(_HIDDEN, EMBEDDING_SIZE)
        self._lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self._linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self._lstm.eval()
        self._linear.eval()
        self._window = torch.hann_window(_WINDOW_SAMPLES)
        self._mel_filters = torch.from_numpy(whisper_internals.mel_filters(SAMPLE_RATE, _WINDOW_SAMPLES, _MEL_BANDS))

    def embed(self, samples: np.ndarray) -> np.ndarray:
        """The voice embedding of `samples` (float32, 16 kHz, mono): a unit vector of `EMBEDDING_SIZE` floats."""
        import torch

        with torch.inference_mode():
            partials = self._partials(self._mel(np.asarray(samples, dtype=np.float32)))
            _, (hidden, _) = self._lstm(partials)
            raw = torch.relu(self._linear(hidden[-1]))
            embeddings = raw / torch.linalg.vector_norm(raw, dim=1, keepdim=True).clamp_min(1e-8)
            mean = embeddings.mean(dim=0)
            unit: np.ndarray = (mean / torch.linalg.vector_norm(mean).clamp_min(1e-8)).numpy()
        return unit

    def _mel(self, samples: np.ndarray) -> torch.Tensor:
        """Power mel frames, shape (frames, bands), as librosa's ``melspectrogram`` computes them."""
        import torch

        spectrum = torch.stft(
            torch.from_numpy(samples),
            _WINDOW_SAMPLES,
            _HOP_SAMPLES,
            window=self._window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return (self._mel_filters @ spectrum.abs().pow(2)).T

    def _partials(self, mel: torch.Tensor) -> torch.Tensor:
        """Overlapping 1.6 s windows of `mel`, the last one zero-padded: shape (windows, frames, bands)."""
        import torch

        frames = mel.shape[0]
        if frames < _PARTIAL_FRAMES:
            mel = torch.nn.functional.pad(mel, (0, 0, 0, _PARTIAL_FRAMES - frames))
        starts = range(0, max(1, mel.shape[0] - _PARTIAL_FRAMES + _PARTIAL_STEP_FRAMES), _PARTIAL_STEP_FRAMES)
        windows = [mel[s : s + _PARTIAL_FRAMES] for s in starts]
        windows = [w for w in windows if w.shape[0] == _PARTIAL_FRAMES] or [mel[-_PARTIAL_FRAMES:]]
        return torch.stack(windows)

    @property
    def uuid(self) -> str:
        """A stable id for ``metadata.diarize_info``."""
        import uuid

        return str(uuid.uuid5(uuid.NAMESPACE_URL, "openlisten/resemblyzer-ge2e"))


def bundled_weights_path() -> str:
    """Where the ``resemblyzer`` wheel put its encoder weights (found without importing the package)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise InternalError("diarization needs the 'diarize' extra: pip install 'openlisten[diarize]'")
    return os.path.join(next(iter(spec.submodule_search_locations)), "pretrained.pt")
