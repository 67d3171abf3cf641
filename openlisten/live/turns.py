"""`TurnTracker`: the turns of a Flux stream (``/v2/listen``) as a sans-I/O state machine.

It is told what the transcript pipeline hears (`heard`: the turn's final words so far and the current
interim ones), when a pause begins (`paused`, at a final that ends at an endpoint), what the end-of-turn
model judged of a pause (`judged`), when speech starts again (`speech`), how far the stream has come
(`advance`, for ``eot_timeout_ms``) and when the client forces the end (`force_end`, once the transcript
is complete). It says what to send: `TurnEvent` records, in order (spec/listen-v2.md §4)::

    state     input                                         → next      event
    IDLE      words heard                                     SPEAKING   StartOfTurn (carrying them)
    SPEAKING  the words change, or UPDATE_INTERVAL_S passed    SPEAKING   Update
    SPEAKING  confidence reaches eot_threshold                IDLE       EndOfTurn (trigger model)
    SPEAKING  confidence reaches eager_eot_threshold          EAGER      EagerEndOfTurn
    SPEAKING  a pause judged lower                            SPEAKING   Update (with the confidence)
    EAGER     new words                                       SPEAKING   TurnResumed, then Update
    EAGER     confidence reaches eot_threshold                IDLE       EndOfTurn (trigger model)
    SPEAKING, EAGER  a pause lasting eot_timeout_ms           IDLE       EndOfTurn (trigger timeout)
    SPEAKING, EAGER  ForceEndTurn                             IDLE       EndOfTurn (trigger manual)

The end-of-turn confidence of a pause joins what the model heard with how long the silence has lasted:
``1 - (1 - p) * exp(-silence / SILENCE_TIME_CONSTANT_S)``, where p is the model's probability at the start
of the pause. A turn the model hears as finished ends once the pause reaches `MIN_END_SILENCE_S` (its
EagerEndOfTurn may come at once); one it is unsure of ends when the speaker stays silent long enough; one
it hears as unfinished waits longest (a hesitation), and at worst until ``eot_timeout_ms``. It grows as the
stream's audio arrives (`advance`).

Turns alternate strictly: nothing but StartOfTurn follows an EndOfTurn, and `turn_index` counts them. A
judgement of a pause the speaker has since ended (new words, or new speech) is stale and ignored. An
EndOfTurn's transcript is that of the EagerEndOfTurn before it when no TurnResumed came between.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from openlisten.transcript import TranscriptWord

__all__ = [
    "MIN_END_SILENCE_S",
    "SILENCE_TIME_CONSTANT_S",
    "TurnEvent",
    "TurnState",
    "TurnThresholds",
    "TurnTracker",
    "confidence",
]

#: How fast silence raises the end-of-turn confidence: with the default threshold (0.7), a pause the model
#: heard as unfinished (p near 0) ends its turn after 1.8 s of silence, one it found unsure (p = 0.3) after
#: 1.3 s, so a hesitation of a second after an unfinished phrase does not end the turn, and a turn never
#: needs the 5 s timeout to end. Chosen on bench/flux.py's hesitations (1 s inside read sentences).
SILENCE_TIME_CONSTANT_S = 1.5
#: Silence before the confidence may end a turn (EagerEndOfTurn may come sooner): a pause shorter than this
#: is a comma or a breath far more often than an end, and the model, on read speech, hears many of those as
#: complete. Under a 700 ms timer's wait, so a clear end still comes first. On bench/flux.py's audio it
#: halves the turns ended inside a sentence, for 0.3 s more at the clearest ends.
MIN_END_SILENCE_S = 0.6
#: Stream time between two messages of an open turn: an Update comes at least this often (spec §4: about
#: every 0.25 s), with the transcript so far, changed or not, and how far the audio has come.
UPDATE_INTERVAL_S = 0.25


def confidence(probability: float, silence_s: float) -> float:
    """The end-of-turn confidence of a pause the model judged `probability`, `silence_s` into it."""
    return 1.0 - (1.0 - probability) * math.exp(-max(0.0, silence_s) / SILENCE_TIME_CONSTANT_S)


class TurnState(enum.Enum):
    """Where the current turn is."""

    #: Between turns: no words heard since the last EndOfTurn.
    IDLE = "idle"
    #: A turn is open (StartOfTurn sent).
    SPEAKING = "speaking"
    #: EagerEndOfTurn sent: the speaker may go on (TurnResumed) or not (EndOfTurn).
    EAGER = "eager"


@dataclass(frozen=True)
class TurnThresholds:
    """When a turn ends (spec/listen-v2.md §1)."""

    #: End-of-turn confidence that ends a turn; 1.0 or more leaves it to the client (ForceEndTurn).
    eot_threshold: float = 0.7
    #: Confidence at which EagerEndOfTurn fires; None: never.
    eager_eot_threshold: float | None = None
    #: Silence after which a turn ends whatever the confidence.
    eot_timeout_ms: int = 5000


@dataclass(frozen=True)
class TurnEvent:
    """One ``TurnInfo`` message."""

    event: str
    turn_index: int
    audio_window_start: float
    audio_window_end: float
    transcript: str
    words: tuple[TranscriptWord, ...]
    end_of_turn_confidence: float
    #: On EndOfTurn only: ``model``, ``manual`` or ``timeout``.
    trigger: str | None = None
    #: ``flux-general-multi``: the language of the words; and the language hints in force, if any.
    languages: tuple[str, ...] | None = None
    languages_hinted: tuple[str, ...] | None = None


def check_thresholds(thresholds: TurnThresholds) -> str | None:
    """Why `thresholds` are out of Flux's ranges (spec/listen-v2.md §1), or None."""
    eot, eager, timeout = thresholds.eot_threshold, thresholds.eager_eot_threshold, thresholds.eot_timeout_ms
    if not 0.5 <= eot <= 1.0:
        return f"eot_threshold must be between 0.5 and 0.9 (1.0 leaves turn ends to ForceEndTurn), got {eot}"
    if eager is not None and not 0.3 <= eager <= min(0.9, eot):
        return f"eager_eot_threshold must be between 0.3 and 0.9 and at most eot_threshold ({eot}), got {eager}"
    if not 500 <= timeout <= 10000:
        return f"eot_timeout_ms must be between 500 and 10000, got {timeout}"
    return None


class TurnTracker:
    """Turns from what the transcript pipeline hears and what the end-of-turn model judges."""

    def __init__(self, thresholds: TurnThresholds) -> None:
        self.thresholds = thresholds
        self.state = TurnState.IDLE
        self.turn_index = 0
        self._finals: list[TranscriptWord] = []
        self._interim: list[TranscriptWord] = []
        self._start_s = 0.0
        self._window_end_s = 0.0
        #: When the current pause began (the end of the turn's last word); None while speech goes on.
        self._pause_s: float | None = None
        #: Counts pauses, so that a judgement can be matched to the pause it was asked about.
        self._pause_id = 0
        #: The model's probability for the current pause, once judged.
        self._probability: float | None = None
        self._stream_s = 0.0
        #: The latest speech onset the voice detector heard.
        self._speech_s = 0.0
        #: Stream time of the last message.
        self._emitted_s = 0.0
        self._confidence = 0.0
        self._events: list[TurnEvent] = []

    @property
    def start_s(self) -> float:
        """Where the current turn's first word starts (or the last turn's, between turns)."""
        return self._start_s

    @property
    def pause_id(self) -> int | None:
        """The pause going on now, to ask the end-of-turn model about; None during speech or between turns."""
        return self._pause_id if self._pause_s is not None and self.state is not TurnState.IDLE else None

    # Inputs.

    def heard(self, finals: Sequence[TranscriptWord], interim: Sequence[TranscriptWord], window_end_s: float) -> None:
        """The words of the turn so far: `finals` new since the last call, and the current `interim` hypothesis
        after them (replacing the last one); `window_end_s` is how far the audio they cover reaches."""
        changed = bool(finals) or list(interim) != self._interim
        new_words = bool(finals) or len(interim) > len(self._interim)
        self._finals.extend(finals)
        self._interim = list(interim)
        self._window_end_s = max(self._window_end_s, window_end_s)
        words = self._words()
        if not words:
            return
        if self.state is TurnState.IDLE:
            self._start_s = words[0].start_s
            self.state = TurnState.SPEAKING
            self._speech_goes_on()
            self._emit("StartOfTurn")
            return
        if new_words:
            self._speech_goes_on()
            if self.state is TurnState.EAGER:
                self.state = TurnState.SPEAKING
                self._emit("TurnResumed")
        if changed:
            self._emit("Update")

    def speech(self, at_s: float) -> None:
        """The voice detector heard speech start at `at_s`: a pause begun before is over."""
        self._speech_s = max(self._speech_s, at_s)
        if self.state is not TurnState.IDLE and self._pause_s is not None and at_s > self._pause_s:
            self._speech_goes_on()

    def paused(self, at_s: float) -> None:
        """The speaker paused at `at_s` (an endpoint: the turn's words up to here are final). The words of a
        pause come later than the pause itself: one the speaker has already ended is no pause."""
        if self.state is TurnState.IDLE or not self._words() or self._speech_s > at_s:
            return
        self._pause_s = at_s
        self._probability = None
        self._pause_id += 1

    def judged(self, pause_id: int, probability: float) -> None:
        """The end-of-turn model's probability that the turn is complete, for the pause `pause_id`."""
        if pause_id != self.pause_id:
            return  # the speaker went on since: stale
        self._probability = probability
        if not self._decide():
            self._emit("Update")

    def advance(self, stream_s: float) -> None:
        """The stream has reached `stream_s` seconds: a judged pause grows surer; one that lasted
        ``eot_timeout_ms`` ends the turn."""
        self._window_end_s = max(self._window_end_s, stream_s)
        self._stream_s = max(self._stream_s, stream_s)
        pause = self._pause_s
        if self.state is TurnState.IDLE:
            return
        if pause is not None and self._stream_s - pause >= self.thresholds.eot_timeout_ms / 1000:
            self._end("timeout")
            return
        if pause is not None and self._probability is not None and self._decide():
            return
        if self._stream_s - self._emitted_s >= UPDATE_INTERVAL_S:
            self._emit("Update")

    def _decide(self) -> bool:
        """End the turn, or send EagerEndOfTurn, when the judged pause's confidence reaches a threshold."""
        assert self._pause_s is not None and self._probability is not None
        silence_s = self._stream_s - self._pause_s
        self._confidence = confidence(self._probability, silence_s)
        eager = self.thresholds.eager_eot_threshold
        if self._confidence >= self.thresholds.eot_threshold and silence_s >= MIN_END_SILENCE_S:
            self._end("model")
            return True
        if eager is not None and self._confidence >= eager and self.state is TurnState.SPEAKING:
            self.state = TurnState.EAGER
            self._emit("EagerEndOfTurn")
            return True
        return False

    def force_end(self) -> None:
        """ForceEndTurn, once the words of the turn are final: end it now (nothing happens between turns)."""
        if self.state is not TurnState.IDLE and self._words():
            self._end("manual")

    def events(self) -> list[TurnEvent]:
        """What happened since the last call, in order."""
        events, self._events = self._events, []
        return events

    # Steps.

    def _words(self) -> list[TranscriptWord]:
        return [*self._finals, *self._interim]

    def _speech_goes_on(self) -> None:
        self._pause_s = None
        self._probability = None
        self._confidence = 0.0

    def _end(self, trigger: str) -> None:
        self._emit("EndOfTurn", trigger)
        self.state = TurnState.IDLE
        self.turn_index += 1
        self._finals, self._interim = [], []
        self._pause_s = None
        self._probability = None
        self._confidence = 0.0

    def _emit(self, event: str, trigger: str | None = None) -> None:
        self._emitted_s = self._stream_s
        words = self._words()
        transcript = " ".join(word.punctuated_word for word in words)
        self._events.append(
            TurnEvent(
                event=event,
                turn_index=self.turn_index,
                audio_window_start=round(self._start_s, 3),
                audio_window_end=round(max(self._window_end_s, words[-1].end_s if words else 0.0), 3),
                transcript=transcript,
                words=tuple(words),
                end_of_turn_confidence=round(self._confidence, 4),
                trigger=trigger,
            )
        )
