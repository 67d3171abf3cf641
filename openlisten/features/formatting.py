"""Word formatting: Deepgram's ``punctuate``, ``smart_format``, ``numerals`` and ``filler_words``.

Whisper always writes punctuated, capitalized text, with many numbers in digits. This module turns its
words into Deepgram's two forms (spec/listen-v1.md §4.7, §4.10): ``word``, always lower case without
punctuation, and ``punctuated_word``, the display form, which keeps Whisper's punctuation when asked for.
Only ``smart_format`` and ``numerals`` write digits; otherwise numbers are spelled out as spoken
("$250" → "two hundred fifty dollars"), as Deepgram's unformatted output is. The steps::

    digits:     split → drop fillers and bare punctuation → dictation → numbers → years → money and percent
                → entities (smart_format_entities.py) → measurements → capitalize
    otherwise:  split → drop fillers and bare punctuation → dictation → spell numbers out → capitalize
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from text_to_num import alpha2digit

from openlisten.engine.types import Word
from openlisten.features.dictation import dictate
from openlisten.features.digits import find_digit_string, join_hyphenated, split_digit_strings
from openlisten.features.measurements import find_measurement
from openlisten.features.numbers import SpokenNumber, spell_number
from openlisten.features.smart_format_entities import SMART_FORMAT_FINDERS
from openlisten.features.tokens import Token, edges, ends_sentence, merge, merge_spans, normalize, split_evenly
from openlisten.transcript import TranscriptWord

__all__ = ["FormatOptions", "format_words", "join_transcript"]

#: Deepgram writes a lone number below ten as a word ("one of them", "five dogs") and larger ones as
#: digits; text2num's ``threshold`` draws the same line.
_SMALL_NUMBER_LIMIT = 10
#: The longest run of words read as one number ("one million two hundred thousand and forty five").
_MAX_NUMBER_WORDS = 12

_FILLERS = frozenset({"uh", "um", "uh-huh", "mm-hmm", "hmm", "er", "ah", "uhm", "umm", "hm", "mhm"})
_MULTIPLIERS = frozenset({"hundred", "thousand", "million", "billion", "trillion"})
_CARDINALS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety"
)
_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth fiftieth sixtieth "
    "seventieth eightieth ninetieth hundredth thousandth millionth billionth"
)
_NUMBER_WORDS = frozenset({*_CARDINALS.split(), *_ORDINALS.split(), *_MULTIPLIERS, "and", "point"})
_PERCENT_WORDS = frozenset({"percent"})
_DOLLAR_WORDS = frozenset({"dollar", "dollars"})
_CENT_WORDS = frozenset({"cent", "cents"})

#: What text2num writes for one number: "25", "1000000", "3.5", "21st".
_NUMBER_RE = re.compile(r"\d[\d.,]*(?:st|nd|rd|th)?")
#: An amount of money or a percentage: "5", "1,000", "3.5".
_AMOUNT_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")
#: Symbols that belong to a number even without punctuation: "$250" and "25%" keep them under ``numerals``.
_CURRENCY_SYMBOLS = "$€£"


@dataclass(frozen=True)
class FormatOptions:
    """Which of Deepgram's formatting features to apply."""

    #: Keep Whisper's punctuation and capitals in ``punctuated_word`` and the transcript.
    punctuate: bool = False
    #: As ``punctuate``, plus numbers, years, percentages and money written as digits.
    smart_format: bool = False
    #: Write number words as digits ("nine hundred" → "900"), without punctuation of its own.
    numerals: bool = False
    #: Keep filler words ("uh", "um", …); they are left out otherwise.
    filler_words: bool = False
    #: Write spoken punctuation commands ("comma", "period", "new line") as marks; needs punctuation.
    dictation: bool = False
    #: Write a number and a spoken metric unit as the unit's abbreviation ("five meters" → "5 m").
    measurements: bool = False

    @property
    def punctuated(self) -> bool:
        """Whether ``punctuated_word`` and the transcript show punctuation and capitals."""
        return self.punctuate or self.smart_format

    @property
    def writes_digits(self) -> bool:
        """Whether numbers are written in digits; otherwise they are spelled out as spoken."""
        return self.smart_format or self.numerals or self.measurements


def format_words(words: Sequence[Word], options: FormatOptions) -> list[TranscriptWord]:
    """Turn the recognizer's words into transcript words, formatted as ``options`` asks."""
    tokens = join_hyphenated(_drop(_split(words), _is_bare_punctuation))
    if not options.filler_words:
        tokens = _drop(tokens, _is_filler)
    if options.dictation and options.punctuated:
        tokens = dictate(tokens)
    if options.writes_digits:
        if not options.smart_format:  # smart_format's entity steps read digit strings themselves
            tokens = merge_spans(tokens, find_digit_string)
        tokens = merge_spans(merge_spans(tokens, _find_number), _find_year)
    else:
        tokens = _spell_numbers(split_digit_strings(tokens))
    if options.smart_format:
        for find in (_find_money_or_percent, *SMART_FORMAT_FINDERS):
            tokens = merge_spans(tokens, find)
    if options.measurements:
        tokens = merge_spans(tokens, find_measurement)
    if options.punctuated:
        tokens = _capitalize_sentences(tokens)
    return [word for token in tokens for word in _to_transcript_words(token, options)]


def join_transcript(words: Sequence[TranscriptWord], options: FormatOptions) -> str:
    """The ``transcript`` text of ``words``: their display forms joined by single spaces."""
    display = options.punctuated or options.writes_digits
    return " ".join(word.punctuated_word if display else word.word for word in words)


# Text helpers.


def _is_number_word(word: str) -> bool:
    return bool(word) and all(part in _NUMBER_WORDS for part in word.split("-"))


# Steps.


def _split(words: Sequence[Word]) -> list[Token]:
    """One token per whitespace-separated piece of each word, in time order, each with start_s <= end_s."""
    tokens = [
        Token(piece, word.start_s, max(word.start_s, word.end_s), word.confidence)
        for word in words
        for piece in word.text.split()
    ]
    return sorted(tokens, key=lambda token: token.start_s)


def _is_bare_punctuation(token: Token) -> bool:
    return not normalize(token.text)


def _is_filler(token: Token) -> bool:
    return normalize(token.text) in _FILLERS


def _drop(tokens: Sequence[Token], unwanted: Callable[[Token], bool]) -> list[Token]:
    """Leave out unwanted tokens; the end of a sentence one carried moves onto the token before it."""
    kept: list[Token] = []
    for token in tokens:
        if not unwanted(token):
            kept.append(token)
        elif kept and ends_sentence(token.text):
            lead, core, _ = edges(kept[-1].text)
            kept[-1] = replace(kept[-1], text=lead + core + edges(token.text)[2])
    return kept


def _find_number(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """The longest run of number words from ``start`` that text2num writes as one number."""
    for end in range(_number_run_end(tokens, start), start, -1):
        spoken = " ".join(normalize(token.text) for token in tokens[start:end])
        if end - start == 1 and spoken in _MULTIPLIERS:
            continue  # "a hundred", "thousands of": a bare multiplier reads better as a word.
        digits = str(alpha2digit(spoken, "en", threshold=_SMALL_NUMBER_LIMIT))
        if _NUMBER_RE.fullmatch(digits):
            return end, merge(tokens[start:end], digits, number=digits)
    return None


def _number_run_end(tokens: Sequence[Token], start: int) -> int:
    """The end of the run of number words from ``start``; punctuation inside the run ends it."""
    end = start
    while end < len(tokens) and end - start < _MAX_NUMBER_WORDS:
        lead, core, trail = edges(tokens[end].text)
        if not _is_number_word(core.lower()) or (lead and end > start):
            break
        end += 1
        if trail:
            break
    return end


def _find_year(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """Two numbers said as a year: "nineteen ninety nine" → "1999", "twenty twenty four" → "2024"."""
    pair = tokens[start : start + 2]
    if len(pair) < 2 or edges(pair[0].text)[2] or edges(pair[1].text)[0]:
        return None
    century, year = pair[0].number or "", pair[1].number or ""
    if century.isdigit() and year.isdigit() and 11 <= int(century) <= 20 and 10 <= int(year) <= 99:
        return start + 2, merge(pair, century + year, number=century + year)
    return None


def _find_money_or_percent(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """Money and percentages: "25 percent" → "25%", "five dollars" → "$5", "20 dollars and 50 cents" → "$20.50"."""
    amount = _amount(tokens[start])
    if amount is None or start + 1 >= len(tokens):
        return None
    unit = normalize(tokens[start + 1].text)
    if unit in _PERCENT_WORDS:
        return start + 2, merge(tokens[start : start + 2], amount + "%")
    if unit not in _DOLLAR_WORDS:
        return None
    cents = _find_cents(tokens, start + 2) if "." not in amount and not edges(tokens[start + 1].text)[2] else None
    if cents is None:
        return start + 2, merge(tokens[start : start + 2], "$" + amount)
    end, cents_digits = cents
    return end, merge(tokens[start:end], f"${amount}.{cents_digits}")


def _find_cents(tokens: Sequence[Token], start: int) -> tuple[int, str] | None:
    """The cents after an amount of dollars ("and fifty cents"): the span's end and two digits."""
    if start < len(tokens) and tokens[start].text.lower() == "and":
        start += 1
    if start + 1 >= len(tokens) or normalize(tokens[start + 1].text) not in _CENT_WORDS:
        return None
    cents = _amount(tokens[start])
    if cents is None or not cents.isdigit() or int(cents) > 99:
        return None
    return start + 2, cents.zfill(2)


def _amount(token: Token) -> str | None:
    """The digits of a number token with no trailing punctuation, small number words included."""
    _, core, trail = edges(token.text)
    if trail:
        return None
    if token.number is not None:
        digits = token.number
    elif _is_number_word(core.lower()):
        digits = str(alpha2digit(core.lower(), "en", threshold=0))
    else:
        digits = core
    return digits if _AMOUNT_RE.fullmatch(digits) else None


def _spell_numbers(tokens: Sequence[Token]) -> list[Token]:
    """Spell out each number Whisper wrote in digits: "$250," → "two hundred fifty dollars,"."""
    spelled: list[Token] = []
    index = 0
    while index < len(tokens):
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        number = spell_number(tokens[index].text, following)
        if number is None:
            spelled.append(tokens[index])
            index += 1
            continue
        read = tokens[index : index + (2 if number.takes_next else 1)]
        index += len(read)
        spelled.extend(_spread(number, read, tokens[index].start_s if index < len(tokens) else None))
    return spelled


def _spread(number: SpokenNumber, read: Sequence[Token], limit_s: float | None) -> list[Token]:
    """One token per spoken word of ``number``, sharing the time of the tokens it was read from evenly.

    The lead punctuation goes on the first word, the trailing on the last. The words end by ``limit_s``,
    the next token's start, so that they stay in time order when Whisper's words overlap.
    """
    start_s = read[0].start_s
    end_s = max(token.end_s for token in read)
    if limit_s is not None:
        end_s = max(start_s, min(end_s, limit_s))
    count = len(number.words)
    bounds = [min(end_s, start_s + (end_s - start_s) * step / count) for step in range(count)] + [end_s]
    texts = list(number.words)
    texts[0] = number.lead + texts[0]
    texts[-1] += number.trail
    confidence = min(token.confidence for token in read)
    return [Token(text, bounds[i], bounds[i + 1], confidence) for i, text in enumerate(texts)]


def _capitalize_sentences(tokens: Sequence[Token]) -> list[Token]:
    """Capitalize the first token, and each one after the end of a sentence."""
    capitalized: list[Token] = []
    starts_sentence = True
    for token in tokens:
        if starts_sentence:
            lead, core, trail = edges(token.text)
            token = replace(token, text=lead + core[:1].upper() + core[1:] + trail)
        capitalized.append(token)
        starts_sentence = ends_sentence(token.text)
    return capitalized


def _to_transcript_words(token: Token, options: FormatOptions) -> list[TranscriptWord]:
    """The words of a token; an entity written with spaces ("8:37 PM") is one word per piece, sharing its time."""
    pieces = token.text.split()
    if len(pieces) == 1:
        return [_to_transcript_word(token, options)]
    return [_to_transcript_word(piece, options) for piece in split_evenly(token, pieces)]


#: Shortest word: Whisper's alignment step (20 ms). Its word times can come out zero-length, which caption
#: tools (``deepgram-captions``) and players choke on.
MIN_WORD_S = 0.02


def _to_transcript_word(token: Token, options: FormatOptions) -> TranscriptWord:
    word = normalize(token.text)
    if options.punctuated:
        punctuated_word = token.text
    elif options.writes_digits:
        punctuated_word = _with_number_symbols(token.text, word)
    else:
        punctuated_word = word
    return TranscriptWord(
        word=word,
        punctuated_word=punctuated_word,
        start_s=token.start_s,
        end_s=max(token.end_s, round(token.start_s + MIN_WORD_S, 3)),
        confidence=token.confidence,
    )


def _with_number_symbols(text: str, word: str) -> str:
    """``word`` with the sign, currency sign or percent sign ``text`` wrote around its digits: "$250," → "$250",
    "-5" → "-5"."""
    lead, core, trail = edges(text)
    if not core[:1].isdigit():
        return word
    currency = lead[-1] if lead.endswith(tuple(_CURRENCY_SYMBOLS)) else ""
    sign = "-" if lead.rstrip("".join(_CURRENCY_SYMBOLS)).endswith("-") else ""  # a real negative: "-5 degrees"
    percent = "%" if trail.startswith("%") and core[-1].isdigit() else ""
    return sign + currency + word + percent
