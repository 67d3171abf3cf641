"""The prerecorded pipeline: bytes → audio → engine → words → features → `Transcript`.

One `Transcriber` serves the server and the embedded API, on the `Engine` they share with live streams.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Sequence
from statistics import fmean
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE, Audio, RawFormat, Track, decode_audio
from openlisten.engine.engine import Engine
from openlisten.engine.models import ModelSpec, whisper_language
from openlisten.engine.recognizer import ChunkedRecognizer, RecognitionOptions
from openlisten.engine.scheduler import Priority
from openlisten.engine.types import Word
from openlisten.engine.vad import speech_pieces, speech_regions
from openlisten.errors import InvalidParameter
from openlisten.features.diarize import PRERECORDED_ARCH, diarize
from openlisten.features.formatting import join_transcript
from openlisten.features.language import choose_language
from openlisten.features.paragraphs import build_paragraphs
from openlisten.features.pipeline import finish_words, format_options
from openlisten.features.redact import Redactor
from openlisten.features.search import search
from openlisten.features.utterances import split_utterances
from openlisten.features.vocabulary import hotwords
from openlisten.memory import released_after
from openlisten.options import ListenOptions
from openlisten.transcript import ChannelTranscript, DiarizeInfo, Transcript, now_rfc3339

if TYPE_CHECKING:
    from openlisten.config import Settings
    from openlisten.engine.speaker_encoder import SpeakerEncoder

__all__ = ["ProgressCallback", "Transcriber"]

#: Called with (seconds of audio transcribed, seconds in all) as a transcription advances.
ProgressCallback = Callable[[float, float], None]

#: Longest piece of a long recording recognized at once: faster-whisper computes the features of all the
#: audio it is given at once (about 1 GB for an hour), so hours are recognized in pieces cut in pauses.
PIECE_S = 300.0
#: Audio kept around the speech of a piece, so no word onset or tail is cut off.
PIECE_PAD_S = 1.0
#: After a request with more audio than this (seconds, all channels), freed memory goes back to the system.
_RELEASE_AFTER_S = 600.0

#: Raw encodings that carry no sample rate of their own, so Deepgram requires `sample_rate`.
_RATE_REQUIRED = frozenset({"linear16", "linear32", "mulaw", "alaw"})


class Transcriber:
    """Transcribes whole recordings on the shared `Engine`; it holds no per-request state."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or Engine()

    @property
    def settings(self) -> Settings:
        """The engine's settings."""
        return self.engine.settings

    def transcribe(
        self,
        data: bytes,
        options: ListenOptions,
        *,
        request_id: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe encoded audio `data` as `options` ask."""
        created = now_rfc3339()
        spec = self.engine.models.resolve(options.model)
        language = whisper_language(options, spec)
        audio = decode_audio(data, _raw_format(options), limits=self.settings.audio_limits())
        with released_after(large=audio.duration_s * audio.channels > _RELEASE_AFTER_S):
            return self._transcribe_audio(data, audio, options, spec, language, created, request_id, progress)

    def _transcribe_audio(
        self,
        data: bytes,
        audio: Audio,
        options: ListenOptions,
        spec: ModelSpec,
        language: str | None,
        created: str,
        request_id: str | None,
        progress: ProgressCallback | None,
    ) -> Transcript:
        recognizer = self.engine.recognizer(spec)
        recognition_options = RecognitionOptions(
            language=language,
            beam_size=self.settings.beam_size,
            hotwords=hotwords(options.keyterm, options.keywords),
        )
        embedder = self.engine.models.speaker_encoder() if options.diarization else None
        tracks = [audio.track(i) for i in range(audio.channels)] if options.multichannel else [audio.track(None)]
        results = tuple(
            self._transcribe_track(
                recognizer, track, recognition_options, options, _track_progress(progress, i, len(tracks)), embedder
            )
            for i, track in enumerate(tracks)
        )
        utterances = None
        if options.utterances:
            utterances = tuple(
                u for i, result in enumerate(results) for u in split_utterances(result.words, i, options.utt_split)
            )
        return Transcript(
            request_id=request_id or str(uuid.uuid4()),
            sha256=hashlib.sha256(data).hexdigest(),
            created=created,
            duration_s=round(audio.duration_s, 6),
            channels=audio.channels,
            model=spec.info,
            results=results,
            utterances=utterances,
            tags=options.tag,
            extra=dict(options.extra),
            diarize_info=DiarizeInfo(embedder.uuid, PRERECORDED_ARCH) if embedder is not None else None,
        )

    def _transcribe_track(
        self,
        recognizer: ChunkedRecognizer,
        track: Track,
        recognition_options: RecognitionOptions,
        options: ListenOptions,
        progress: ProgressCallback | None,
        embedder: SpeakerEncoder | None = None,
    ) -> ChannelTranscript:
        pieces = _pieces(track)
        detected = None
        if pieces:
            first, last = pieces[0]
            detected = _detect_language(recognizer, track[first:last], recognition_options, options)
        if detected is not None:
            recognition_options = dataclasses.replace(recognition_options, language=detected[0])
        words: list[Word] = []
        recognized = None
        for first, last in pieces:
            samples = track[first:last]
            recognition = recognizer.recognize(samples, recognition_options)
            recognized = recognized or (recognition.language, recognition.language_probability)
            offset_s = first / SAMPLE_RATE
            for segment in recognition.segments:
                words.extend(_shifted(segment.words, offset_s))
                if progress:
                    progress(min(offset_s + segment.end_s, track.duration_s), track.duration_s)
        if progress:
            progress(track.duration_s, track.duration_s)
        finished = finish_words(words, options, Redactor(options.redact))
        if embedder is not None:
            finished = self.engine.scheduler.run(Priority.PRERECORDED, lambda: diarize(finished, track, embedder))
        if options.detect_language and detected is None:
            detected = recognized or (recognition_options.language or "en", 0.0)
        return ChannelTranscript(
            words=tuple(finished),
            transcript=join_transcript(finished, format_options(options)),
            confidence=round(fmean(w.confidence for w in finished), 4) if finished else 0.0,
            detected_language=detected[0] if detected else None,
            language_confidence=round(detected[1], 4) if detected else None,
            paragraphs=build_paragraphs(finished) if options.paragraphs or options.smart_format else None,
            search=search(finished, options.search) if options.search else None,
        )


def _pieces(track: Track) -> list[tuple[int, int]]:
    """The sample ranges of `track` to recognize: all of it when short, else its speech in pieces."""
    if track.duration_s <= PIECE_S:
        return [(0, len(track))]
    return speech_pieces(speech_regions(track), len(track), PIECE_S, PIECE_PAD_S)


def _shifted(words: Sequence[Word], offset_s: float) -> list[Word]:
    """`words` of a piece, in the times of the whole track."""
    if not offset_s:
        return list(words)
    return [
        dataclasses.replace(w, start_s=round(w.start_s + offset_s, 3), end_s=round(w.end_s + offset_s, 3))
        for w in words
    ]


def _detect_language(
    recognizer: ChunkedRecognizer,
    samples: npt.NDArray[np.float32],
    recognition_options: RecognitionOptions,
    options: ListenOptions,
) -> tuple[str, float] | None:
    """The language to decode in and its confidence, when a multilingual model is asked to detect it."""
    if not options.detect_language or recognition_options.language is not None:
        return None
    return choose_language(recognizer.language_probabilities(samples), options.detect_language_codes)


def _raw_format(options: ListenOptions) -> RawFormat | None:
    if options.encoding is None:
        return None
    if options.sample_rate is None:
        if options.encoding in _RATE_REQUIRED:
            raise InvalidParameter(f"sample_rate is required with encoding={options.encoding}")
        return RawFormat(options.encoding, 0, options.channels)
    return RawFormat(options.encoding, options.sample_rate, options.channels)


def _track_progress(progress: ProgressCallback | None, track: int, tracks: int) -> ProgressCallback | None:
    """Progress of one track of a multichannel job, reported as part of one bar over all tracks."""
    if progress is None:
        return None
    return lambda done, total: progress(track * total + done, total * tracks)
