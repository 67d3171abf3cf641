"""Deepgram's ``measurements``: a number and a spoken metric unit become the unit's abbreviation.

"thirty three grams" → "33 g", "five kilometers" → "5 km" (Deepgram's docs list milli-, centi- and kilo- grams,
liters and meters). Unit names, plurals and British spellings are parsed, and symbols written, by ``pint``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from text_to_num import alpha2digit

from openlisten.features.tokens import Token, edges, merge, normalize

__all__ = ["find_measurement"]

#: The units Deepgram abbreviates: these base units with these prefixes.
_UNITS = frozenset({"gram", "liter", "meter"})
_PREFIXES = frozenset({"", "milli", "centi", "kilo"})


@functools.cache
def _registry() -> Any:
    import pint

    return pint.UnitRegistry()


@functools.cache
def unit_symbol(word: str) -> str | None:
    """The abbreviation of a spoken unit ("milliliters" → "ml"), or None when it is not one Deepgram abbreviates."""
    if not word.isalpha():
        return None
    registry = _registry()
    parsed = registry.parse_unit_name(word)
    if len(parsed) != 1:
        return None
    prefix, unit, suffix = parsed[0]
    if unit not in _UNITS or prefix not in _PREFIXES or suffix:
        return None
    return str(format(registry.Unit(prefix + unit), "~"))


def find_measurement(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """A number followed by a unit: "33 grams" → "33 g"; small numbers said in words become digits too."""
    if start + 1 >= len(tokens) or edges(tokens[start].text)[2] or edges(tokens[start + 1].text)[0]:
        return None
    symbol = unit_symbol(normalize(tokens[start + 1].text))
    amount = _amount(tokens[start])
    if symbol is None or amount is None:
        return None
    return start + 2, merge(tokens[start : start + 2], f"{amount} {symbol}")


def _amount(token: Token) -> str | None:
    core = edges(token.text)[1].replace(",", "")
    digits = token.number or (
        core if core.replace(".", "", 1).isdigit() else str(alpha2digit(core.lower(), "en", threshold=0))
    )
    return digits if digits.replace(".", "", 1).isdigit() else None
