"""`AheadDecode`: a live channel's final decoded ahead, at a pause that may end its utterance.

`AHEAD_TAIL_S` into a pause, the channel asks for the decode its utterance's final would need if the
utterance ended there. If it does (an endpoint, or a ``Finalize``) with no speech after the pause, the
final takes those words, or waits for that decode already under way, instead of asking for its own: its
words are known sooner. Speech after the pause, or another final's words changing the decode's prefix,
makes it useless: it is dropped, and cancelled if still in flight. At most one is held at a time::

    state   input                                        → next   and
    NONE    a pause, `AHEAD_AFTER_S` after the last one    ASKED    DecodeRequest (ahead)
    ASKED   its words back                                 BACK
    ASKED   taken by the utterance's final                 NONE     the final waits for its decode
    BACK    taken by the utterance's final                 NONE     the final has its words
    ASKED   dropped (stale)                                NONE     CancelRequest
    ASKED   cancelled by the scheduler                     NONE
    BACK    dropped (stale)                                NONE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word
from openlisten.live.finals import Utterance
from openlisten.live.words import shifted

__all__ = ["AHEAD_AFTER_S", "AHEAD_TAIL_S", "Ahead", "AheadDecode"]

#: Audio an utterance must have (since it began, or since its last decode asked ahead) before a pause in it
#: has its final decoded ahead: at a pause that may end it, not at every gap between two words.
AHEAD_AFTER_S = 1.0
#: Silence after the speech that the decode asked ahead holds (three of the speech detector's frames): its
#: last speech frame often ends before a word's soft end, and Whisper without it hears another word (the "s"
#: of "Americans", cut off at the first silent frame: "And so am I fellow America."; with one frame after it
#: still "America", with two or more "Americans"). Each frame more delays every final decoded ahead.
AHEAD_TAIL_S = 0.096


@dataclass
class Ahead:
    """A final's decode asked for ahead, at a pause in `utterance` ending at `end`."""

    request_id: int
    utterance: Utterance
    #: The prefix version it was asked with: once another final's words are known, it is stale.
    version: int
    #: Stream sample of the decoded audio's first sample.
    origin: int
    end: int
    samples: npt.NDArray[np.float32]
    prefix: list[Word]
    #: The decoded words, in stream time, once back (BACK).
    words: list[Word] | None = None


class AheadDecode:
    """The one decode a channel has asked ahead, if any."""

    def __init__(self) -> None:
        self._held: Ahead | None = None
        self._asked_until = 0  # where the audio of the last decode asked ahead ended

    def due(self, utterance: Utterance, pause: int) -> bool:
        """Whether a pause starting at sample `pause` has the utterance's final decoded ahead."""
        since = max(utterance.start, self._asked_until)
        return self._held is None and pause - since >= AHEAD_AFTER_S * SAMPLE_RATE

    def asked(self, ahead: Ahead) -> None:
        """`ahead` was asked for (ASKED)."""
        assert self._held is None
        self._held, self._asked_until = ahead, ahead.end

    def deliver(self, request_id: int, words: Sequence[Word]) -> bool:
        """Its decode came back with `words`, timed from its audio's start (BACK); False when `request_id` is
        not its decode."""
        if self._held is None or self._held.request_id != request_id:
            return False
        self._held.words = shifted(words, self._held.origin)
        return True

    def cancelled(self, request_id: int) -> None:
        """Its decode will not run: it is gone."""
        if self._held is not None and self._held.request_id == request_id:
            self._held = None

    def take(self, utterance: Utterance, version: int, speech_end: int) -> tuple[Ahead | None, int | None]:
        """For the final of `utterance`: the decode asked ahead if it still holds (the utterance ended at its
        pause, no speech came after it, no other final's words changed the prefix since), else None; and the
        request to cancel, if a stale one was still in flight."""
        held = self._held
        if held is not None and held.utterance is utterance and held.version == version and speech_end <= held.end:
            self._held = None
            return held, None
        return None, self.drop()

    def drop(self, utterance: Utterance | None = None) -> int | None:
        """Forget the decode asked ahead (only if for `utterance`, when given): the request to cancel, if it
        was still in flight."""
        held = self._held
        if held is None or (utterance is not None and held.utterance is not utterance):
            return None
        self._held = None
        return held.request_id if held.words is None else None
