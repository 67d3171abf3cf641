"""Names and street addresses (features/pii.py)."""

from __future__ import annotations

import pytest

from openlisten.engine.types import Word
from openlisten.features.pii import find_pii


def found(text: str) -> list[tuple[str, str]]:
    """The entities in ``text`` (words 0.5 s apart), each with the words it covers."""
    words = [Word(" " + piece, i * 0.5, i * 0.5 + 0.4, 0.9) for i, piece in enumerate(text.split())]
    return [
        (e.label, " ".join(w.text.strip() for w in words if e.start_s <= w.start_s and w.end_s <= e.end_s))
        for e in find_pii(words)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, my name is John Smith and I'm here.", [("NAME", "John Smith")]),
        ("I spoke to Jennifer yesterday.", [("NAME", "Jennifer")]),
        ("My name is Xavi, from Spain.", [("NAME", "Xavi,"), ("LOCATION_COUNTRY", "Spain.")]),
        ("Thanks, Dr. Patel.", [("NAME", "Patel.")]),
        ("Mark Jones called.", [("NAME", "Mark Jones")]),
    ],
)
def test_names(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mark the date.",  # a given name that opens a sentence, alone
        "April showers bring May flowers.",
        "We met in June at the Library.",
        "I think so.",
    ],
)
def test_not_names(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I live at 42 Elm Street, Springfield, Illinois.", "42 Elm Street, Springfield, Illinois."),
        ("Send it to 1600 Pennsylvania Avenue Northwest, Washington, DC 20500.", None),
        ("The meeting is at 350 5th Avenue in the morning.", "350 5th Avenue"),
    ],
)
def test_street_addresses(text: str, expected: str | None) -> None:
    address = expected or text.split(" to ")[1]
    assert found(text) == [("LOCATION_ADDRESS", address)]


@pytest.mark.parametrize("text", ["We sold 42 apples on Tuesday.", "It took 2 hours.", "Call 911 now."])
def test_numbers_are_not_addresses(text: str) -> None:
    assert found(text) == []


def test_a_house_number_in_words() -> None:
    assert found("I live at twelve Oak Street, Springfield.") == [
        ("LOCATION_ADDRESS", "twelve Oak Street, Springfield.")
    ]
    assert found("It has one hundred Main Street shops") == [("LOCATION_ADDRESS", "one hundred Main Street")]
    assert found("I have twelve Oak trees.") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I flew from Boston to the United Kingdom.",
            [("LOCATION_CITY", "Boston"), ("LOCATION_COUNTRY", "United Kingdom.")],
        ),
        ("We met in Springfield, Illinois.", [("LOCATION_CITY", "Springfield,"), ("LOCATION_STATE", "Illinois.")]),
        ("I love Georgia.", [("LOCATION_STATE", "Georgia.")]),
        ("Reading is fun.", []),  # a one-word place that opens a sentence
    ],
)
def test_places(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected
