"""Deepgram's ``redact``: sensitive numbers and identifiers replaced by ``[TYPE_N]`` placeholders.

A span is a run of words that say digits, as digits ("4444", "(555) 123-4567") or as words ("four four four
four", "forty four"); number words are read with text2num. Each span is classified by its digits and the words
just before it, and the kinds asked for decide which spans go (Deepgram's docs, "Redaction")::

    pci                  CREDIT_CARD (13 digits or more; 3 or more right after "card", "visa"…; and when no
                         other type asked for fits, 8 to 12 digits, or 3 or more near a card word or digits),
                         CREDIT_CARD_EXPIRATION and CVV (after "expiration", "cvv")
    ssn                  SSN (9 digits; 8 to 10 when no other type fits: a digit misheard, lost or doubled)
    pii                  SSN, CREDIT_CARD, PHONE_NUMBER (7, 10 or 11 digits), EMAIL_ADDRESS, NAME, LOCATION_*
    numbers, true        NUMBER: any run of three or more digits
    aggressive_numbers   NUMBER: any number at all

The placeholder counts each type through the transcript: "[SSN_1] and his is [SSN_2]". A `Redactor` keeps the
counts, so that a live session numbers its placeholders across finals. A live interim may end in the middle of
a number ("my social security number is one two three"): `Redactor.interim` also redacts a run of digits at
its end that could still grow into a redacted type, so no part of one is ever sent. Names, places and street
addresses are found in the recognizer's words by ``pii.py`` and redacted by the times they were said.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from num2words import num2words
from text_to_num import alpha2digit

from openlisten.engine.types import Word
from openlisten.features.digits import REPEATS
from openlisten.features.pii import LABELS as PII_LABELS
from openlisten.features.pii import Entity, find_pii
from openlisten.features.tokens import edges
from openlisten.transcript import TranscriptWord

__all__ = ["GROUPS", "Redactor"]

#: Number words that say digits: "zero" to "nineteen", the tens, "hundred" to "billion", and "oh" for zero
#: (the recognizer writes "987654321" read aloud as "nine hundred eighty seven million…").
_NUMBER_WORDS = frozenset(
    {str(num2words(n)) for n in (*range(20), *range(20, 100, 10), 100, 1000)} - {"one hundred", "one thousand"}
) | {"oh", "hundred", "thousand", "million", "billion"}
#: A word written with digits, as formatting leaves them: "4444", "555-1212", "(555)", "12/25", "$250".
_DIGITS_RE = re.compile(r"^[$€£(+]*\d[\d\-().,/:% ]*$")
_EMAIL_RE = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
#: Words after which a short number is a card's expiration date or security code.
_CONTEXT = {
    "expiration": "CREDIT_CARD_EXPIRATION",
    "expires": "CREDIT_CARD_EXPIRATION",
    "expiry": "CREDIT_CARD_EXPIRATION",
}
_CONTEXT |= {"cvv": "CVV", "cvc": "CVV", "cv": "CVV", "security": "CVV"}
_CONTEXT |= dict.fromkeys(("card", "credit", "debit", "visa", "mastercard", "amex", "discover"), "CREDIT_CARD")
_CONTEXT |= {"ssn": "SSN", "social": "SSN"}
#: Digits after "social security (number)" or "ssn" taken for (part of) an SSN: the recognizer may lose the
#: first digits of one, and the rest must not leak.
_MIN_SSN_CONTEXT_DIGITS = 3
#: Digits after a card word taken for (part of) a card number: the recognizer often loses some of a long
#: run of repeated digits ("four one one one…" heard as "four one one"), and what is left must not leak.
_MIN_CARD_CONTEXT_DIGITS = 3
#: Digits taken for what is left of a card number even without a card word, when no other type asked for
#: fits: a recognizer that loses half of "four one one one…" must not let the other half through.
_MIN_PARTIAL_CARD_DIGITS = 8
#: How far before a run of digits a card word or a card's first digits make it the rest of a card.
_NEAR_CARD_WORDS = 12
_CONTEXT_WORDS = 6
#: The entity types each ``redact`` value (`options.REDACT_KINDS`) covers.
GROUPS = {
    "pci": {"CREDIT_CARD", "CREDIT_CARD_EXPIRATION", "CVV"},
    "ssn": {"SSN"},
    "pii": {"SSN", "CREDIT_CARD", "PHONE_NUMBER", "EMAIL_ADDRESS", *PII_LABELS},
    "numbers": {"NUMBER"},
    "true": {"NUMBER"},
    "aggressive_numbers": {"NUMBER", "ANY_NUMBER"},
    "credit_card": {"CREDIT_CARD"},
    "credit_card_expiration": {"CREDIT_CARD_EXPIRATION"},
    "cvv": {"CVV"},
    "phone_number": {"PHONE_NUMBER"},
    "email_address": {"EMAIL_ADDRESS"},
    "name": {"NAME"},
    "location": {label for label in PII_LABELS if label.startswith("LOCATION")},
    "location_address": {"LOCATION_ADDRESS"},
    "location_city": {"LOCATION_CITY"},
    "location_state": {"LOCATION_STATE"},
    "location_country": {"LOCATION_COUNTRY"},
}
_MIN_NUMBER_DIGITS = 3
#: Digit counts taken for an SSN when no more specific type fits: a recognizer that drops, adds or merges
#: one digit of nine must not let the other eight through.
_NEAR_SSN_DIGITS = (8, 10)
#: The types an unfinished run of digits may grow into, most specific first, with their most digits.
_GROWS_INTO = (
    ("SSN", max(_NEAR_SSN_DIGITS) + 1),
    ("PHONE_NUMBER", 12),
    ("CREDIT_CARD", 20),
    ("CVV", 5),
    ("CREDIT_CARD_EXPIRATION", 7),
    ("NUMBER", 1 << 30),
)
#: Punctuation after a word that ends a run of digits: the end of a sentence or clause.
_RUN_ENDS = ".?!;"


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    digits: str
    #: The entity's type, for a name or address (`find_pii`).
    entity: str | None = None


class Redactor:
    """Redacts what ``kinds`` name (``redact`` values) from words, numbering placeholders as it goes."""

    def __init__(self, kinds: Iterable[str]) -> None:
        self.types: set[str] = set().union(*(GROUPS[kind] for kind in kinds))
        self.counts: Counter[str] = Counter()
        #: The words end where the speaker may still be talking (a live interim).
        self.open_end = False

    def interim(self) -> Redactor:
        """A copy for a live interim: its placeholders do not count, and a number it ends in is redacted
        when it could still become one of the redacted types."""
        copy = Redactor(())
        copy.types, copy.counts, copy.open_end = self.types, Counter(self.counts), True
        return copy

    def redact(self, words: Sequence[TranscriptWord], recognized: Sequence[Word] = ()) -> list[TranscriptWord]:
        """``words`` with each redacted span replaced by one placeholder word.

        Names and addresses are looked for in ``recognized``, the words as the recognizer wrote them.
        """
        if not self.types:
            return list(words)
        entities = [e for e in find_pii(recognized) if e.label in self.types] if self.types & PII_LABELS else []
        out: list[TranscriptWord] = []
        index = 0
        for span in _spans(words, entities):
            out.extend(words[index : span.start])
            label = self._label(words, span)
            if label is None and self.open_end and _open(words, span):
                label = self._growing(span)
            out.extend(
                [self._placeholder(words[span.start : span.end], label)] if label else words[span.start : span.end]
            )
            index = span.end
        out.extend(words[index:])
        return out

    def _label(self, words: Sequence[TranscriptWord], span: _Span) -> str | None:
        """The placeholder type of a span, or None when it stays."""
        if span.entity:
            return span.entity
        if span.digits == "@":
            return "EMAIL_ADDRESS" if "EMAIL_ADDRESS" in self.types else None
        for label in _candidates(words, span):
            if label in self.types:
                return label
        return None

    def _growing(self, span: _Span) -> str | None:
        """The redacted type that a run of digits the speaker may not have finished could become."""
        count = len(span.digits)
        for label, most_digits in _GROWS_INTO:
            if label in self.types and 0 < count < most_digits:
                return label
        return None

    def _placeholder(self, span: Sequence[TranscriptWord], label: str) -> TranscriptWord:
        label = "NUMBER" if label == "ANY_NUMBER" else label
        self.counts[label] += 1
        text = f"[{label}_{self.counts[label]}]"
        # A parenthesis or currency sign before the digits is part of what is redacted.
        lead, trail = edges(span[0].punctuated_word)[0].rstrip("($€£+"), edges(span[-1].punctuated_word)[2]
        first = span[0]
        return TranscriptWord(
            text,
            lead + text + trail,
            first.start_s,
            span[-1].end_s,
            min(word.confidence for word in span),
            first.speaker,
            first.speaker_confidence,
        )


def _candidates(words: Sequence[TranscriptWord], span: _Span) -> list[str]:
    """The types a span could be, most specific first."""
    count = len(span.digits)
    labels = []
    context = _context(words[max(0, span.start - _CONTEXT_WORDS) : span.start])
    if context == "CVV" and count in (3, 4):
        labels.append("CVV")
    if context == "CREDIT_CARD_EXPIRATION" and 3 <= count <= 6:
        labels.append("CREDIT_CARD_EXPIRATION")
    # Longer runs too (a card read with a digit doubled, or a decoder loop, still holds one), and shorter
    # ones right after a card word.
    if count >= 13 or (context == "CREDIT_CARD" and count >= _MIN_CARD_CONTEXT_DIGITS):
        labels.append("CREDIT_CARD")
    if count == 9 or (context == "SSN" and count >= _MIN_SSN_CONTEXT_DIGITS):
        labels.append("SSN")
    if count in (7, 10) or (count == 11 and span.digits.startswith("1")):
        labels.append("PHONE_NUMBER")
    if count in _NEAR_SSN_DIGITS:
        labels.append("SSN")  # when in doubt, redact: an SSN the recognizer got one digit wrong
    if _MIN_PARTIAL_CARD_DIGITS <= count < 13 or (count >= _MIN_NUMBER_DIGITS and _near_card(words, span)):
        labels.append("CREDIT_CARD")  # when in doubt, redact: a card the recognizer lost or garbled digits of
    if count >= _MIN_NUMBER_DIGITS:
        labels.append("NUMBER")
    if count:
        labels.append("ANY_NUMBER")
    return labels


def _near_card(words: Sequence[TranscriptWord], span: _Span) -> bool:
    """Whether a card word, or a long run of digits, comes shortly before a span (across sentences: the
    recognizer puts full stops between the groups of a card number read slowly)."""
    before = words[max(0, span.start - _NEAR_CARD_WORDS) : span.start]
    if any(_CONTEXT.get(word.word) == "CREDIT_CARD" for word in before):
        return True
    said = [word for word in before if _says_digits(word.word, first=False)]
    return len(_digits(said)) >= _MIN_PARTIAL_CARD_DIGITS if said else False


def _context(before: Sequence[TranscriptWord]) -> str | None:
    """The type the nearest cue word before a span names ("expires", "cvv", "card"), in the same sentence."""
    for index in reversed(range(len(before))):
        word = before[index]
        if any(mark in edges(word.punctuated_word)[2] for mark in ".?!"):
            return None
        if word.word == "security" and index and before[index - 1].word == "social":
            return "SSN"  # not a card's security code
        if word.word in _CONTEXT:
            return _CONTEXT[word.word]
    return None


def _spans(words: Sequence[TranscriptWord], entities: Sequence[Entity]) -> list[_Span]:
    """The `entities`' words, runs of words that say digits, and single email addresses; a sentence end
    closes a run."""
    spans: list[_Span] = []
    entity_spans = _entity_spans(words, entities)
    index = 0
    while index < len(words):
        entity = entity_spans.get(index)
        if entity:
            spans.append(entity)
            index = entity.end
            continue
        if _EMAIL_RE.match(words[index].word):
            spans.append(_Span(index, index + 1, "@"))
            index += 1
            continue
        end = index
        while end < len(words) and _says_digits(words[end].word, first=end == index):
            end += 1
            ended = any(mark in edges(words[end - 1].punctuated_word)[2] for mark in _RUN_ENDS)
            if ended and not (end < len(words) and _says_digits(words[end].word, first=True)):
                break  # a full stop between two groups of digits is a pause inside one number
        if end == index:
            index += 1
            continue
        spans.append(_Span(index, end, _digits(words[index:end])))
        index = end
    return spans


def _entity_spans(words: Sequence[TranscriptWord], entities: Sequence[Entity]) -> dict[int, _Span]:
    """The words each entity was said in, by their first word (one pass: both are in time order)."""
    spans: dict[int, _Span] = {}
    index = 0
    for entity in entities:
        while index < len(words) and _middle(words[index]) < entity.start_s:
            index += 1
        end = index
        while end < len(words) and _middle(words[end]) <= entity.end_s:
            end += 1
        if end > index:
            spans[index] = _Span(index, end, "", entity.label)
        index = end
    return spans


def _middle(word: TranscriptWord) -> float:
    return (word.start_s + word.end_s) / 2


def _open(words: Sequence[TranscriptWord], span: _Span) -> bool:
    """Whether a run of digits ends an interim's words: the speaker may still be saying it.

    A full stop after it proves nothing: Whisper ends the text of unfinished audio with one too ("my social
    security number is nine.").
    """
    return span.end == len(words)


def _says_digits(word: str, first: bool) -> bool:
    if _DIGITS_RE.match(word) or word in REPEATS:
        return True
    # "oh" starts no number ("oh, two of them"), but is a zero inside one ("five oh two").
    if word in _NUMBER_WORDS and not (first and word == "oh"):
        return True
    # Number words Whisper ran together with dots or hyphens: "one...one....one", "four-one-one".
    parts = _JOINED_RE.split(word)
    return len(parts) > 1 and all(part in _NUMBER_WORDS or part.isdigit() for part in parts)


#: "double five" is "five five"; before digits, "double 12" is "112".
_REPEATED_RE = re.compile(r"\b(double|triple) (\w+)")
#: What joins number words written as one word.
_JOINED_RE = re.compile(r"[.\-,…]+")


def _digits(span: Sequence[TranscriptWord]) -> str:
    spoken = " ".join("zero" if word.word == "oh" else _JOINED_RE.sub(" ", word.word) for word in span)
    spoken = _REPEATED_RE.sub(_repeated, spoken)
    return re.sub(r"\D", "", str(alpha2digit(spoken, "en", threshold=0)))


def _repeated(match: re.Match[str]) -> str:
    said = match[2]
    if said.isdigit():  # "double 12345": the first digit twice
        return said[0] * REPEATS[match[1]] + said[1:]
    return " ".join([said] * REPEATS[match[1]])
