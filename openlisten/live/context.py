"""The context of a live channel's decodes: its recent finals whose words are known, in stream order.

Whisper hears an utterance best in context, as a prerecorded decode would, and with the words of the finals
before it forced as the decoder's prefix it says only the words after them. `FinalsContext.around` picks
where such a decode starts and its prefix, so that the prefix is exactly the words of the decoded audio
before the utterance: which words a final holds is then decided by text, never by word times.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word

__all__ = ["FinalsContext"]


@dataclass(frozen=True)
class _Known:
    """A final whose words are known."""

    start: int
    end: int
    words: list[Word]


class FinalsContext:
    """The recent finals whose words are known (samples at 16 kHz), and the decodes they are context for.

    `max_decode` bounds a decode's audio, context included; `pre_roll` is the audio kept before a final's
    first word (its onset).
    """

    def __init__(self, *, max_decode: int, pre_roll: int) -> None:
        self._max_decode = max_decode
        self._pre_roll = pre_roll
        self._finals: deque[_Known] = deque()

    def add(self, start: int, end: int, words: list[Word]) -> None:
        """The final from `start` to `end` has `words` (the next final after those added before)."""
        self._finals.append(_Known(start, end, words))

    def forget_before(self, sample: int) -> None:
        """Drop the finals that start before `sample`: their audio is no longer kept."""
        while self._finals and self._finals[0].start < sample:
            self._finals.popleft()

    def last_words(self, count: int) -> list[Word]:
        """The last `count` words of the finals (fewer if they hold fewer)."""
        words: list[Word] = []
        for known in reversed(self._finals):
            words[:0] = known.words
            if len(words) >= count:
                return words[-count:]
        return words

    def around(self, start: int, end: int, seconds: float, kept: int) -> tuple[int, list[Word]]:
        """Where a decode of the audio from `start` to `end` begins, and its prefix: the finals of the last
        `seconds` of speech before `start` (counted back from their last word, not across the pause after
        it), from the first one's start on (its leading silence trimmed), and their words.

        The context begins where a final began, or between two words of a final that began earlier, so the
        prefix is exactly the words of the decoded audio before `start`; a word that an earlier decode
        missed (cut in two by a final's end) is heard whole and said after it. The decode never reaches
        past `max_decode` (the open utterance's own confirmed words are always within it) or before `kept`,
        the first sample still held.
        """
        finals = self._finals
        last = next((known.words[-1] for known in reversed(finals) if known.words), None)
        since = start if last is None else min(start, round(last.end_s * SAMPLE_RATE))
        limit = max(since - round(seconds * SAMPLE_RATE), end - self._max_decode, kept)
        if finals and finals[-1].end >= start:
            # This audio starts where a final ended, maybe inside a word: the context reaches back to the last
            # word of the last final that heard words, so a word cut by any of the finals since is heard whole.
            for known in reversed(finals):
                reach = round(known.words[-1].start_s * SAMPLE_RATE) if known.words else known.start
                if end - reach > self._max_decode:
                    break
                limit = min(limit, reach)
                if known.words:
                    break
        first = len(finals)
        while first > 0 and finals[first - 1].start >= limit:
            first -= 1
        within = list(itertools.islice(finals, first, None))
        words = [word for final in within for word in final.words]
        if first > 0 and finals[first - 1].end > limit:
            # A final that began earlier: its words from `limit` on, or at least its last one when it ends
            # where this audio starts (words it did not hear, cut off at its end, are then heard again).
            floor = max(end - self._max_decode, kept)
            reach = floor if finals[first - 1].end >= start else limit
            boundary, tail = _last_words(finals[first - 1].words, limit, reach)
            if tail:
                return min(boundary, start), [*tail, *words]
        if not within:
            return start, []
        lead = min(start, round(words[0].start_s * SAMPLE_RATE)) if words else start
        origin = max(within[0].start, lead - self._pre_roll)
        return min(origin, start), words


def _last_words(words: list[Word], limit: int, reach: int) -> tuple[int, list[Word]]:
    """The words that start at sample `limit` or later (else the last word, if it starts at `reach` or
    later), and the sample between them and the word before."""
    first = next((i for i, word in enumerate(words) if word.start_s * SAMPLE_RATE >= limit), len(words))
    if first == len(words) and words and words[-1].start_s * SAMPLE_RATE >= reach:
        first -= 1
    if first == len(words):
        return limit, []
    if first == 0:
        return min(limit, round(words[0].start_s * SAMPLE_RATE)), list(words)
    between = round((words[first - 1].end_s + words[first].start_s) / 2 * SAMPLE_RATE)
    return max(between, reach), list(words[first:])
