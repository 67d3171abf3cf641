"""Deepgram's ``replace`` (find and replace): terms and phrases in the words replaced, or deleted.

``replace=find:replacement`` swaps every occurrence of ``find`` (one word or a phrase) for ``replacement``; a
``find`` alone deletes it. An all-lower-case ``find`` matches any capitalization; one with capitals matches
only that capitalization and takes precedence. The replacement's words share the replaced span's time evenly
(Deepgram's docs, "Find and Replace").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from openlisten.features.tokens import edges
from openlisten.transcript import TranscriptWord

__all__ = ["replace_terms"]


@dataclass(frozen=True)
class _Rule:
    find: tuple[str, ...]
    replacement: tuple[str, ...]
    #: Whether ``find`` has capitals, so that it matches only that capitalization.
    exact_case: bool


def replace_terms(words: Sequence[TranscriptWord], pairs: Sequence[tuple[str, str]]) -> list[TranscriptWord]:
    """``words`` with each ``(find, replacement)`` applied; an empty replacement deletes the term."""
    rules = _rules(pairs)
    if not rules:
        return list(words)
    out: list[TranscriptWord] = []
    index = 0
    while index < len(words):
        rule = next((r for r in rules if _matches(words[index : index + len(r.find)], r)), None)
        if rule is None:
            out.append(words[index])
            index += 1
            continue
        span = words[index : index + len(rule.find)]
        index += len(span)
        if rule.replacement:
            out.extend(_spread(span, rule.replacement))
        elif out:
            out[-1] = _with_trail(out[-1], edges(span[-1].punctuated_word)[2])
    return out


def _rules(pairs: Sequence[tuple[str, str]]) -> list[_Rule]:
    rules = [
        _Rule(tuple(find.split()), tuple(replacement.split()), find != find.lower())
        for find, replacement in pairs
        if find.split()
    ]
    # Capitalized terms take precedence; then longer phrases before the words they contain.
    return sorted(rules, key=lambda rule: (not rule.exact_case, -len(rule.find)))


def _matches(span: Sequence[TranscriptWord], rule: _Rule) -> bool:
    if len(span) != len(rule.find):
        return False
    if rule.exact_case:
        return all(edges(w.punctuated_word)[1] == f for w, f in zip(span, rule.find, strict=True))
    return all(w.word == f.lower() for w, f in zip(span, rule.find, strict=True))


def _spread(span: Sequence[TranscriptWord], replacement: tuple[str, ...]) -> list[TranscriptWord]:
    start_s, end_s = span[0].start_s, span[-1].end_s
    step = (end_s - start_s) / len(replacement)
    lead, trail = edges(span[0].punctuated_word)[0], edges(span[-1].punctuated_word)[2]
    confidence = min(w.confidence for w in span)
    speaker = span[0].speaker
    out = []
    for i, text in enumerate(replacement):
        punctuated = (lead if i == 0 else "") + text + (trail if i == len(replacement) - 1 else "")
        times = (start_s + i * step, end_s if i == len(replacement) - 1 else start_s + (i + 1) * step)
        out.append(TranscriptWord(text, punctuated, *times, confidence, speaker, span[0].speaker_confidence))
    return out


def _with_trail(word: TranscriptWord, trail: str) -> TranscriptWord:
    """``word`` ending with the punctuation of a deleted term after it (the end of a sentence stays)."""
    if not trail:
        return word
    lead, core, _ = edges(word.punctuated_word)
    return replace(word, punctuated_word=lead + core + trail)
