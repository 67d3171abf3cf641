"""Transcript records: what the features produce and `api/render.py` turns into Deepgram JSON."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TranscriptWord:
    """A word of the final transcript, in Deepgram's two forms."""

    #: Normalized form: lower case, no punctuation (``"hello"``).
    word: str
    #: Display form: punctuated and capitalized when asked for, else the same as ``word``.
    punctuated_word: str
    start_s: float
    end_s: float
    confidence: float
    #: Speaker index with diarization, else None.
    speaker: int | None = None
    speaker_confidence: float | None = None


@dataclass(frozen=True)
class ChannelTranscript:
    """The transcript of one audio channel (or of the mix when multichannel is off)."""

    words: tuple[TranscriptWord, ...]
    #: Text as Deepgram's ``transcript`` field shows it.
    transcript: str
    confidence: float
    detected_language: str | None = None
    language_confidence: float | None = None


@dataclass(frozen=True)
class ModelInfo:
    """The model that produced a transcript, as metadata reports it."""

    uuid: str
    #: The Deepgram model name asked for (``"nova-3"``).
    name: str
    #: What it ran on: the faster-whisper model.
    version: str
    arch: str


@dataclass(frozen=True)
class Transcript:
    """A finished prerecorded transcription: what ``metadata`` and ``results`` are built from."""

    request_id: str
    sha256: str
    #: RFC 3339 time the request was received.
    created: str
    duration_s: float
    channels: int
    model: ModelInfo
    results: tuple[ChannelTranscript, ...]
    tags: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
