"""Records the recognition engine returns: plain data, no wire shapes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """One recognized word, as the recognizer wrote it."""

    #: The text with the recognizer's own punctuation and capitals, e.g. ``"Hello,"``.
    text: str
    #: Start time in seconds from the start of the audio.
    start_s: float
    #: End time in seconds from the start of the audio.
    end_s: float
    #: Probability of the word, 0–1.
    confidence: float


def word_key(text: str) -> str:
    """A word as two hypotheses are compared: lower case, letters, digits and apostrophes only."""
    return "".join(char for char in text.lower() if char.isalnum() or char == "'")


@dataclass(frozen=True)
class Segment:
    """A run of words the recognizer decoded together (one Whisper segment)."""

    words: tuple[Word, ...]
    start_s: float
    end_s: float
    #: Mean log-probability of the segment's tokens (Whisper's ``avg_logprob``).
    avg_logprob: float = 0.0
    #: Whisper's probability that the segment holds no speech.
    no_speech_prob: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)
