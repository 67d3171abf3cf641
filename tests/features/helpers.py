"""Hand-built transcript words for feature tests."""

from __future__ import annotations

from openlisten.transcript import TranscriptWord


def words(text: str, step_s: float = 0.5, speaker: int | None = None) -> list[TranscriptWord]:
    """One word per space-separated piece, ``step_s`` apart and 0.4 s long; ``word`` is the plain form."""
    return [
        TranscriptWord(piece.strip(",.?!").lower(), piece, i * step_s, i * step_s + 0.4, 0.9, speaker=speaker)
        for i, piece in enumerate(text.split())
    ]


def text(words: list[TranscriptWord]) -> str:
    return " ".join(word.punctuated_word for word in words)
