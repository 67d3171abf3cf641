"""The recognizer interface, and its faster-whisper implementation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from openlisten.engine.speech import SpeechRegion, clip_to_speech, speech_regions
from openlisten.engine.types import Segment, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = ["LanguageDetector", "Recognition", "RecognitionOptions", "Recognizer", "WhisperRecognizer"]


@dataclass(frozen=True)
class RecognitionOptions:
    """How to decode one piece of audio."""

    #: Language code for Whisper (``"en"``); None detects it.
    language: str | None = "en"
    #: Beam width; 1 is greedy.
    beam_size: int = 5
    #: Skip non-speech with the Silero VAD before decoding (avoids hallucinations on silence and noise).
    vad_filter: bool = True
    #: Text that primes the decoder (Whisper's ``initial_prompt``).
    initial_prompt: str | None = None
    #: Terms that bias the decoder (faster-whisper's ``hotwords``).
    hotwords: str | None = None


@dataclass(frozen=True)
class Recognition:
    """A recognition in progress: segments arrive lazily, so callers can show progress."""

    segments: Iterator[Segment]
    #: Seconds of audio being recognized.
    duration_s: float
    language: str
    language_probability: float


class Recognizer(Protocol):
    """What the pipeline needs from a speech recognizer."""

    def recognize(self, samples: np.ndarray, options: RecognitionOptions) -> Recognition:
        """Recognize mono float32 16 kHz `samples`."""
        ...


@runtime_checkable
class LanguageDetector(Protocol):
    """A recognizer that can tell which language is spoken (multilingual models)."""

    def language_probabilities(self, samples: np.ndarray) -> list[tuple[str, float]]:
        """(language code, probability) for every language the model knows, for mono 16 kHz `samples`."""
        ...


class WhisperRecognizer:
    """A faster-whisper model behind the `Recognizer` interface."""

    def __init__(self, model: WhisperModel) -> None:
        self.model = model

    def recognize(self, samples: np.ndarray, options: RecognitionOptions) -> Recognition:
        segments, info = self.model.transcribe(
            samples,
            language=options.language,
            beam_size=options.beam_size,
            vad_filter=options.vad_filter,
            word_timestamps=True,
            condition_on_previous_text=False,
            initial_prompt=options.initial_prompt,
            hotwords=options.hotwords,
        )
        regions = speech_regions(samples) if options.vad_filter else []
        return Recognition(
            segments=(_segment(s, regions) for s in segments if s.words),
            duration_s=info.duration,
            language=info.language,
            language_probability=info.language_probability,
        )

    def language_probabilities(self, samples: np.ndarray) -> list[tuple[str, float]]:
        # The speech parts only, as transcribe() itself detects languages; up to 3 windows of 30 s.
        _, _, probabilities = self.model.detect_language(samples, vad_filter=True, language_detection_segments=3)
        return [(code, float(p)) for code, p in probabilities]


def _segment(segment: object, regions: list[SpeechRegion]) -> Segment:
    words = [
        Word(text=w.word, start_s=float(w.start), end_s=float(w.end), confidence=float(w.probability))
        for w in segment.words  # type: ignore[attr-defined]
    ]
    words = clip_to_speech(words, regions) if regions else words
    return Segment(
        words=tuple(words),
        start_s=float(segment.start),  # type: ignore[attr-defined]
        end_s=float(segment.end),  # type: ignore[attr-defined]
        avg_logprob=float(segment.avg_logprob),  # type: ignore[attr-defined]
        no_speech_prob=float(segment.no_speech_prob),  # type: ignore[attr-defined]
    )
