"""What goes into a `LiveSession` (client controls) and what comes out of it (events).

Plain records: the session never sees a socket or JSON. ``api/routes_live.py`` turns client text frames
into controls and events into Deepgram's messages (spec/listen-v1.md §5.3, §5.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from openlisten.engine.packed_decoder import DecodeItem
from openlisten.features.diarize import SpeakerTurns
from openlisten.transcript import SearchResult, TranscriptWord

__all__ = [
    "CancelRequest",
    "Close",
    "CloseStream",
    "Configure",
    "ConfigureFailure",
    "ConfigureSuccess",
    "Control",
    "DecodeRequest",
    "EmbedRequest",
    "Event",
    "Expedite",
    "Finalize",
    "InvalidMessage",
    "KeepAlive",
    "Metadata",
    "Results",
    "SpeechStarted",
    "UtteranceEnd",
]


# Controls: what the client asks for in text frames (spec §5.3).


@dataclass(frozen=True)
class KeepAlive:
    """Keep an idle connection open; no reply."""


@dataclass(frozen=True)
class Finalize:
    """Transcribe everything buffered now; the finals carry ``from_finalize``."""

    #: Only this channel; None: every channel.
    channel: int | None = None


@dataclass(frozen=True)
class CloseStream:
    """Finish: the last finals, then Metadata, then close 1000."""


@dataclass(frozen=True)
class Configure:
    """Change keyterms or formatting features mid-stream."""

    #: The new keyterms (replacing the old ones); None keeps them.
    keyterms: tuple[str, ...] | None = None
    #: Features to turn on or off, e.g. ``{"numerals": True}``.
    features: Mapping[str, bool] = field(default_factory=dict)


Control = KeepAlive | Finalize | CloseStream | Configure


# Events: what the session has to say.


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began (``vad_events``)."""

    channel: int
    channels: int
    #: Stream time of the start of speech, in seconds.
    timestamp_s: float


@dataclass(frozen=True)
class Results:
    """A transcript of a span of stream time: an interim hypothesis or a final."""

    channel: int
    channels: int
    start_s: float
    duration_s: float
    is_final: bool
    speech_final: bool
    from_finalize: bool
    words: tuple[TranscriptWord, ...]
    transcript: str
    confidence: float
    #: The hits of each ``search`` query, on finals when the session searches.
    search: tuple[SearchResult, ...] | None = None


@dataclass(frozen=True)
class UtteranceEnd:
    """``utterance_end_ms`` passed after the last finalized word with no new word."""

    channel: int
    channels: int
    #: End time of the last word, in seconds of stream time.
    last_word_end_s: float


@dataclass(frozen=True)
class Metadata:
    """Sent once, after the last Results, as the stream ends."""

    #: Hex SHA-256 of every audio byte received.
    sha256: str
    #: Seconds of audio decoded.
    duration_s: float
    #: Channels decoded (0 when no audio was).
    channels: int


@dataclass(frozen=True)
class InvalidMessage:
    """A client text frame that is not a message we know; the stream stays open."""

    #: What was wrong with it.
    description: str
    #: The offending text (possibly cut short).
    message: str


@dataclass(frozen=True)
class ConfigureSuccess:
    """A Configure was applied."""

    #: The keyterms now in force.
    keyterms: tuple[str, ...]


@dataclass(frozen=True)
class ConfigureFailure:
    """A Configure was refused."""

    #: Deepgram's code, e.g. ``CONFIGURE_INTERNAL_ERROR``.
    code: str
    description: str


@dataclass(frozen=True)
class Close:
    """Close the connection with this WebSocket close code and reason; nothing follows."""

    code: int
    reason: str = ""


@dataclass(frozen=True, eq=False)
class DecodeRequest:
    """Model work: decode `item` and hand the result back with ``session.deliver(request_id, result)``."""

    request_id: int
    #: The channel it is for (0 unless multichannel).
    channel: int
    #: Stream time of the item's first sample, in seconds.
    start_s: float
    item: DecodeItem
    #: A ``Finalize`` waits for it: it runs before any other work.
    urgent: bool = False
    #: A final's decode asked for ahead, at a pause that may be the end of an utterance: it waits like an
    #: interim until a final takes it up (`Expedite`).
    ahead: bool = False

    @property
    def final(self) -> bool:
        """Finals are urgent; interims may be coalesced and dropped."""
        return self.item.final


@dataclass(frozen=True, eq=False)
class EmbedRequest:
    """Model work: embed each turn's voice and hand back the embeddings, one row per turn, with
    ``session.deliver(request_id, embeddings)`` (``diarize``)."""

    request_id: int
    #: The channel it is for (0 unless multichannel).
    channel: int
    turns: SpeakerTurns


@dataclass(frozen=True)
class CancelRequest:
    """A `DecodeRequest` or `EmbedRequest` whose result is no longer wanted; cancel it if it has not run."""

    request_id: int


@dataclass(frozen=True)
class Expedite:
    """A `DecodeRequest` a final now waits for, if it has not run: before any other work when a ``Finalize``
    waits for it (`urgent`), else as a final."""

    request_id: int
    urgent: bool = True


Event = (
    SpeechStarted
    | Results
    | UtteranceEnd
    | Metadata
    | InvalidMessage
    | ConfigureSuccess
    | ConfigureFailure
    | Close
    | DecodeRequest
    | EmbedRequest
    | CancelRequest
    | Expedite
)
