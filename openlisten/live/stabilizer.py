"""LocalAgreement: the words two successive hypotheses agree on are stable enough to become final.

Each interim decode of a growing utterance yields a hypothesis (the words after those already
confirmed). Whisper's last words on cut-off audio are often wrong; the ones it says the same way twice,
on two different lengths of audio, rarely change again (Macháček et al., "Turning Whisper into Real-Time
Transcription System", 2023). Words ending within `EDGE_S` of the audio's end are never confirmed: the
speaker may still be in the middle of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from openlisten.engine.types import Word, word_key

__all__ = ["EDGE_S", "Stabilizer"]

#: Words ending this close to the end of the decoded audio may still change.
EDGE_S = 0.4


class Stabilizer:
    """Confirms the prefix on which the previous and the new hypothesis agree."""

    def __init__(self) -> None:
        self._previous: tuple[Word, ...] = ()

    def update(self, hypothesis: Sequence[Word], audio_end_s: float) -> int:
        """How many leading words of `hypothesis` are now confirmed.

        `hypothesis` holds the words after those already confirmed; `audio_end_s` is where its audio ends.
        """
        agreed = 0
        for old, new in zip(self._previous, hypothesis, strict=False):
            if word_key(old.text) != word_key(new.text) or new.end_s > audio_end_s - EDGE_S:
                break
            agreed += 1
        self._previous = tuple(hypothesis[agreed:])
        return agreed

    def reset(self) -> None:
        """Forget the last hypothesis (a new utterance, or a new prefix)."""
        self._previous = ()
