"""`LiveSession`: one live ``/v1/listen`` connection as a sans-I/O state machine (STYLE.md §2).

The session owns no socket, task, thread or clock. Its driver feeds it what the client sends
(`feed_audio`, `feed_control`, `feed_invalid`), the time (`advance`) and the model's answers (`deliver`,
`cancelled`, `failed`), and drains `events()`: Deepgram's messages to send, `Close`, and the model work
to do (`DecodeRequest`, `EmbedRequest`, `CancelRequest`). Transcription itself happens per channel (`live/channel.py`).

Connection states and what moves between them (spec/listen-v1.md §5.3, §5.6)::

    state    input                              → next     events
    OPEN     audio, KeepAlive, Finalize          OPEN      Results, SpeechStarted, UtteranceEnd…
    OPEN     Configure                           OPEN      ConfigureSuccess | ConfigureFailure
    OPEN     unknown text                        OPEN      InvalidMessage (the stream stays open)
    OPEN     CloseStream, empty binary frame     CLOSING   the last finals are requested
    OPEN     undecodable audio                   CLOSED    Close(1008, "DATA-0000: …")
    OPEN     no frame for IDLE_TIMEOUT_S         CLOSED    Close(1011, NET-0001 text)
    CLOSING  the last final delivered            CLOSED    Metadata, Close(1000)
    CLOSING  finals late by CLOSING_TIMEOUT_S    CLOSED    Close(1011, "NET-0000: …")
    any      model failure                       CLOSED    Close(1011, "NET-0000: …")
    any      the client went away                CLOSED    (nothing: there is no one to tell)

A client may send audio faster than it can be decoded. While more than `MAX_BACKLOG_S` of it waits (or more
than `MAX_FINALS_IN_LINE` finals), the session is `backlogged`: its driver reads no more frames until decodes
come back (TCP then slows the client), and the idle timer does not run. Sample rates and the audio one
message may carry are bounded by the stream decoder (`AudioLimits`), before anything is resampled.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE, AudioLimits, StreamDecoder
from openlisten.engine.packed_decoder import DecodeResult
from openlisten.engine.vad import SileroDetector, SpeechDetector
from openlisten.errors import RequestError
from openlisten.features.live import LiveFeatures
from openlisten.live.channel import Channel, ChannelConfig
from openlisten.live.events import (
    CancelRequest,
    Close,
    CloseStream,
    Configure,
    ConfigureFailure,
    ConfigureSuccess,
    Control,
    DecodeRequest,
    EmbedRequest,
    Event,
    Finalize,
    InvalidMessage,
    KeepAlive,
    Metadata,
)
from openlisten.live.options import LiveOptions
from openlisten.options import check_term

__all__ = ["IDLE_REASON", "LiveSession", "SessionState"]

#: No data frame for this long closes the stream (spec §5.6: "about 10 s").
IDLE_TIMEOUT_S = 10.0
#: Deepgram's exact close reason for the idle timeout (spec §5.6, 108 bytes).
IDLE_REASON = (
    "Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001"
)
#: After CloseStream, the last finals must come within this long, or the stream closes with NET-0000.
CLOSING_TIMEOUT_S = 60.0
#: Close reasons are at most 123 bytes (RFC 6455 §5.5: 125-byte control frames, 2 for the code).
_MAX_REASON_BYTES = 123
#: Longest offending client text echoed back in an Error message.
_MAX_ECHO_CHARS = 1024
#: Formatting features a Configure may switch.
_FEATURES = frozenset({"punctuate", "smart_format", "numerals", "filler_words", "dictation", "profanity_filter"})
#: Audio a channel may hold for decodes still to come before the driver stops reading the client's frames
#: (`backlogged`): a client sending faster than real time is slowed down by TCP, and loses nothing. Past
#: the decodes' own reach (`MAX_DECODE_S` of context), about a minute of audio waits.
MAX_BACKLOG_S = 90.0
#: Finals a channel may have in line (waiting for their decodes) before the driver stops reading the client's
#: frames, as for `MAX_BACKLOG_S`: each pause or ``Finalize`` adds one, and a busy server decodes a few a
#: second, so only a client sending ``Finalize`` after every few samples reaches it.
MAX_FINALS_IN_LINE = 100
#: Most keyterm words a Configure may set (Deepgram's limit is 500 tokens).
_MAX_KEYTERM_WORDS = 200


class SessionState(enum.Enum):
    """Where a connection is."""

    #: Receiving audio and controls.
    OPEN = "open"
    #: CloseStream received: waiting for the last finals, then Metadata and close.
    CLOSING = "closing"
    #: Close sent, or the client left: nothing more happens.
    CLOSED = "closed"


class LiveSession:
    """A live transcription: audio and controls in, Deepgram's events and model requests out."""

    def __init__(
        self,
        options: LiveOptions,
        *,
        language: str = "en",
        detector_factory: Callable[[], SpeechDetector] = SileroDetector,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        limits: AudioLimits | None = None,
        tap: Callable[[npt.NDArray[np.float32]], None] | None = None,
    ) -> None:
        self.options = options
        #: Sees the mono audio of a one-channel stream as it is decoded (Flux keeps it for its turn model).
        self._tap = tap
        self.state = SessionState.OPEN
        self._language = language
        self._detector_factory = detector_factory
        self._idle_timeout_s = idle_timeout_s
        self._decoder = StreamDecoder(options.raw_format(), limits)
        self._channels: list[Channel] = []
        self._decoded_channels = 0
        self._keyterms = options.keyterms
        self._listen = options.listen
        self._events: deque[Event] = deque()
        self._requests: dict[int, Channel] = {}
        self._ids = itertools.count()
        self._sha256 = hashlib.sha256()
        self._last_activity: float | None = None
        self._active = False

    @property
    def duration_s(self) -> float:
        """Seconds of audio decoded so far."""
        return round(self._channels[0].samples / SAMPLE_RATE, 3) if self._channels else 0.0

    @property
    def keyterms(self) -> tuple[str, ...]:
        """The keyterms in force (the query's, or the last Configure's)."""
        return self._keyterms

    @property
    def waiting(self) -> bool:
        """Whether finals are still being decoded."""
        return any(channel.finals_in_line for channel in self._channels)

    @property
    def backlogged(self) -> bool:
        """Whether more audio is waiting for decodes than `MAX_BACKLOG_S`, or more finals than
        `MAX_FINALS_IN_LINE`: read no more frames until it is not."""
        limit = int(MAX_BACKLOG_S * SAMPLE_RATE)
        return self.state is SessionState.OPEN and any(
            c.backlog_samples > limit or c.finals_in_line > MAX_FINALS_IN_LINE for c in self._channels
        )

    # Input.

    def feed_audio(self, data: bytes) -> None:
        """A binary frame: audio bytes; an empty one ends the stream like CloseStream (spec §5.3)."""
        if self.state is not SessionState.OPEN:
            return
        self._active = True
        if not data:
            self._close_stream()
            return
        self._sha256.update(data)
        try:
            samples = self._decoder.feed(data)
        except RequestError as exc:
            self._close(1008, f"DATA-0000: {exc.message}")
            return
        self._route(samples)

    def feed_control(self, control: Control) -> None:
        """A client text message, parsed."""
        if self.state is not SessionState.OPEN:
            return
        self._active = True
        if isinstance(control, Finalize):
            for channel in self._channels:
                if control.channel is None or control.channel == channel.config.index:
                    channel.flush(from_finalize=True)
        elif isinstance(control, CloseStream):
            self._close_stream()
        elif isinstance(control, Configure):
            self._configure(control)
        else:
            assert isinstance(control, KeepAlive)

    def feed_invalid(self, text: str, description: str) -> None:
        """A client text frame that is no message we know: answered with an Error; the stream stays open."""
        if self.state is SessionState.CLOSED:
            return
        self._active = True
        self._events.append(InvalidMessage(description, text[:_MAX_ECHO_CHARS]))

    def advance(self, now: float) -> None:
        """The time is `now` (seconds, any monotonic clock): closes an idle or stuck stream."""
        if self._active or self._last_activity is None or self.backlogged:  # a backlog is not the client's idling
            self._last_activity, self._active = now, False
        waited = now - self._last_activity
        if self.state is SessionState.OPEN and waited >= self._idle_timeout_s:
            self._close(1011, IDLE_REASON)
        elif self.state is SessionState.CLOSING and waited >= CLOSING_TIMEOUT_S:
            self._close(1011, "NET-0000: the last results were not ready in time")

    def deliver(self, request_id: int, result: DecodeResult | npt.NDArray[np.float32]) -> None:
        """The result of a `DecodeRequest`, or of an `EmbedRequest` (the embeddings, a row per turn)."""
        channel = self._requests.pop(request_id, None)
        if channel is None or self.state is SessionState.CLOSED:
            return
        channel.deliver(request_id, result)
        self._finish_if_done()

    def cancelled(self, request_id: int) -> None:
        """A `DecodeRequest` that will not run (the scheduler coalesced it into a newer one)."""
        channel = self._requests.pop(request_id, None)
        if channel is not None:
            channel.cancelled(request_id)

    def failed(self, request_id: int, message: str) -> None:
        """A `DecodeRequest` or `EmbedRequest` failed: the stream cannot go on."""
        if request_id in self._requests and self.state is not SessionState.CLOSED:
            self._close(1011, f"NET-0000: {message}")

    def disconnect(self) -> None:
        """The client went away: stop quietly."""
        if self.state is not SessionState.CLOSED:
            self._stop()

    # Output.

    def events(self) -> list[Event]:
        """Everything that happened since the last call, in order."""
        events = list(self._events)
        self._events.clear()
        return events

    def next_deadline(self) -> float | None:
        """When `advance` must next be called (None: only on new input)."""
        if self._last_activity is None or self.state is SessionState.CLOSED:
            return None
        timeout = self._idle_timeout_s if self.state is SessionState.OPEN else CLOSING_TIMEOUT_S
        return self._last_activity + timeout

    # Steps.

    def _route(self, samples: npt.NDArray[np.float32]) -> None:
        """Hand decoded samples, shape (channels, n), to the channels."""
        if samples.shape[1] == 0:
            return
        if not self._channels:
            self._start_channels(samples.shape[0])
        if len(self._channels) == 1:
            mono = samples[0] if samples.shape[0] == 1 else samples.mean(axis=0, dtype=np.float32)
            if self._tap is not None:
                self._tap(mono)
            self._channels[0].push(mono)
        else:
            for channel, row in zip(self._channels, samples, strict=True):
                channel.push(row)

    def _start_channels(self, decoded: int) -> None:
        self._decoded_channels = decoded
        count = decoded if self.options.listen.multichannel else 1
        self._channels = [
            Channel(
                self._channel_config(index, count),
                LiveFeatures(self._listen),
                self._detector_factory(),
                self._next_id,
                self._emit,
            )
            for index in range(count)
        ]

    def _channel_config(self, index: int, total: int) -> ChannelConfig:
        options = self.options
        return ChannelConfig(
            index=index,
            total=total,
            interim_results=options.interim_results,
            endpointing_ms=options.endpointing_ms,
            utterance_end_ms=options.utterance_end_ms,
            vad_events=options.vad_events,
            hotwords=options.hotwords(self._keyterms),
            language=self._language,
        )

    def _next_id(self) -> int:
        return next(self._ids)

    def _emit(self, event: Event) -> None:
        """Take a channel's event, noting which channel asked for which model work."""
        if isinstance(event, DecodeRequest | EmbedRequest):
            self._requests[event.request_id] = self._channels[event.channel]
        elif isinstance(event, CancelRequest):
            self._requests.pop(event.request_id, None)
        self._events.append(event)

    def _configure(self, configure: Configure) -> None:
        unknown = sorted(set(configure.features) - _FEATURES)
        if unknown:
            description = f"unknown feature(s): {', '.join(unknown)}; known: {', '.join(sorted(_FEATURES))}"
            self._events.append(ConfigureFailure("CONFIGURE_INTERNAL_ERROR", description))
            return
        keyterms = self._keyterms if configure.keyterms is None else configure.keyterms
        try:
            keyterms = tuple(dict.fromkeys(check_term("keyterm", term) for term in keyterms if term.strip()))
        except RequestError as exc:
            self._events.append(ConfigureFailure("CONFIGURE_KEYTERM_LIMIT_EXCEEDED", exc.message))
            return
        if len(" ".join(keyterms).split()) > _MAX_KEYTERM_WORDS:
            description = f"keyterms may hold at most {_MAX_KEYTERM_WORDS} words"
            self._events.append(ConfigureFailure("CONFIGURE_KEYTERM_LIMIT_EXCEEDED", description))
            return
        self._keyterms = tuple(keyterms)
        self._listen = replace(self._listen, **dict(configure.features))  # type: ignore[arg-type]
        for channel in self._channels:
            config = replace(channel.config, hotwords=self.options.hotwords(self._keyterms))
            channel.configure(config, channel.features.reconfigured(self._listen))
        self._events.append(ConfigureSuccess(self._keyterms))

    def use_language(self, language: str) -> None:
        """Decode what comes next in `language` (a Whisper code the model knows)."""
        self._language = language
        for channel in self._channels:
            channel.configure(replace(channel.config, language=language), channel.features)

    def _close_stream(self) -> None:
        self.state = SessionState.CLOSING
        try:
            samples = self._decoder.flush()
        except RequestError as exc:
            self._close(1008, f"DATA-0000: {exc.message}")
            return
        self._route(samples)
        for channel in self._channels:
            channel.flush(from_finalize=False, closing=True)
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self.state is not SessionState.CLOSING or self.waiting:
            return
        metadata = Metadata(self._sha256.hexdigest(), self.duration_s, self._decoded_channels)
        self._events.append(metadata)
        self._close(1000, "")

    def _close(self, code: int, reason: str) -> None:
        self._stop()
        self._events.append(Close(code, _truncate(reason)))

    def _stop(self) -> None:
        """Drop all work in flight and the decoder; the state is CLOSED from here on."""
        self.state = SessionState.CLOSED
        self._decoder.close()
        for request_id in self._requests:
            self._events.append(CancelRequest(request_id))
        self._requests.clear()


def _truncate(reason: str) -> str:
    """`reason` cut to what a close frame holds, on a character boundary."""
    encoded = reason.encode("utf-8")[:_MAX_REASON_BYTES]
    return encoded.decode("utf-8", errors="ignore")
