"""Transcript records: what the features produce and `wire/render.py` turns into Deepgram JSON."""

from __future__ import annotations

import datetime
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
class Sentence:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Paragraph:
    """Sentences that belong together: split at long pauses and speaker changes."""

    sentences: tuple[Sentence, ...]
    num_words: int
    start_s: float
    end_s: float
    speaker: int | None = None


@dataclass(frozen=True)
class Paragraphs:
    #: The paragraphs as Deepgram's text: each starts with a newline, paragraphs are separated by a blank line.
    transcript: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Utterance:
    """A stretch of one channel's speech between pauses of at least ``utt_split`` seconds."""

    id: str
    channel: int
    words: tuple[TranscriptWord, ...]
    transcript: str
    confidence: float
    start_s: float
    end_s: float
    speaker: int | None = None


@dataclass(frozen=True)
class SearchHit:
    """A place where a search query was heard."""

    #: How well the words there match the query, 0–1.
    confidence: float
    start_s: float
    end_s: float
    #: The transcript words that matched.
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    """The hits of one ``search`` query, best first (none is a valid answer)."""

    query: str
    hits: tuple[SearchHit, ...]


@dataclass(frozen=True)
class DiarizeInfo:
    """The diarizer that labelled the speakers, as ``metadata.diarize_info`` reports it."""

    model_uuid: str
    arch: str


@dataclass(frozen=True)
class ChannelTranscript:
    """The transcript of one audio channel (or of the mix when multichannel is off)."""

    words: tuple[TranscriptWord, ...]
    #: Text as Deepgram's ``transcript`` field shows it.
    transcript: str
    confidence: float
    detected_language: str | None = None
    language_confidence: float | None = None
    paragraphs: Paragraphs | None = None
    #: One result per ``search`` query, when asked for.
    search: tuple[SearchResult, ...] | None = None


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
    #: Utterances of every channel, when asked for.
    utterances: tuple[Utterance, ...] | None = None
    tags: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    #: The diarizer, when speakers were labelled.
    diarize_info: DiarizeInfo | None = None


def now_rfc3339() -> str:
    """Now, as Deepgram's metadata writes ``created``: UTC, milliseconds, ``Z``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
