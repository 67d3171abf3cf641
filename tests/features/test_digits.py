"""Digit strings read one digit at a time, in every form Whisper writes them: spelled and redacted right."""

from __future__ import annotations

import re

import pytest

from openlisten.engine.types import Word
from openlisten.features.formatting import join_transcript
from openlisten.features.pipeline import finish_words, format_options
from openlisten.features.redact import Redactor
from openlisten.options import ListenOptions

#: A Visa test number as Whisper has written it read aloud digit by digit.
CARD_FORMS = {
    "digits with hyphens as words": " my card is 4 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1.",
    "groups of four": " my card is 4111 1111 1111 1111.",
    "one run": " my card is 4111111111111111.",
    "hyphenated groups": " my card is 4111-1111-1111-1111.",
    "digit words": " my card is four one one one one one one one one one one one one one one one.",
    "digit words with commas": " my card is for" + " one," * 14 + " one.",
    "a decoder loop": " my card is 4" + " -1" * 40,
    "groups and words": " my card is 4111 one one one one 1111 1111.",
    "double and triple": " my card is four double one triple one one one one one one one one one one.",
}


def finished(text: str, query: list[tuple[str, str]]) -> str:
    pieces = text.split(" ")[1:]
    recognized = [Word((" " if not p.startswith("-") else "") + p, i * 0.3, i * 0.3 + 0.25, 0.9)
                  for i, p in enumerate(pieces)]  # fmt: skip
    options = ListenOptions.from_query(query)
    return join_transcript(finish_words(recognized, options, Redactor(options.redact)), format_options(options))


@pytest.mark.parametrize(
    ("whisper", "plain", "numerals"),
    [
        (" at 5 -5 -1 -2 -3.", "at five five one two three", "at 55123"),
        (" call 5-5-1-2.", "call five five one two", "call 5-5-1-2"),
        (" ssn 123-45-6789", "ssn one two three four five six seven eight nine", "ssn 123-45-6789"),
        (" it is -5 degrees", "it is minus five degrees", "it is -5 degrees"),  # a real negative stays one
        (" in 2024 and 5 dollars", "in twenty twenty four and five dollars", "in 2024 and 5 dollars"),
    ],
)
def test_hyphens_between_digits_are_no_minus_signs(whisper: str, plain: str, numerals: str | None) -> None:
    assert finished(whisper, []) == plain
    if numerals is not None:
        assert finished(whisper, [("numerals", "true")]) == numerals


@pytest.mark.parametrize("form", CARD_FORMS)
@pytest.mark.parametrize("query", [
    [("redact", "pci")],
    [("redact", "pci"), ("smart_format", "true")],
    [("redact", "numbers")],
    [("redact", "aggressive_numbers"), ("numerals", "true")],
    [("redact", "credit_card"), ("punctuate", "true")],
])  # fmt: skip
def test_a_card_number_never_leaks_whatever_its_form(form: str, query: list[tuple[str, str]]) -> None:
    out = finished(CARD_FORMS[form], query)
    assert re.search(r"\[(CREDIT_CARD|NUMBER)_1\]", out), out
    assert not re.search(r"\d{3}", out), out
    spoken = re.findall(r"\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b", out.lower())
    assert len(spoken) < 3, out
