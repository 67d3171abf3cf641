"""LocalAgreement: the words two successive hypotheses agree on are stable enough to become final.

Each interim decode of a growing utterance yields a hypothesis (the words after those already
confirmed). Whisper's last words on cut-off audio are often wrong; the ones it says the same way twice,
on two different lengths of audio, rarely change again (Macháček et al., "Turning Whisper into Real-Time
Transcription System", 2023). Words ending within `EDGE_S` of the audio's end are never confirmed: the
speaker may still be in the middle of them.

A word that ends `SETTLED_S` or more before the end of the audio it was heard in is confirmed by one
hypothesis: Whisper heard it whole, with the speech after it, and a second decode would say it the same
way. When decodes are frequent (one stream, about one a second) agreement confirms such words first; under
load, when a stream is decoded only every few seconds, waiting for two hypotheses to agree would let the
unconfirmed speech (and every decode of it) grow until it is cut at `MAX_DECODE_S`. This holds only for a
hypothesis that heard all the speech before those words: Whisper sometimes skips the start of its audio (it
begins at a later sentence) or a stretch inside it, so a hypothesis with a gap over `MAX_GAP_S` between
its words, where the speech detector heard speech, confirms nothing: not by itself, and not by agreement
either (under load, two successive decodes of the same audio skip the same start; seen at 8 streams, which
lost "in being comparatively modern" so). The alignment may also spread the skipped speech over the first few
words, none of them over `MAX_GAP_S` ("for" over 0.8 s and "all" over 1.1 s, where a hypothesis before had
heard "in being comparatively modern, for although"): a hypothesis with `MISSING_WORDS` fewer words than one
of the `RECENT` before it, over the audio both heard, confirms nothing past the last word at which it had kept
up with them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from openlisten.engine.types import Word, word_key

__all__ = ["EDGE_S", "MAX_GAP_S", "MISSING_WORDS", "RECENT", "SETTLED_S", "Stabilizer", "heard_whole"]

#: Words ending this close to the end of the decoded audio may still change.
EDGE_S = 0.4
#: Words ending this long before the end of the decoded audio are confirmed without a second hypothesis.
SETTLED_S = 2.0
#: Longest stretch of an utterance's speech in which a hypothesis may place no word: a pause that did not
#: end the utterance is shorter (the endpoint floor is 300 ms); a longer one is speech Whisper skipped.
MAX_GAP_S = 1.5
#: A hypothesis with this many words fewer than a recent one, over the same audio, skipped speech (Whisper's
#: spellings differ by a word at times: "wood blocks" and "woodblock", "forty two" and "42").
MISSING_WORDS = 3
#: How many hypotheses before it a new one is compared with.
RECENT = 3


class Stabilizer:
    """Confirms the prefix on which the previous and the new hypothesis agree."""

    def __init__(self) -> None:
        self._previous: tuple[Word, ...] = ()
        self._recent: deque[tuple[Sequence[Word], float]] = deque(maxlen=RECENT)  # hypotheses, their audio's end

    def update(self, hypothesis: Sequence[Word], audio_end_s: float, speech_start_s: float | None = None) -> int:
        """How many leading words of `hypothesis` are now confirmed.

        `hypothesis` holds the words after those already confirmed; `audio_end_s` is where its audio ends,
        and `speech_start_s` where the speech they were heard in starts (None: do not confirm settled words).
        """
        agreed = 0
        if speech_start_s is not None and not heard_whole(hypothesis, speech_start_s):
            self.hear(hypothesis, audio_end_s)
            return 0  # it skipped speech: two such hypotheses may well agree on what follows the skip
        for old, new in zip(self._previous, hypothesis, strict=False):
            if word_key(old.text) != word_key(new.text) or new.end_s > audio_end_s - EDGE_S:
                break
            agreed += 1
        if speech_start_s is not None:
            while agreed < len(hypothesis) and hypothesis[agreed].end_s <= audio_end_s - SETTLED_S:
                agreed += 1
            agreed = self._not_missing(hypothesis, agreed)
            self._recent.append((hypothesis, audio_end_s))
        self._previous = tuple(hypothesis[agreed:])
        return agreed

    def _not_missing(self, hypothesis: Sequence[Word], agreed: int) -> int:
        """How many of the `agreed` leading words to confirm: all, unless a recent hypothesis heard
        `MISSING_WORDS` more words than `hypothesis` over the same audio; then those up to where `hypothesis`
        last kept up with every recent one (the skipped speech is spread over the words after that)."""
        kept_up = 0
        for count in range(1, agreed + 1):
            missing = self._missing(hypothesis[:count])
            if missing >= MISSING_WORDS:
                return kept_up
            if missing <= 0:
                kept_up = count
        return agreed

    def _missing(self, words: Sequence[Word]) -> int:
        """How many more words than `words` a recent hypothesis heard by the end of the last of them."""
        missing = 0
        for recent, audio_end_s in self._recent:
            until = min(words[-1].end_s, audio_end_s - EDGE_S)
            heard = sum(word.end_s <= until for word in recent) - sum(word.end_s <= until for word in words)
            missing = max(missing, heard)
        return missing

    def hear(self, hypothesis: Sequence[Word], audio_end_s: float) -> None:
        """Take `hypothesis` as the last one, confirming nothing (its utterance is too short to confirm yet)."""
        self._previous = tuple(hypothesis)
        self._recent.append((hypothesis, audio_end_s))

    def remember(self, hypothesis: Sequence[Word]) -> None:
        """Start over from `hypothesis` (the unconfirmed rest of the last one, after a new prefix)."""
        self._previous = tuple(hypothesis)

    def reset(self) -> None:
        """Forget the hypotheses so far (a new utterance, or a new prefix)."""
        self._previous = ()
        self._recent.clear()


def heard_whole(hypothesis: Sequence[Word], speech_start_s: float) -> bool:
    """Whether the words follow each other from `speech_start_s` on with no gap and no word over `MAX_GAP_S`
    (the alignment stretches the word next to skipped speech over it, from the start of the audio on)."""
    ends = [speech_start_s, *(word.end_s for word in hypothesis)]
    return all(word.end_s - end <= MAX_GAP_S for word, end in zip(hypothesis, ends, strict=False))
