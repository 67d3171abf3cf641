from __future__ import annotations

import pytest

from openlisten.features.numbers import SpokenNumber, spell_number


@pytest.mark.parametrize(
    ("text", "next_text", "spoken"),
    [
        ("$250", "", "two hundred fifty dollars"),
        ("$1", "", "one dollar"),
        ("$20.50", "", "twenty dollars fifty cents"),
        ("$1.01", "", "one dollar one cent"),
        ("$0.50", "", "fifty cents"),
        ("$20.00", "", "twenty dollars"),
        ("$1.5", "", "one point five dollars"),
        ("€3", "", "three euros"),
        ("£2.01", "", "two pounds one penny"),
        ("25%", "", "twenty five percent"),
        ("3.5%", "", "three point five percent"),
        ("16th", "", "sixteenth"),
        ("21st", "", "twenty first"),
        ("101st", "", "one hundred first"),
        ("1999", "", "nineteen ninety nine"),
        ("1999", "dollars", "one thousand nine hundred ninety nine"),
        ("1999", "Percent.", "one thousand nine hundred ninety nine"),
        ("1905", "", "nineteen oh five"),
        ("2005", "", "two thousand five"),
        ("2024", "", "twenty twenty four"),
        ("2000", "", "two thousand"),
        ("1,999", "", "one thousand nine hundred ninety nine"),
        ("3.5", "", "three point five"),
        ("1.05", "", "one point zero five"),
        ("1,455", "", "one thousand four hundred fifty five"),
        ("101", "", "one hundred one"),
        ("1990s", "", "nineteen nineties"),
        ("80s", "", "eighties"),
        ("6s", "", "sixes"),
        ("-5", "", "minus five"),
        ("007", "", "zero zero seven"),
        ("1234567890123456", "", "one two three four five six seven eight nine zero one two three four five six"),
    ],
)
def test_spell_number(text: str, next_text: str, spoken: str) -> None:
    number = spell_number(text, next_text)

    assert number is not None
    assert " ".join(number.words) == spoken
    assert not number.takes_next


def test_punctuation_is_kept_apart() -> None:
    assert spell_number('"($1,250.50),"') == SpokenNumber(
        '"(', ("one", "thousand", "two", "hundred", "fifty", "dollars", "fifty", "cents"), '),"'
    )
    assert spell_number("25%.") == SpokenNumber("", ("twenty", "five", "percent"), ".")


def test_money_before_a_scale_reads_the_scale() -> None:
    assert spell_number("$5", "Million,") == SpokenNumber("", ("five", "million", "dollars"), ",", takes_next=True)
    assert spell_number("$2.5", "billion") == SpokenNumber(
        "", ("two", "point", "five", "billion", "dollars"), "", takes_next=True
    )
    assert spell_number("$5,", "million") == SpokenNumber("", ("five", "dollars"), ",")


@pytest.mark.parametrize(
    "text",
    ["", "$", "%", "1.2.3", "v2", "100k", "3/4", "24/7", "½", "9:30", "$5%", "$5th", "2.5th", "1,45", "1" * 400 + "th"],
)
def test_odd_tokens_are_not_read(text: str) -> None:
    assert spell_number(text) is None


def test_every_word_is_a_single_lower_case_word() -> None:
    for text in ["$1,234,567.89", "99.99%", "1,000,021st", "2099", "1100"]:
        number = spell_number(text)
        assert number is not None
        assert all(word.isalpha() and word.islower() for word in number.words)
