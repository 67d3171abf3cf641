"""`Token`: a word on its way through the formatting steps, and the helpers every step shares.

Formatting (``formatting.py``) and its entity steps (``smart_format_entities.py``, ``measurements.py``,
``dictation.py``) work on tokens: display text with its punctuation, times and confidence. A step either
rewrites tokens one by one or merges a recognized span of them into one token (`merge_spans`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Finder", "Token", "edges", "ends_sentence", "merge", "merge_spans", "normalize", "split_evenly"]

_LEADING_PUNCTUATION_RE = re.compile(r"^\W+")
_TRAILING_PUNCTUATION_RE = re.compile(r"\W+$")
_DIGIT_GROUP_COMMA_RE = re.compile(r"(?<=\d),(?=\d)")
_CLOSING_MARKS = "\"')]}»”’"


@dataclass(frozen=True)
class Token:
    """A word on its way through the steps: its display text, with punctuation, and its times."""

    text: str
    start_s: float
    end_s: float
    confidence: float
    #: The digits when this token is a number written from words, else None.
    number: str | None = None


#: Recognizes a span starting at an index: returns where it ends and the one token that replaces it.
Finder = Callable[[Sequence[Token], int], "tuple[int, Token] | None"]


def edges(text: str) -> tuple[str, str, str]:
    """Split ``text`` into leading punctuation, core and trailing punctuation ("…" is all trailing)."""
    rest = _TRAILING_PUNCTUATION_RE.sub("", text)
    core = _LEADING_PUNCTUATION_RE.sub("", rest)
    return rest[: len(rest) - len(core)], core, text[len(rest) :]


def normalize(text: str) -> str:
    """Deepgram's ``word``: lower case, no punctuation at the edges, no commas between digit groups."""
    return _DIGIT_GROUP_COMMA_RE.sub("", edges(text)[1]).lower()


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with a full stop, question mark or exclamation mark."""
    trailing = edges(text)[2].rstrip(_CLOSING_MARKS).rstrip("\n")
    # An ellipsis marks a pause more often than the end of a sentence.
    return trailing.endswith((".", "?", "!")) and not trailing.endswith("..")


def merge_spans(tokens: Sequence[Token], find: Finder) -> list[Token]:
    """Scan left to right, replacing each span ``find`` recognizes by the one token it builds."""
    merged: list[Token] = []
    index = 0
    while index < len(tokens):
        span = find(tokens, index)
        if span is None:
            merged.append(tokens[index])
            index += 1
        else:
            index, token = span
            merged.append(token)
    return merged


def merge(tokens: Sequence[Token], formatted: str, number: str | None = None) -> Token:
    """One token for ``tokens``, written ``formatted`` between the first's lead and the last's trail."""
    text = edges(tokens[0].text)[0] + formatted + edges(tokens[-1].text)[2]
    end_s = max(token.end_s for token in tokens)
    confidence = min(token.confidence for token in tokens)
    return Token(text, tokens[0].start_s, end_s, confidence, number)


def split_evenly(token: Token, texts: Sequence[str]) -> list[Token]:
    """One token per text, sharing ``token``'s time evenly (a word written as several)."""
    step = (token.end_s - token.start_s) / len(texts)
    return [
        Token(text, token.start_s + i * step, token.start_s + (i + 1) * step, token.confidence)
        for i, text in enumerate(texts)
    ]
