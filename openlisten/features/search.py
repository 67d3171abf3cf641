"""Deepgram's ``search``: where each query was said, found by spelling and by sound.

Deepgram matches search terms acoustically, so that a term the transcript misspells is still found
(Deepgram's docs, "Search"). This server matches on the transcript instead, by sound and spelling together: every
run of words about as long as the query is scored by the similarity of their Metaphone codes (``jellyfish``) and of
their letters (``rapidfuzz``), each counting half. "Sistram" still finds "Systrom". The best non-overlapping
runs become hits, best first; every query gets an entry, hits or none (spec/listen-v1.md §4.5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jellyfish
from rapidfuzz import fuzz

from openlisten.transcript import SearchHit, SearchResult, TranscriptWord

__all__ = ["MIN_HIT_CONFIDENCE", "search"]

#: Hits below this confidence are noise: unrelated words that share a few letters.
MIN_HIT_CONFIDENCE = 0.6
_WORD_RE = re.compile(r"[\w']+")


def search(words: Sequence[TranscriptWord], queries: Sequence[str]) -> tuple[SearchResult, ...]:
    """One `SearchResult` per query, in the order asked, each with its hits in descending confidence."""
    sounds = [_sound(word.word) for word in words]
    return tuple(SearchResult(query, _hits(words, sounds, query)) for query in queries)


def _hits(words: Sequence[TranscriptWord], sounds: Sequence[str], query: str) -> tuple[SearchHit, ...]:
    terms = _WORD_RE.findall(query.lower())
    if not terms or not words:
        return ()
    text, sound = " ".join(terms), _sound("".join(terms))
    candidates = []
    for size in {max(1, len(terms) - 1), len(terms), len(terms) + 1}:
        for start in range(len(words) - size + 1):
            window = words[start : start + size]
            score = _score(text, sound, " ".join(w.word for w in window), "".join(sounds[start : start + size]))
            if score >= MIN_HIT_CONFIDENCE:
                candidates.append((score, start, start + size))
    return tuple(_hit(words, score, start, end) for score, start, end in _best_apart(candidates))


def _score(text: str, sound: str, window_text: str, window_sound: str) -> float:
    spelling = fuzz.ratio(text, window_text) / 100
    sounding = fuzz.ratio(sound, window_sound) / 100 if sound and window_sound else spelling
    return round((spelling + sounding) / 2, 4)


def _best_apart(candidates: list[tuple[float, int, int]]) -> list[tuple[float, int, int]]:
    """The best candidates that share no word, best first (shorter first among equals)."""
    taken: set[int] = set()
    chosen = []
    for score, start, end in sorted(candidates, key=lambda c: (-c[0], c[2] - c[1], c[1])):
        if taken.isdisjoint(range(start, end)):
            chosen.append((score, start, end))
            taken.update(range(start, end))
    return chosen


def _hit(words: Sequence[TranscriptWord], score: float, start: int, end: int) -> SearchHit:
    window = words[start:end]
    return SearchHit(score, window[0].start_s, window[-1].end_s, " ".join(w.word for w in window))


def _sound(text: str) -> str:
    """The Metaphone code of ``text`` without spaces ("systrom" → "SSTRM")."""
    letters = "".join(_WORD_RE.findall(text))
    return str(jellyfish.metaphone(letters)).replace(" ", "") if letters else ""
