"""`FluxSession`: one ``/v2/listen`` connection (Flux: turn-taking for voice agents), sans-I/O.

The words come from the same transcript pipeline as ``/v1/listen``'s: a `LiveSession` inside, fed the
audio and asked for interim results, speech events and endpoints, whose decodes go to the shared
scheduler like any live stream's. What Flux adds is the turn (`TurnTracker`): at each pause the session
asks the end-of-turn model (an `EndOfTurnRequest`, model work like a decode) how likely the speaker has
finished, on the last seconds of audio before the pause, and the tracker decides what to send. The
driver (`SessionDriver`) runs it exactly as it runs a v1 session::

    state    input                              → next     events
    OPEN     audio                               OPEN      TurnInfo (StartOfTurn, Update, EagerEndOfTurn,
                                                           TurnResumed, EndOfTurn), model requests
    OPEN     Configure                           OPEN      FluxConfigureSuccess | ConfigureFailure
    OPEN     ForceEndTurn                        OPEN      EndOfTurn (manual) once the turn's words are final
    OPEN     unknown text                        OPEN      Warning
    OPEN     CloseStream                         CLOSING   the last words, EndOfTurn of an open turn
    CLOSING  the last final delivered            CLOSED    Close(1000)
    any      undecodable audio, model failure,   CLOSED    FatalError, Close(1008 or 1011)
             idle timeout
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE, AudioLimits
from openlisten.engine.end_of_turn import END_OF_TURN_WINDOW_S
from openlisten.engine.packed_decoder import DecodeResult
from openlisten.engine.vad import SileroDetector, SpeechDetector
from openlisten.errors import InvalidParameter
from openlisten.live.buffer import SampleBuffer
from openlisten.live.events import (
    CancelRequest,
    Close,
    CloseStream,
    Configure,
    ConfigureFailure,
    ConfigureSuccess,
    DecodeRequest,
    EmbedRequest,
    Event,
    Expedite,
    Finalize,
    InvalidMessage,
    KeepAlive,
    Results,
    SpeechStarted,
)
from openlisten.live.flux_options import LanguageHints
from openlisten.live.options import LiveOptions
from openlisten.live.session import IDLE_REASON, LiveSession, SessionState
from openlisten.live.turns import TurnThresholds, TurnTracker, check_thresholds

__all__ = [
    "EndOfTurnRequest",
    "FatalError",
    "FluxConfigure",
    "FluxConfigureSuccess",
    "FluxControl",
    "FluxSession",
    "FluxWarning",
    "ForceEndTurn",
]

#: Audio after the end of the last word the end-of-turn model hears: the start of the pause, as it was
#: trained on (speech, then a voice detector's fraction of a second of silence).
_PAUSE_HEARD_S = 0.2
#: Audio before a turn's first word the end-of-turn model hears too.
_PRE_ROLL_S = 0.3
#: Audio kept for the end-of-turn model.
_KEEP_SAMPLES = int((END_OF_TURN_WINDOW_S + 2.0) * SAMPLE_RATE)


# Controls (spec/listen-v2.md §2).


@dataclass(frozen=True)
class ForceEndTurn:
    """End the current turn now (its EndOfTurn has ``trigger: manual``)."""


@dataclass(frozen=True)
class FluxConfigure:
    """Change thresholds, keyterms, language hints or numerals mid-stream; any subset."""

    thresholds: Mapping[str, float | int | None] = field(default_factory=dict)
    keyterms: tuple[str, ...] | None = None
    numerals: bool | None = None
    #: The new hints, replacing the old ones (empty: none); None keeps them.
    language_hints: tuple[str, ...] | None = None


FluxControl = KeepAlive | CloseStream | ForceEndTurn | FluxConfigure


# Events beyond the turns' own (`TurnEvent`).


@dataclass(frozen=True)
class FluxConfigureSuccess:
    """A Configure was applied: the settings now in force."""

    thresholds: TurnThresholds
    keyterms: tuple[str, ...]
    numerals: bool
    #: The language hints in force (``flux-general-multi``; None on other models).
    language_hints: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FluxWarning:
    """Something the client should know; the stream goes on."""

    code: str
    description: str


@dataclass(frozen=True)
class FatalError:
    """Why the stream ends; a `Close` follows."""

    code: str
    description: str


@dataclass(frozen=True, eq=False)
class EndOfTurnRequest:
    """Model work: the end-of-turn probability of `audio` (16 kHz mono ending at a pause), handed back with
    ``session.deliver(request_id, probability)``."""

    request_id: int
    audio: npt.NDArray[np.float32]


class FluxSession:
    """A Flux stream: audio and controls in; turns, model requests and the close out."""

    def __init__(
        self,
        options: LiveOptions,
        thresholds: TurnThresholds,
        *,
        languages: LanguageHints | None = None,
        detector_factory: Callable[[], SpeechDetector] = SileroDetector,
        idle_timeout_s: float | None = None,
        limits: AudioLimits | None = None,
    ) -> None:
        extra = {} if idle_timeout_s is None else {"idle_timeout_s": idle_timeout_s}
        self._languages = languages or LanguageHints()
        self._inner = LiveSession(
            options,
            language=self._languages.decoded,
            detector_factory=detector_factory,
            limits=limits,
            tap=self._tap,
            **extra,
        )
        self.tracker = TurnTracker(thresholds)
        self._numerals = options.listen.numerals
        self._audio = SampleBuffer()
        self._events: list[object] = []
        self._judging: dict[int, int] = {}  # request id → pause id
        self._ids = itertools.count(-1, -1)  # negative: apart from the inner session's request ids
        self._force_pending = False
        self._pending_configure: FluxConfigure | None = None
        self._held_close: Close | None = None
        self._finished = False

    # The driver's view (as a `LiveSession`'s).

    @property
    def state(self) -> SessionState:
        """CLOSED once this session's own Close is out (or the client left): until then a closed inner
        session means CLOSING, since its Close may wait for a judgement (and its events are not yet read)."""
        if self._finished:
            return SessionState.CLOSED
        inner = self._inner.state
        return SessionState.CLOSING if inner is SessionState.CLOSED else inner

    @property
    def backlogged(self) -> bool:
        return self._inner.backlogged

    @property
    def duration_s(self) -> float:
        return self._inner.duration_s

    def feed_audio(self, data: bytes) -> None:
        """A binary frame of audio."""
        if data:  # an empty frame is no end of stream in Flux
            self._inner.feed_audio(data)
            self._pull()  # speech heard in it ends a pause before the pause's silence is counted on
            self.tracker.advance(self._audio.end / SAMPLE_RATE)

    def feed_control(self, control: FluxControl) -> None:
        """A client text message, parsed."""
        if self.state is not SessionState.OPEN:
            return
        if isinstance(control, ForceEndTurn):
            self._force_pending = True
            self._inner.feed_control(Finalize())
        elif isinstance(control, FluxConfigure):
            self._configure(control)
        else:
            self._inner.feed_control(control)  # KeepAlive, CloseStream

    def feed_invalid(self, text: str, description: str) -> None:
        """A client text frame that is no message we know: a Warning; the stream goes on."""
        if self.state is not SessionState.CLOSED:
            self._inner.feed_control(KeepAlive())  # it was activity all the same
            self._events.append(FluxWarning("UNPARSABLE_CLIENT_MESSAGE", description))

    def advance(self, now: float) -> None:
        self._inner.advance(now)

    def next_deadline(self) -> float | None:
        return self._inner.next_deadline()

    def deliver(self, request_id: int, result: DecodeResult | npt.NDArray[np.float32] | float) -> None:
        """A decode's result (for the transcript pipeline), or an end-of-turn probability."""
        pause_id = self._judging.pop(request_id, None)
        if pause_id is not None:
            self.tracker.judged(pause_id, float(result))  # type: ignore[arg-type]
            self._release_close()
        else:
            self._inner.deliver(request_id, result)  # type: ignore[arg-type]
            self._pull()

    def cancelled(self, request_id: int) -> None:
        if self._judging.pop(request_id, None) is None:
            self._inner.cancelled(request_id)
        self._release_close()

    def failed(self, request_id: int, message: str) -> None:
        # An end-of-turn judgement that failed: the turn still ends, by eot_timeout_ms (or with the stream).
        if self._judging.pop(request_id, None) is None:
            self._inner.failed(request_id, message)
        self._release_close()

    def disconnect(self) -> None:
        self._inner.disconnect()
        self._finished = True

    def events(self) -> list[object]:
        """Everything to send or do since the last call, in order."""
        self._pull()
        if not self._finished:  # after the Close, nothing more
            if self._force_pending and not self._inner.waiting:
                self._force_pending = False
                self.tracker.force_end()
            self._turn_events()
        events, self._events = self._events, []
        return events

    # Steps.

    def _tap(self, samples: npt.NDArray[np.float32]) -> None:
        """The inner session's mono audio, as it is decoded: kept for the end-of-turn model."""
        self._audio.append(samples)
        self._audio.drop_before(self._audio.end - _KEEP_SAMPLES)

    def _pull(self) -> None:
        """Take in what the transcript pipeline said, at once: the turn's state is always up to date."""
        for event in self._inner.events():
            self._take(event)

    def _take(self, event: Event) -> None:
        """An event of the transcript pipeline: turn material, model work to pass on, or the end."""
        if isinstance(event, Results):
            end_s = event.start_s + event.duration_s
            if event.is_final:
                self.tracker.heard(event.words, (), end_s)
                if event.speech_final and event.words:
                    self._pause(event.words[-1].end_s)
            else:
                self.tracker.heard((), event.words, end_s)
        elif isinstance(event, SpeechStarted):
            self.tracker.speech(event.timestamp_s)
        elif isinstance(event, DecodeRequest | EmbedRequest | CancelRequest | Expedite):
            self._events.append(event)
        elif isinstance(event, ConfigureSuccess | ConfigureFailure):
            self._configured(event)
        elif isinstance(event, Close):
            self._closed(event)
        elif isinstance(event, InvalidMessage):
            self._events.append(FluxWarning("UNPARSABLE_CLIENT_MESSAGE", event.description))
        # Metadata, UtteranceEnd: v1's, not Flux's.

    def _pause(self, at_s: float) -> None:
        """The speaker paused after their words at `at_s`: ask the end-of-turn model about it."""
        self.tracker.paused(at_s)
        pause_id = self.tracker.pause_id
        if pause_id is None:
            return
        # The turn's own audio (the model judges how this speaker ends, not the turn before), up to the pause.
        start = int(max(0.0, self.tracker.start_s - _PRE_ROLL_S) * SAMPLE_RATE)
        audio = self._audio.slice(start, int((at_s + _PAUSE_HEARD_S) * SAMPLE_RATE))
        request_id = next(self._ids)
        self._judging[request_id] = pause_id
        self._events.append(EndOfTurnRequest(request_id, audio))

    def _release_close(self) -> None:
        if self._held_close is not None and not self._judging:
            self._turn_events()
            self._closed(self._held_close)

    def _turn_events(self) -> None:
        languages = self._languages
        if not (languages.multi or languages.hints):
            self._events.extend(self.tracker.events())
            return
        spoken = (languages.decoded,) if languages.multi else None
        hinted = languages.hints or None
        self._events.extend(replace(e, languages=spoken, languages_hinted=hinted) for e in self.tracker.events())

    def _configured_success(self, keyterms: tuple[str, ...]) -> FluxConfigureSuccess:
        hints = self._languages.hints if self._languages.multi else None
        return FluxConfigureSuccess(self.tracker.thresholds, keyterms, self._numerals, hints)

    def _configure(self, configure: FluxConfigure) -> None:
        current = self.tracker.thresholds
        given = {name: value for name, value in configure.thresholds.items() if value is not None}
        thresholds = replace(current, **given)  # type: ignore[arg-type]
        problem = check_thresholds(thresholds)
        if problem is not None:
            self._events.append(ConfigureFailure("INVALID_THRESHOLDS", problem))
            return
        try:
            hints = None if configure.language_hints is None else self._languages.checked(configure.language_hints)
        except InvalidParameter as exc:
            self._events.append(ConfigureFailure("INVALID_LANGUAGE_HINTS", exc.message))
            return
        if configure.keyterms is None and configure.numerals is None:
            self.tracker.thresholds = thresholds
            self._use_hints(hints)
            self._events.append(self._configured_success(self._inner.keyterms))
            return
        # Keyterms and numerals are the transcript pipeline's: it answers, and the thresholds wait for that.
        self._pending_configure = replace(configure, thresholds=given, language_hints=hints)
        features = {} if configure.numerals is None else {"numerals": configure.numerals}
        self._inner.feed_control(Configure(configure.keyterms, features))

    def _configured(self, answer: ConfigureSuccess | ConfigureFailure) -> None:
        pending, self._pending_configure = self._pending_configure, None
        if isinstance(answer, ConfigureFailure) or pending is None:
            self._events.append(answer)
            return
        self.tracker.thresholds = replace(self.tracker.thresholds, **pending.thresholds)  # type: ignore[arg-type]
        if pending.numerals is not None:
            self._numerals = pending.numerals
        self._use_hints(pending.language_hints)
        self._events.append(self._configured_success(answer.keyterms))

    def _use_hints(self, hints: tuple[str, ...] | None) -> None:
        """New language hints (checked): what comes next is decoded in the first one's language."""
        if hints is not None:
            self._languages = replace(self._languages, hints=hints)
            self._inner.use_language(self._languages.decoded)

    def _closed(self, close: Close) -> None:
        if close.code == 1000 and self._judging:
            self._held_close = close  # the stream ended in a pause being judged: its turn ends by that judgement
            return
        self._held_close = None
        if close.code == 1000:
            self.tracker.force_end()  # CloseStream: a turn still open ends with the stream
        self._turn_events()
        if close.code != 1000:
            code = "DATA-0000" if close.code == 1008 else "NET-0001" if close.reason == IDLE_REASON else "NET-0000"
            self._events.append(FatalError(code, close.reason))
        self._events.append(close)
        self._finished = True
