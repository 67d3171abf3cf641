"""`LiveFeatures`: the word features of one live channel, with the state that lasts through a session.

A live channel formats each Results' words like a prerecorded transcript (spec/listen-v1.md §5.2: punctuate,
smart_format, numerals, dictation, profanity_filter, replace, redact, search, diarize all work live), but two
features need memory across finals: redaction numbers its placeholders through the session ("[SSN_1]" in one
final, "[SSN_2]" in a later one) and diarization keeps speaker numbers stable. The channel holds one
`LiveFeatures` and calls:

- `words` for every Results, interim or final (interims do not advance the redaction count);
- `speakers` for finals, with the final's audio, when ``diarize`` is on (model work: run it where the
  session's model work runs, not on the event loop);
- `search` for finals, when ``search`` is on, for ``channel.search`` in the Results.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from openlisten.engine.types import Word
from openlisten.features.diarize import SpeakerTracker, VoiceEmbedder, diarize_live
from openlisten.features.formatting import FormatOptions
from openlisten.features.pipeline import finish_words, format_options
from openlisten.features.redact import Redactor
from openlisten.features.search import search
from openlisten.options import ListenOptions
from openlisten.transcript import SearchResult, TranscriptWord

__all__ = ["LiveFeatures"]


class LiveFeatures:
    """Formatting, replace, profanity, redaction, speakers and search for one live channel."""

    def __init__(self, options: ListenOptions, embedder: VoiceEmbedder | None = None) -> None:
        self.options = options
        self.format: FormatOptions = format_options(options)
        self.redactor = Redactor(options.redact)
        self.embedder = embedder
        self.tracker = SpeakerTracker() if options.diarization else None

    def words(self, words: Sequence[Word], *, final: bool) -> list[TranscriptWord]:
        """The transcript words of a Results: formatted, replaced, filtered and redacted."""
        redactor = self.redactor if final else copy.deepcopy(self.redactor)
        return finish_words(words, self.options, redactor)

    def speakers(self, words: Sequence[TranscriptWord], samples: np.ndarray, offset_s: float) -> list[TranscriptWord]:
        """A final's words with the session's speaker numbers (``samples`` start at stream time ``offset_s``).

        Live words carry ``speaker`` only: Deepgram sends ``speaker_confidence`` on prerecorded audio alone.
        """
        if self.tracker is None or self.embedder is None:
            return list(words)
        labelled = diarize_live(words, samples, offset_s, self.embedder, self.tracker)
        return [replace(word, speaker_confidence=None) for word in labelled]

    def search(self, words: Sequence[TranscriptWord]) -> tuple[SearchResult, ...] | None:
        """``channel.search`` of a final, when the session searches."""
        return search(words, self.options.search) if self.options.search else None
