"""Digit strings read one digit at a time: card, phone, account and order numbers.

Whisper writes a caller's "five five one, two three four…" as digits, joined by hyphens ("5-5-1-2-3"), as
separate words each starting with one ("5 -5 -1 -2"), or in groups ("4111 1111 1111 1111"). A hyphen between
digits is a separator, never a minus sign, and a group read digit by digit is not a number of thousands:

- `join_hyphenated` drops the hyphen of a "-5" that follows a digit (so no step reads "minus five");
- `split_digit_strings` turns each digit string into one token per digit, which the spoken form spells
  "five five one two" (Deepgram's words without formatting);
- with `numerals` or `smart_format`, `find_digit_string` writes a run of digits said one at a time ("five
  five one two", "5 5 1 2", "double oh seven") as one group of digits ("5512", "007"), which the entity
  steps then format (phone numbers, card numbers, SSNs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from openlisten.features.tokens import Token, edges, merge, split_evenly

__all__ = ["REPEATS", "find_digit_string", "join_hyphenated", "split_digit_strings"]

#: Digit groups joined by hyphens: "5-5-1-2", "123-45-6789".
_HYPHENATED_RE = re.compile(r"\d+(?:-\d+)+")
#: A number written with a leading hyphen, as Whisper continues a digit string: "-5", "-1234".
_CONTINUED_RE = re.compile(r"-\d+")


def join_hyphenated(tokens: Sequence[Token]) -> list[Token]:
    """Drop the hyphen of a "-5" that directly follows a digit: it separates digits; it is no minus sign."""
    joined: list[Token] = []
    for token in tokens:
        lead, core, trail = edges(token.text)
        if joined and _CONTINUED_RE.fullmatch(lead[-1:] + core) and _ends_in_digit(joined[-1]):
            token = replace(token, text=lead[:-1] + core + trail)
        joined.append(token)
    return joined


def split_digit_strings(tokens: Sequence[Token]) -> list[Token]:
    """One token per digit for each digit string: a hyphenated run ("5-5-1-2"), or a group of digits next to
    another one ("4111 1111"), read digit by digit. Punctuation stays on the first and last digit."""
    split: list[Token] = []
    for index, token in enumerate(tokens):
        lead, core, trail = edges(token.text)
        if _HYPHENATED_RE.fullmatch(core) or (core.isdigit() and _next_to_digits(tokens, index)):
            texts = [*core.replace("-", "")]
            texts[0] = lead + texts[0]
            texts[-1] += trail
            split.extend(split_evenly(token, texts))
        else:
            split.append(token)
    return split


def _ends_in_digit(token: Token) -> bool:
    _, core, trail = edges(token.text)
    return core[-1:].isdigit() and not trail


_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Words that say one digit, which a digit group next to them is read with ("4111 one one…").
_DIGIT_WORDS = frozenset({*_DIGIT_NAMES, "oh", "double", "triple"})


def _next_to_digits(tokens: Sequence[Token], index: int) -> bool:
    """Whether the token before or after `index` is digits too (or a digit word), with no punctuation between."""
    before = index > 0 and _is_digits(tokens[index - 1]) and not edges(tokens[index - 1].text)[2]
    after = index + 1 < len(tokens) and _is_digits(tokens[index + 1]) and not edges(tokens[index].text)[2]
    return before or after


def _is_digits(token: Token) -> bool:
    core = edges(token.text)[1]
    return core.isdigit() or core.lower() in _DIGIT_WORDS


#: Digits said one at a time; "oh" is a zero inside a run.
_DIGIT_VALUES = {name: str(digit) for digit, name in enumerate(_DIGIT_NAMES)}
#: "double five" is "five five", "triple oh" is "zero zero zero".
REPEATS = {"double": 2, "triple": 3}
#: Fewest digits said one at a time that make a digit string ("one two" stays words).
MIN_DIGIT_STRING = 3


def find_digit_string(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """A run of digits said one at a time from `start`, as one token of digits; punctuation other than
    commas ends it."""
    digits, end = "", start
    while end < len(tokens):
        lead, core, trail = edges(tokens[end].text)
        word = core.lower()
        if lead and end > start:
            break
        if word in REPEATS and end + 1 < len(tokens) and not trail:
            following = _digit_of(edges(tokens[end + 1].text)[1].lower(), inside=True)
            if following is None:
                break
            digits += following * REPEATS[word]
            end += 2
            trail = edges(tokens[end - 1].text)[2]
        else:
            digit = _digit_of(word, inside=end > start)
            if digit is None:
                break
            digits += digit
            end += 1
        if trail.strip(","):  # a comma is a pause between groups ("5, 5, 1"); a full stop ends the string
            break
    if len(digits) < MIN_DIGIT_STRING:
        return None
    return end, merge(tokens[start:end], digits, number=digits)


def _digit_of(word: str, *, inside: bool) -> str | None:
    if len(word) == 1 and word.isdigit():
        return word
    if word == "oh":
        return "0" if inside else None
    return _DIGIT_VALUES.get(word)
