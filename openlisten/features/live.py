"""`LiveFeatures`: the word features of one live channel, with the state that lasts through a session.

A live channel formats each Results' words like a prerecorded transcript (spec/listen-v1.md §5.2: punctuate,
smart_format, numerals, dictation, profanity_filter, replace, redact, search, diarize all work live), but two
features need memory across finals: redaction numbers its placeholders through the session ("[SSN_1]" in one
final, "[SSN_2]" in a later one) and diarization keeps speaker numbers stable. The channel holds one
`LiveFeatures` and calls:

- `words` for every Results, interim or final (interims do not advance the redaction count);
- `speaker_turns` for a final's words once they are decoded, when ``diarize`` is on: the turns whose audio
  the model's thread embeds; then `speakers`, in order of the finals, with those embeddings. Interim words
  are not embedded (that would hold every interim back): they carry the tracker's last speaker, which the
  final corrects where the voice changed;
- `search` for finals, when ``search`` is on, for ``channel.search`` in the Results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from openlisten.engine.types import Word
from openlisten.features.diarize import SpeakerTracker, SpeakerTurns, label_live, live_turns
from openlisten.features.formatting import FormatOptions
from openlisten.features.pipeline import finish_words, format_options
from openlisten.features.redact import Redactor
from openlisten.features.search import search
from openlisten.options import ListenOptions
from openlisten.transcript import SearchResult, TranscriptWord

__all__ = ["LiveFeatures"]


class LiveFeatures:
    """Formatting, replace, profanity, redaction, speakers and search for one live channel."""

    def __init__(self, options: ListenOptions) -> None:
        self.options = options
        self.format: FormatOptions = format_options(options)
        self.redactor = Redactor(options.redact)
        self.tracker = SpeakerTracker() if options.diarization else None

    def reconfigured(self, options: ListenOptions) -> LiveFeatures:
        """The features for new `options` (a Configure message), keeping the session's placeholder counts
        and speakers."""
        features = LiveFeatures(options)
        features.redactor, features.tracker = self.redactor, self.tracker
        return features

    def words(self, words: Sequence[Word], *, final: bool) -> list[TranscriptWord]:
        """The transcript words of a Results: formatted, replaced, filtered and redacted."""
        if final:
            return finish_words(words, self.options, self.redactor)
        finished = finish_words(words, self.options, self.redactor.interim())
        if self.tracker is None:
            return finished
        return [replace(word, speaker=self.tracker.last) for word in finished]

    def speaker_turns(self, words: Sequence[Word], samples: np.ndarray, offset_s: float) -> SpeakerTurns | None:
        """The turns of a final's words to embed (``samples`` start at stream time ``offset_s``); None when
        the session does not diarize or there is nothing to label."""
        if self.tracker is None or not words:
            return None
        return live_turns(words, samples, offset_s)

    def speakers(
        self, words: Sequence[TranscriptWord], turns: SpeakerTurns, embeddings: np.ndarray
    ) -> list[TranscriptWord]:
        """A final's words with the session's speaker numbers (call in the order of the finals)."""
        assert self.tracker is not None
        return label_live(words, turns, embeddings, self.tracker)

    def search(self, words: Sequence[TranscriptWord]) -> tuple[SearchResult, ...] | None:
        """``channel.search`` of a final, when the session searches."""
        return search(words, self.options.search) if self.options.search else None
