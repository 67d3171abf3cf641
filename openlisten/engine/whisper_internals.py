"""Everything OpenListen takes from faster-whisper besides loading a `WhisperModel`.

faster-whisper's documented API is ``WhisperModel.transcribe``. The packed decoder works under it: the
CTranslate2 model, the tokenizer, the feature extractor, the cross-attention alignment, the tokens
``transcribe`` suppresses and its loop and punctuation rules; the VAD needs Silero's ONNX session and its
offline speech timestamps; the speaker encoder the mel filters. None of that is a stable API, so it is
reached from this module only, and pyproject pins the faster-whisper versions it was checked on
(`SUPPORTED`): ``tests/engine/test_whisper_internals.py`` fails first when an upgrade moves a part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

__all__ = [
    "SUPPORTED",
    "align",
    "compression_ratio",
    "ctranslate2_model",
    "language_codes",
    "log_mel",
    "max_length",
    "mel_filters",
    "merge_punctuations",
    "silero_session",
    "speech_timestamps",
    "suppressed_tokens",
    "tokenizer",
]

#: The faster-whisper versions this module was checked on (pyproject's requirement says the same).
SUPPORTED = ">=1.2,<1.3"


def ctranslate2_model(model: WhisperModel) -> Any:
    """The `ctranslate2.models.Whisper` under `model`: ``encode``, ``generate``, ``is_multilingual``."""
    return model.model


def max_length(model: WhisperModel) -> int:
    """Most tokens the decoder takes, prompt included."""
    return int(model.max_length)


def tokenizer(model: WhisperModel, language: str) -> Tokenizer:
    """Whisper's tokenizer for transcribing `language`."""
    from faster_whisper.tokenizer import Tokenizer

    multilingual = model.model.is_multilingual
    return Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language)


def language_codes() -> frozenset[str]:
    """The codes of the languages multilingual Whisper models decode (``en``, ``es``, … about a hundred)."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def log_mel(model: WhisperModel, window: npt.NDArray[np.float32], frames: int) -> npt.NDArray[np.float32]:
    """The log-mel features of 16 kHz `window`, `frames` of them (100 a second), as the encoder takes them."""
    features: npt.NDArray[np.float32] = model.feature_extractor(window, padding=0)[:, :frames]
    return features


def align(
    model: WhisperModel, tokenizer: Tokenizer, texts: list[list[int]], encoder_output: Any, input_frames: int
) -> list[list[dict[str, Any]]]:
    """Words of each token list in `texts`, with start, end and probability, by cross-attention alignment
    against its row of `encoder_output` (`input_frames` counts the encoder's input frames, two per output)."""
    alignments: list[list[dict[str, Any]]] = model.find_alignment(tokenizer, texts, encoder_output, input_frames)
    return alignments


def suppressed_tokens(tokenizer: Tokenizer) -> list[int]:
    """The tokens ``transcribe`` never generates by default (``suppress_tokens=[-1]``)."""
    from faster_whisper.transcribe import get_suppressed_tokens

    return list(get_suppressed_tokens(tokenizer, [-1]))


def compression_ratio(text: str) -> float:
    """How well `text` compresses: ``transcribe``'s test for a looping decode (above 2.4)."""
    from faster_whisper.transcribe import get_compression_ratio

    return float(get_compression_ratio(text))


def merge_punctuations(alignment: list[dict[str, Any]], prepended: str, appended: str) -> None:
    """Attach punctuation words of `alignment` to their neighbours, in place, as ``transcribe`` does."""
    from faster_whisper.transcribe import merge_punctuations as merge

    merge(alignment, prepended, appended)


def silero_session() -> Any:
    """Silero VAD's ONNX session (one per process), run on 512-sample frames with 64 samples of context
    and an ``h``/``c`` state."""
    from faster_whisper.vad import get_vad_model

    return get_vad_model().session


def speech_timestamps(
    samples: npt.NDArray[np.float32], *, min_silence_ms: int, pad_ms: int, max_speech_s: float
) -> list[dict[str, int]]:
    """Silero's speech regions of 16 kHz `samples`, as sample ``start``/``end``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms, max_speech_duration_s=max_speech_s
    )
    found: list[dict[str, int]] = get_speech_timestamps(samples, options)
    return found


def mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> npt.NDArray[np.float32]:
    """Whisper's mel filter bank, shape (`n_mels`, `n_fft` // 2 + 1)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    return np.asarray(FeatureExtractor.get_mel_filters(sample_rate, n_fft, n_mels=n_mels), dtype=np.float32)
