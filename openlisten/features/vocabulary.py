"""Deepgram's ``keywords`` and ``keyterm``: terms that bias recognition towards them.

Whisper has no per-term boost; faster-whisper's ``hotwords`` puts terms into the decoder's prompt, which
makes it spell them as given ("Sistram" becomes "Systrom"). Key terms and keywords with a positive intensifier
go there, spelled and capitalized as the client sent them (Deepgram's advice); suppression (a negative
intensifier, which Deepgram offers on its Base models only) has no Whisper counterpart and is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["hotwords"]


def hotwords(keyterms: Sequence[str], keywords: Sequence[tuple[str, float]]) -> str | None:
    """The ``hotwords`` prompt for these terms, or None when there are none."""
    terms = [*keyterms, *(term for term, intensifier in keywords if intensifier > 0)]
    unique = list(dict.fromkeys(term.strip() for term in terms if term.strip()))
    return " ".join(unique) or None
