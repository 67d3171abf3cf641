"""The recognizer interface, and its faster-whisper implementation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from openlisten.engine.types import Segment, Word
from openlisten.engine.vad_regions import SAMPLE_RATE, SpeechRegion, clip_to_speech, speech_regions

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


#: A segment whose text compresses better than this is a decoder loop (faster-whisper's own test).
LOOP_COMPRESSION_RATIO = 2.4
#: The repetition penalty of a loop's second, deterministic decode: enough to stop "1 1 1 1 …" running on,
#: mild enough to keep a card number's real repeats most of the time.
LOOP_REPETITION_PENALTY = 1.3


class WhisperRecognizer:
    """A faster-whisper model behind the `Recognizer` interface.

    Decoding is deterministic: the same audio gives the same text. faster-whisper's default answer to a
    window that loops (text that compresses too well, typically a run of repeated digits) is to sample it
    again at rising temperatures, so a card number could be redacted in one run and come out differently
    in the next. Here every window decodes at temperature 0, and a segment that loops is decoded once more,
    alone and still greedily, with a repetition penalty.
    """

    def __init__(self, model: WhisperModel) -> None:
        self.model = model

    def recognize(self, samples: np.ndarray, options: RecognitionOptions) -> Recognition:
        segments, info = self._transcribe(samples, options)
        regions = speech_regions(samples) if options.vad_filter else []
        return Recognition(
            segments=(_segment(s, regions) for s in self._unlooped(segments, samples, options) if s.words),
            duration_s=info.duration,
            language=info.language,
            language_probability=info.language_probability,
        )

    def _transcribe(self, samples: np.ndarray, options: RecognitionOptions, **overrides: object) -> tuple[Any, Any]:
        settings: dict[str, Any] = {
            "language": options.language,
            "beam_size": options.beam_size,
            "vad_filter": options.vad_filter,
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "initial_prompt": options.initial_prompt,
            "hotwords": options.hotwords,
            "temperature": 0.0,
        }
        return self.model.transcribe(samples, **(settings | overrides))  # type: ignore[no-any-return]

    def _unlooped(self, segments: Iterable[Any], samples: np.ndarray, options: RecognitionOptions) -> Iterator[Any]:
        """The segments, each one that loops replaced by a second decode of its audio with a repetition penalty."""
        for segment in segments:
            if segment.compression_ratio <= LOOP_COMPRESSION_RATIO:
                yield segment
                continue
            first, last = int(segment.start * SAMPLE_RATE), int(segment.end * SAMPLE_RATE)
            again, _ = self._transcribe(
                samples[first:last], options, repetition_penalty=LOOP_REPETITION_PENALTY, vad_filter=False
            )
            yield from (_shifted(s, segment.start) for s in again)

    def language_probabilities(self, samples: np.ndarray) -> list[tuple[str, float]]:
        # The speech parts only, as transcribe() itself detects languages; up to 3 windows of 30 s.
        _, _, probabilities = self.model.detect_language(samples, vad_filter=True, language_detection_segments=3)
        return [(code, float(p)) for code, p in probabilities]


def _shifted(segment: Any, offset_s: float) -> Any:
    """A segment of a clip starting `offset_s` into the audio, in the audio's times."""
    words = [dataclasses.replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in segment.words or []]
    return dataclasses.replace(segment, start=segment.start + offset_s, end=segment.end + offset_s, words=words)


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
