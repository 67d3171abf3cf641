"""Measurements (features/measurements.py), through `format_words`."""

from __future__ import annotations

import pytest

from openlisten.engine.types import Word
from openlisten.features.formatting import FormatOptions, format_words, join_transcript
from openlisten.features.measurements import unit_symbol

MEASUREMENTS = FormatOptions(punctuate=True, measurements=True)


def measure(text: str) -> str:
    spoken = [Word(" " + piece, i * 0.5, i * 0.5 + 0.4, 0.9) for i, piece in enumerate(text.split())]
    return join_transcript(format_words(spoken, MEASUREMENTS), MEASUREMENTS)


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("I ate 33 grams of pasta.", "I ate 33 g of pasta."),
        ("drank fifty five milliliters of water", "Drank 55 ml of water"),
        ("walk five kilometers, then 2.5 meters", "Walk 5 km, then 2.5 m"),
        ("five miles and three seconds", "Five miles and three seconds"),
        ("some grams", "Some grams"),
    ],
)
def test_units_after_numbers_are_abbreviated(said: str, written: str) -> None:
    assert measure(said) == written


def test_deepgrams_units() -> None:
    said = (
        "milligram centigram grams kilograms milliliter centiliters liters kiloliter millimeters centimeter metres km"
    )
    symbols = [unit_symbol(word) for word in said.split()]
    assert symbols == ["mg", "cg", "g", "kg", "ml", "cl", "l", "kl", "mm", "cm", "m", "km"]
    assert unit_symbol("feet") is None and unit_symbol("seconds") is None
