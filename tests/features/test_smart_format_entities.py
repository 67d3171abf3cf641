"""Smart-format entities (features/smart_format_entities.py), through `format_words` as Whisper's words arrive."""

from __future__ import annotations

import pytest

from openlisten.engine.types import Word
from openlisten.features.formatting import FormatOptions, format_words, join_transcript
from openlisten.features.smart_format_entities import format_phone_number

SMART = FormatOptions(smart_format=True)


def smart(text: str) -> str:
    spoken = [Word(" " + piece, i * 0.5, i * 0.5 + 0.4, 0.9) for i, piece in enumerate(text.split())]
    return join_transcript(format_words(spoken, SMART), SMART)


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("My phone number is 5 -5 -5 -1 -2 -3 -4 -5 -6 -7.", "My phone number is (555) 123-4567."),
        ("call five five five one two one two now", "Call 555-1212 now"),
        ("the code is one two three", "The code is 123"),
        ("My social security number is 1, 2, 3, 4, 5, 6, 7, 8, 9", "My social security number is 123456789"),
        ("I have 1, 2 apples", "I have 1, 2 apples"),
    ],
)
def test_digit_sequences_and_phone_numbers(said: str, written: str) -> None:
    assert smart(said) == written


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("The meeting is on November 2nd, 2022.", "The meeting is on November 2, 2022."),
        ("on november second twenty twenty two", "On November 2, 2022"),
        ("born on july twelfth", "Born on July 12"),
        ("a march of soldiers", "A march of soldiers"),
    ],
)
def test_dates(said: str, written: str) -> None:
    assert smart(said) == written


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("at eight thirty seven pm", "At 8:37 PM"),
        ("The call is at 830 p .m.", "The call is at 8:30 PM."),
        ("Wake me at 7am tomorrow", "Wake me at 7 AM tomorrow"),
        ("at seven o'clock", "At 7 o'clock"),
        ("I am here", "I am here"),
        ("we have 8 30 pm", "We have 8 30 pm"),
    ],
)
def test_times(said: str, written: str) -> None:
    assert smart(said) == written


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("Go to google .com.", "Go to google.com."),
        ("visit www .example .com now", "Visit www.example.com now"),
        ("go to openlisten dot org today", "Go to openlisten.org today"),
        ("a polka dot dress", "A polka dot dress"),
        ("My email is info at google .com", "My email is info@google.com"),
        ("send an email to mary at example dot com", "Send an email to mary@example.com"),
        ("look at google.com now", "Look at google.com now"),
    ],
)
def test_web_addresses_and_emails(said: str, written: str) -> None:
    assert smart(said) == written


def test_entity_pieces_are_separate_words_sharing_the_time() -> None:
    spoken = [Word(" at", 0.0, 0.4, 0.9), Word(" 7am.", 0.5, 1.1, 0.8)]
    words = format_words(spoken, SMART)
    assert [(w.word, w.punctuated_word) for w in words] == [("at", "At"), ("7", "7"), ("am", "AM.")]
    assert (words[1].start_s, words[1].end_s, words[2].end_s) == (0.5, 0.8, 1.1)


def test_without_smart_format_entities_stay_as_said() -> None:
    plain = FormatOptions(punctuate=True)
    spoken = [Word(" " + p, i * 0.5, i * 0.5 + 0.4, 0.9) for i, p in enumerate(["go", "to", "google", ".com"])]
    assert join_transcript(format_words(spoken, plain), plain) == "Go to google .com"


def test_phone_number_layouts() -> None:
    assert format_phone_number("5551234567") == "(555) 123-4567"
    assert format_phone_number("15551234567") == "+1 555-123-4567"
    assert format_phone_number("5551234") == "555-1234"
    assert format_phone_number("123456789") is None
