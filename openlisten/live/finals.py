"""The finals of a live channel in line: the speech each holds, and where each stands (`FinalState`).

`Channel` keeps a queue of `FinalSlot`s, one per final it will send, in stream order: each starts where the
one before it ends, and each moves, by the `MOVES` table only, from `WAITING` for its decode to `READY` to
go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from openlisten.engine.types import Word
from openlisten.features.diarize import SpeakerTurns

__all__ = ["KNOWN", "MOVES", "FinalSlot", "FinalState", "Utterance"]


@dataclass
class Utterance:
    """The speech being decoded."""

    #: First sample of the utterance's own audio (decodes start earlier, with the words there as prefix).
    start: int
    #: Where speech started.
    onset: int


class FinalState(Enum):
    """Where a final in line stands. Finals go out in order, each once it and every final before it are
    `READY`; the decode of a final is asked for only once the words of every final before it are known
    (they are its prefix), so at most one final of a channel is `DECODING` and those after it are `WAITING`."""

    #: Its speech is known; its decode waits for the words of the finals before it.
    WAITING = "waiting"
    #: Its decode is asked for (again, when it skipped speech or ended early).
    DECODING = "decoding"
    #: Its words are known (the context of later decodes); with ``diarize``, its speakers' voices are not yet.
    EMBEDDING = "embedding"
    #: Its words and speakers are known: it goes out when every final before it has.
    READY = "ready"


#: The moves of a final in line. A final of silence, or of words confirmed by interims, has its words at
#: once; one decoded ahead, as soon as its pause turns out to be its end.
MOVES: dict[FinalState, frozenset[FinalState]] = {
    FinalState.WAITING: frozenset({FinalState.DECODING, FinalState.EMBEDDING, FinalState.READY}),
    FinalState.DECODING: frozenset({FinalState.DECODING, FinalState.EMBEDDING, FinalState.READY}),
    FinalState.EMBEDDING: frozenset({FinalState.READY}),
    FinalState.READY: frozenset(),
}
#: The states of a final whose words are known.
KNOWN = frozenset({FinalState.EMBEDDING, FinalState.READY})


@dataclass
class FinalSlot:
    """A final in line (`FinalState`)."""

    start: int
    end: int
    speech_final: bool
    from_finalize: bool
    #: The speech to decode, until its decode is asked for (once every final before it is known).
    utterance: Utterance | None = None
    #: A ``Finalize`` waits for it: its decode runs before other work.
    urgent: bool = False
    #: Stream sample of the decoded audio's first sample (word times count from there).
    origin: int = 0
    #: The decode request of its words (None: not asked for yet, or known when it was made).
    request_id: int | None = None
    #: The decoded audio, from `origin`, until the words are known (``diarize`` embeds the speakers' voices).
    samples: npt.NDArray[np.float32] | None = None
    #: The words forced as the decoder's prefix, until the words are known.
    prefix: list[Word] | None = None
    #: Where its speech ends: its last speech frame, or its end.
    speech_end: int = 0
    #: Where its speech starts: its utterance's onset, or its start.
    speech_start: int = 0
    #: The words decoded so far, while the speech after them is decoded on (`UNHEARD_S`), and how often.
    heard: list[Word] | None = None
    continuations: int = 0
    #: Its decode skipped speech and was asked for again (`RETRY_SPEECH_S`).
    retried: bool = False
    #: Its words, in stream time, once decoded.
    words: list[Word] | None = None
    #: Its words are in the context of later decodes.
    recorded: bool = False
    #: With ``diarize``: the speaker turns being embedded, the request, and the embeddings once back.
    turns: SpeakerTurns | None = None
    embed_id: int | None = None
    embeddings: npt.NDArray[np.float32] | None = None
    state: FinalState = FinalState.WAITING

    @property
    def speakers(self) -> tuple[SpeakerTurns, npt.NDArray[np.float32]] | None:
        """With ``diarize``, once `READY`: its speaker turns and their voices."""
        if self.turns is None:
            return None
        assert self.embeddings is not None
        return self.turns, self.embeddings

    def move(self, state: FinalState) -> None:
        """Go to `state`, by one of the `MOVES` from the state it is in."""
        if state not in MOVES[self.state]:
            raise AssertionError(f"a final cannot go from {self.state.value} to {state.value}")
        self.state = state
