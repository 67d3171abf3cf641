"""The word features in Deepgram's order, shared by prerecorded transcription and live finals.

    format (punctuate, smart_format, numerals, dictation, measurements, fillers) → replace → profanity_filter
    → redact → speaker labels (diarize.py) → utterances, paragraphs, search

`finish_words` runs the steps up to redaction; speaker labels and the structures built on the words follow
in the caller, which has the audio (``transcriber.py``; a live session calls `diarize_live` and `search` on
each final).
"""

from __future__ import annotations

from collections.abc import Sequence

from openlisten.engine.types import Word
from openlisten.features.formatting import FormatOptions, format_words
from openlisten.features.profanity import filter_profanity
from openlisten.features.redact import Redactor
from openlisten.features.replace import replace_terms
from openlisten.options import ListenOptions
from openlisten.transcript import TranscriptWord

__all__ = ["finish_words", "format_options"]


def format_options(options: ListenOptions) -> FormatOptions:
    """The formatting a request asks for (``paragraphs`` switches punctuation on, as on Deepgram)."""
    return FormatOptions(
        punctuate=options.punctuate or options.paragraphs,
        smart_format=options.smart_format,
        numerals=options.numerals,
        filler_words=options.filler_words,
        dictation=options.dictation,
        measurements=options.measurements,
    )


def finish_words(words: Sequence[Word], options: ListenOptions, redactor: Redactor) -> list[TranscriptWord]:
    """Recognized words formatted, replaced, filtered and redacted as ``options`` ask.

    ``redactor`` numbers the placeholders: one per channel of a recording, one per live session.
    """
    finished = format_words(words, format_options(options))
    if options.replace:
        finished = replace_terms(finished, options.replace)
    if options.profanity_filter:
        finished = filter_profanity(finished)
    return redactor.redact(finished, words)
