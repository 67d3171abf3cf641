"""Deepgram's ``paragraphs``: punctuated words grouped into sentences, and sentences into paragraphs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from openlisten.transcript import Paragraph, Paragraphs, Sentence, TranscriptWord

__all__ = ["build_paragraphs"]

#: A pause this long (seconds) between two sentences starts a new paragraph.
PARAGRAPH_PAUSE_S = 1.5
#: A paragraph holding this many words ends at its next sentence end, so text stays readable.
PARAGRAPH_MAX_WORDS = 120
_SENTENCE_END = (".", "?", "!")


def build_paragraphs(words: Sequence[TranscriptWord]) -> Paragraphs:
    """Paragraphs of punctuated `words`, with Deepgram's text form (``"\\nSpeaker 0: Hello.\\n\\n..."``)."""
    paragraphs = tuple(_paragraph(group) for group in _paragraph_groups(list(_sentence_groups(words))))
    return Paragraphs(transcript=_text(paragraphs), paragraphs=paragraphs)


def _sentence_groups(words: Sequence[TranscriptWord]) -> Iterator[list[TranscriptWord]]:
    sentence: list[TranscriptWord] = []
    for word in words:
        if sentence and word.speaker != sentence[-1].speaker:
            yield sentence
            sentence = []
        sentence.append(word)
        if word.punctuated_word.rstrip("\"')]").endswith(_SENTENCE_END):
            yield sentence
            sentence = []
    if sentence:
        yield sentence


def _paragraph_groups(sentences: list[list[TranscriptWord]]) -> Iterator[list[list[TranscriptWord]]]:
    paragraph: list[list[TranscriptWord]] = []
    for sentence in sentences:
        if paragraph and _starts_paragraph(paragraph, sentence):
            yield paragraph
            paragraph = []
        paragraph.append(sentence)
    if paragraph:
        yield paragraph


def _starts_paragraph(paragraph: list[list[TranscriptWord]], sentence: list[TranscriptWord]) -> bool:
    previous = paragraph[-1][-1]
    first = sentence[0]
    return (
        first.speaker != previous.speaker
        or first.start_s - previous.end_s >= PARAGRAPH_PAUSE_S
        or sum(len(s) for s in paragraph) >= PARAGRAPH_MAX_WORDS
    )


def _paragraph(sentences: list[list[TranscriptWord]]) -> Paragraph:
    return Paragraph(
        sentences=tuple(Sentence(" ".join(w.punctuated_word for w in s), s[0].start_s, s[-1].end_s) for s in sentences),
        num_words=sum(len(s) for s in sentences),
        start_s=sentences[0][0].start_s,
        end_s=sentences[-1][-1].end_s,
        speaker=sentences[0][0].speaker,
    )


def _text(paragraphs: Sequence[Paragraph]) -> str:
    parts = []
    previous_speaker: int | None = None
    for paragraph in paragraphs:
        text = " ".join(s.text for s in paragraph.sentences)
        if paragraph.speaker is not None and paragraph.speaker != previous_speaker:
            text = f"Speaker {paragraph.speaker}: {text}"
        previous_speaker = paragraph.speaker
        parts.append("\n" + text)
    return "\n".join(parts)
