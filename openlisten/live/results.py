"""`ResultsWriter`: a live channel's words, in stream time, made into the ``Results`` messages it sends.

The channel says which words a Results holds and over which span of the stream; the writer keeps each word
inside that span, runs the channel's word features on them (`LiveFeatures`: formatting, replace, profanity,
redaction, speakers, search) and remembers what one final tells the next: whether it ended in the middle of
a sentence (the next final's first word is then not capitalized) and where its last word ended (for
``UtteranceEnd``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from statistics import fmean

import numpy as np
import numpy.typing as npt

from openlisten.engine.types import Word
from openlisten.features.diarize import SpeakerTurns
from openlisten.features.formatting import join_transcript
from openlisten.features.live import LiveFeatures
from openlisten.live.events import Results
from openlisten.live.words import seconds
from openlisten.transcript import TranscriptWord

__all__ = ["ResultsWriter"]


class ResultsWriter:
    """The Results of one channel (`index` of `total`)."""

    def __init__(self, index: int, total: int, features: LiveFeatures) -> None:
        self.index = index
        self.total = total
        self.features = features
        #: Where the last word of the last final with words ended, in seconds; None before the first.
        self.last_word_end: float | None = None
        self._sentence_open = False

    def write(
        self,
        start: int,
        end: int,
        words: Sequence[Word],
        *,
        is_final: bool,
        speech_final: bool = False,
        from_finalize: bool = False,
        speakers: tuple[SpeakerTurns, npt.NDArray[np.float32]] | None = None,
    ) -> Results:
        """The Results of `words` over the samples [`start`, `end`); with `speakers` (``diarize``), the turns
        of a final and their voices."""
        start_s, end_s = seconds(start), seconds(end)
        formatted = self._format([_clamped(w, start_s, end_s) for w in words], final=is_final)
        if speakers is not None:
            formatted = self.features.speakers(formatted, *speakers)
        if is_final and formatted:
            self.last_word_end = formatted[-1].end_s
            self._sentence_open = not _ends_sentence(formatted[-1].punctuated_word)
        return Results(
            channel=self.index,
            channels=self.total,
            start_s=start_s,
            duration_s=round(end_s - start_s, 3),
            is_final=is_final,
            speech_final=speech_final,
            from_finalize=from_finalize,
            words=tuple(formatted),
            transcript=join_transcript(formatted, self.features.format),
            confidence=round(fmean(w.confidence for w in formatted), 4) if formatted else 0.0,
            search=self.features.search(formatted) if is_final else None,
        )

    def _format(self, words: list[Word], *, final: bool) -> list[TranscriptWord]:
        """Transcript words (formatted, replaced, filtered, redacted); the first is not capitalized when it
        continues a sentence of an earlier final."""
        formatted = self.features.words(words, final=final)
        if self._sentence_open and formatted and words and words[0].text[:1].islower():
            first = formatted[0]
            lowered = first.punctuated_word[:1].lower() + first.punctuated_word[1:]
            formatted[0] = replace(first, punctuated_word=lowered)
        return formatted


def _clamped(word: Word, start_s: float, end_s: float) -> Word:
    """A word kept inside its Results' span."""
    start = min(max(word.start_s, start_s), end_s)
    return replace(word, start_s=start, end_s=min(max(word.end_s, start), end_s))


def _ends_sentence(text: str) -> bool:
    return text.rstrip("\"')]}»”’").endswith((".", "?", "!"))
