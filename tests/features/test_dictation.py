"""Dictation (features/dictation.py), through `format_words`."""

from __future__ import annotations

import pytest

from openlisten.engine.types import Word
from openlisten.features.formatting import FormatOptions, format_words, join_transcript

DICTATION = FormatOptions(punctuate=True, dictation=True)


def dictate(text: str, options: FormatOptions = DICTATION) -> str:
    spoken = [Word(" " + piece, i * 0.5, i * 0.5 + 0.4, 0.9) for i, piece in enumerate(text.split())]
    return join_transcript(format_words(spoken, options), options)


@pytest.mark.parametrize(
    ("said", "written"),
    [
        (
            "Patient presents with a headache comma nausea comma and vomiting period they report pain",
            "Patient presents with a headache, nausea, and vomiting. They report pain",
        ),
        ("How are you? Question mark, I am fine, period.", "How are you? I am fine."),
        ("wow exclamation mark colon semicolon", "Wow;"),
        ("first line new line second new paragraph third", "First line\n second\n\n third"),
        ("period at the start", "At the start"),
        ("a question, mark", "A question, mark"),
    ],
)
def test_commands_become_marks(said: str, written: str) -> None:
    assert dictate(said) == written


def test_dictation_needs_punctuation() -> None:
    assert dictate("hello comma world", FormatOptions(dictation=True)) == "hello comma world"
