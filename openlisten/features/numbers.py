"""Numbers read aloud: the spoken form Deepgram writes when neither ``smart_format`` nor ``numerals`` is on.

Whisper writes many numbers as digits ("$250,", "25%", "16th", "1999"). Unformatted, Deepgram writes what
was said, in lower-case words without "and" or hyphens: "two hundred fifty dollars", "twenty five percent",
"sixteenth", "nineteen ninety nine". :func:`spell_number` reads one written number that way with num2words,
and leaves anything it cannot read with confidence ("3/4", "100k", "v2", "1.2.3") to the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from num2words import num2words

__all__ = ["SpokenNumber", "spell_number"]

#: A longer run of digits is an identifier more likely than an amount, and is read one digit at a time
#: (num2words itself stops near 10**300).
_MAX_CARDINAL_DIGITS = 15
#: Four-digit numbers in this range are read as years ("1999" → "nineteen ninety nine").
_YEARS = range(1100, 2100)


@dataclass(frozen=True)
class _Currency:
    unit: str
    units: str
    cent: str
    cents: str


_CURRENCIES = {
    "$": _Currency("dollar", "dollars", "cent", "cents"),
    "€": _Currency("euro", "euros", "cent", "cents"),
    "£": _Currency("pound", "pounds", "penny", "pence"),
}
_SCALES = frozenset({"thousand", "million", "billion", "trillion"})
#: Words after a four-digit number that make it an amount rather than a year: "1999 dollars".
_UNIT_WORDS = frozenset(
    {
        *_SCALES,
        *(word for currency in _CURRENCIES.values() for word in (currency.unit, currency.units, currency.cents)),
        "percent",
        "degrees",
        "meters",
        "kilometers",
        "miles",
        "feet",
        "grams",
        "kilograms",
    }
)
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})

#: One written number between its punctuation: "($1,250.50),", "25%.", "16th", "1990s", "-5".
_WRITTEN_NUMBER_RE = re.compile(
    r"""
    (?P<lead>[^\w$€£\-−]*)
    (?P<sign>[-−])?
    (?P<currency>[$€£])?
    (?P<integer>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)
    (?:\.(?P<fraction>[0-9]+))?
    (?P<suffix>%|st|nd|rd|th|s)?
    (?P<trail>\W*)
    """,
    re.VERBOSE | re.IGNORECASE,
)
#: A scale word after an amount of money: "$5 million" is said "five million dollars".
_SCALE_RE = re.compile(rf"(?P<scale>{'|'.join(_SCALES)})(?P<trail>\W*)", re.IGNORECASE)
_EDGE_PUNCTUATION_RE = re.compile(r"^\W+|\W+$")


@dataclass(frozen=True)
class SpokenNumber:
    """A written number read aloud, between the punctuation that surrounded it."""

    #: Punctuation before the number, e.g. ``"("``.
    lead: str
    #: The spoken words, each a single lower-case word: ``("two", "hundred", "fifty", "dollars")``.
    words: tuple[str, ...]
    #: Punctuation after the number, e.g. ``","``.
    trail: str
    #: Whether the words also read the next word ("$5 million" → "five million dollars").
    takes_next: bool = False


def spell_number(text: str, next_text: str = "") -> SpokenNumber | None:
    """Read the written number ``text`` aloud, or None when it is not one this module can read.

    ``next_text`` is the word after it: a unit ("1999 dollars") or a scale ("$5 million") changes the reading.
    """
    match = _WRITTEN_NUMBER_RE.fullmatch(text)
    if match is None:
        return None
    sign = ("minus",) if match["sign"] else ()
    scale = _SCALE_RE.fullmatch(next_text)
    if scale and match["currency"] and not (match["suffix"] or match["trail"]):
        amount = _decimal(_digits(match["integer"]), match["fraction"])
        words = (*sign, *amount, scale["scale"].lower(), _CURRENCIES[match["currency"]].units)
        return SpokenNumber(match["lead"], words, scale["trail"], takes_next=True)
    spoken = _spoken(match, _EDGE_PUNCTUATION_RE.sub("", next_text).lower())
    return None if spoken is None else SpokenNumber(match["lead"], (*sign, *spoken), match["trail"])


def _spoken(match: re.Match[str], next_word: str) -> list[str] | None:
    """The words of the number ``match`` holds, or None for a combination nobody writes ("$5%", "2.5th")."""
    integer, fraction, currency = _digits(match["integer"]), match["fraction"], match["currency"]
    suffix = (match["suffix"] or "").lower()
    if currency:
        return None if suffix else _money(integer, fraction, _CURRENCIES[currency])
    if suffix == "%":
        return [*_decimal(integer, fraction), "percent"]
    if fraction is not None:
        return None if suffix else _decimal(integer, fraction)
    if suffix in _ORDINAL_SUFFIXES:
        return None if len(integer) > _MAX_CARDINAL_DIGITS else _said(num2words(int(integer), lang="en", to="ordinal"))
    if _is_year(match["integer"], next_word):
        words = _said(num2words(int(integer), lang="en", to="year"))
    else:
        words = _cardinal(integer)
    return _plural(words) if suffix == "s" else words


def _is_year(written: str, next_word: str) -> bool:
    """Whether a whole number reads as a year: four digits, no group commas, no unit after it."""
    return len(written) == 4 and written.isdigit() and int(written) in _YEARS and next_word not in _UNIT_WORDS


def _money(integer: str, fraction: str | None, currency: _Currency) -> list[str]:
    """Read an amount of money: "$20.50" → "twenty dollars fifty cents", "$1.5" → "one point five dollars"."""
    if fraction is None or len(fraction) != 2:
        amount = _decimal(integer, fraction)
        return [*amount, currency.unit if amount == ["one"] else currency.units]
    dollars, cents = int(integer), int(fraction)
    words: list[str] = []
    if dollars or not cents:
        words += [*_cardinal(str(dollars)), currency.unit if dollars == 1 else currency.units]
    if cents:
        words += [*_cardinal(str(cents)), currency.cent if cents == 1 else currency.cents]
    return words


def _decimal(integer: str, fraction: str | None) -> list[str]:
    """Read a number with its decimals: "3.5" → "three point five", "1.05" → "one point zero five"."""
    if fraction is None:
        return _cardinal(integer)
    return [*_cardinal(integer), "point", *(word for digit in fraction for word in _cardinal(digit))]


def _cardinal(digits: str) -> list[str]:
    """Read a whole number: "1455" → "one thousand four hundred fifty five"; "007" → "zero zero seven"."""
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > _MAX_CARDINAL_DIGITS:
        return [word for digit in digits for word in _said(num2words(int(digit), lang="en"))]
    return _said(num2words(int(digits), lang="en"))


def _said(text: str) -> list[str]:
    """num2words' text as Deepgram writes it: "one thousand, one hundred and twenty-one" → words, no "and"."""
    return [word for word in str(text).replace("-", " ").replace(",", " ").split() if word != "and"]


def _plural(words: list[str]) -> list[str]:
    """Make the last word plural: "1990s" → "nineteen nineties", "80s" → "eighties", "6s" → "sixes"."""
    last = words[-1]
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last.endswith("x"):
        last += "es"
    else:
        last += "s"
    return [*words[:-1], last]


def _digits(written: str) -> str:
    """The digits of a written integer, without group commas: "1,455" → "1455"."""
    return written.replace(",", "")
