"""A live channel's words in stream time: what a decode said, placed and trimmed before it joins a final.

A decode's words count from the first sample of its audio (`shifted` puts them in stream time); after a
forced prefix it may say the prefix's last words again (`after_prefix` drops that echo); the alignment may
stretch a first word back over the silence before it (`not_before`); words confirmed while the speaker
talks end their final between two words (`cut_between`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from difflib import SequenceMatcher

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word, word_key

__all__ = [
    "MAX_ECHO_WORDS",
    "MIN_REPLAY_WORDS",
    "after_prefix",
    "cut_between",
    "not_before",
    "seconds",
    "shifted",
    "text_of",
    "without_replay",
]

#: Most of the prefix's last words looked for said again at the start of a decode (the decoder's own
#: `drop_repeats` removes longer runs).
MAX_ECHO_WORDS = 2
#: Fewest words of a replay of the earlier finals that `without_replay` drops.
MIN_REPLAY_WORDS = 4
#: Share of a replay's words that must be the earlier finals' words, in order: Whisper's copy may leave out
#: or change a word ("printing the only sense…" for "printing in the only sense…").
REPLAY_MATCH = 0.75


def seconds(sample: int) -> float:
    """A stream sample's time, in seconds, as messages carry it."""
    return round(sample / SAMPLE_RATE, 3)


def text_of(words: Sequence[Word]) -> str:
    """The words as a decoder's prefix."""
    return " ".join(word.text for word in words)


def shifted(words: Sequence[Word], origin: int) -> list[Word]:
    """Words timed from `origin` (a stream sample), timed from the start of the stream."""
    offset = origin / SAMPLE_RATE
    return [replace(w, start_s=round(w.start_s + offset, 3), end_s=round(w.end_s + offset, 3)) for w in words]


def after_prefix(words: list[Word], prefix: Sequence[Word], start: int) -> list[Word]:
    """The words a decode said after its prefix, less the prefix's last words said again before `start`.

    Whatever the decoder says after a forced prefix is new, wherever its word times fall, except an echo:
    the prefix's last word or two said once more, in the audio they were already final for. (The decoder's
    `drop_repeats` removes a longer run said again; a short one only its time tells from a speaker who
    really said it twice.)
    """
    start_s = start / SAMPLE_RATE
    for size in range(min(len(words), len(prefix), MAX_ECHO_WORDS), 0, -1):
        echo = words[:size]
        said_again = [word_key(w.text) for w in echo] == [word_key(w.text) for w in prefix[-size:]]
        if said_again and echo[-1].start_s < start_s:
            return words[size:]
    return words


def without_replay(words: list[Word], earlier: Sequence[Word], speech_start_s: float) -> list[Word]:
    """`words` less a replay at their start: `MIN_REPLAY_WORDS` or more that say the end of the `earlier`
    finals' words again, nearly word for word, and lie before the final's own speech (from `speech_start_s`):
    in the context audio, where they were already final. Seen at 8 streams: after the prefix "…we are at
    present concerned.", Whisper said "Printing the only sense with which we are at present concerned." once
    more, aligned into the end of the context, then the new words. (A speaker who says a phrase again, a
    number read back, says it in the final's own speech.)"""
    before = [word_key(w.text) for w in earlier]
    if not before:
        return words
    for size in range(len(words), MIN_REPLAY_WORDS - 1, -1):
        last = words[size - 1]
        if last.end_s > speech_start_s or word_key(last.text) != before[-1]:
            continue  # a replay ends where the earlier finals end, before this speech
        keys = [word_key(w.text) for w in words[:size]]
        blocks = SequenceMatcher(None, keys, before[-(size + MAX_ECHO_WORDS) :], autojunk=False).get_matching_blocks()
        if sum(block.size for block in blocks) >= REPLAY_MATCH * size:
            return words[size:]
    return words


def not_before(words: list[Word], speech_start: int, earliest_s: float) -> list[Word]:
    """`words`, none of those that run into the speech starting at `speech_start` starting before
    `earliest_s`: the alignment stretches a first word back over the silence before it."""
    stretched = [w.start_s < earliest_s and w.end_s * SAMPLE_RATE > speech_start for w in words]
    return [replace(w, start_s=round(earliest_s, 3)) if s else w for w, s in zip(words, stretched, strict=True)]


def cut_between(words: Sequence[Word], agreed: int, committed: int, end: int) -> int:
    """The sample between the last of the first `agreed` words and the next one, within [`committed`,
    `end`]."""
    last = words[agreed - 1].end_s
    following = words[agreed].start_s if agreed < len(words) else last
    cut_s = (last + following) / 2 if following > last else last
    return min(max(round(cut_s * SAMPLE_RATE), committed), end)
