"""Smart-format entities beyond numbers: digit sequences and phone numbers, dates, times, web addresses, emails.

Deepgram's ``smart_format`` writes these as people write them (spec/listen-v1.md §4.10; Deepgram's docs: "dates,
times, currency amounts, phone numbers, emails, and URLs"). Whisper writes some of them itself, often in pieces
("5 -5 -1", "google .com", "830 p .m."), and says others in words ("november second", "eight thirty pm",
"info at example dot com"). Each finder here reads both forms, after numbers are written as digits, and merges
the span into one token. Phone numbers are checked and laid out by Google's libphonenumber (``phonenumbers``).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence

import phonenumbers
from num2words import num2words
from text_to_num import alpha2digit

from openlisten.features.tokens import Token, edges, merge, normalize

__all__ = ["SMART_FORMAT_FINDERS", "find_date", "find_digit_sequence", "find_domain", "find_email", "find_time"]

#: Single digits said one by one: "oh" is how people say a zero in phone and card numbers.
_DIGIT_WORDS = {str(num2words(i)): str(i) for i in range(10)} | {"oh": "0"}
#: Fewer digits in a row are an ordinary list of numbers ("1, 2 and 3").
_MIN_DIGIT_SEQUENCE = 3
_MONTHS = {name.lower(): name for name in calendar.month_name if name}
_HOUR_WORDS = {str(num2words(hour)): hour for hour in range(1, 13)}
_MERIDIEMS = {"am": "AM", "pm": "PM"}
#: "830", "8:30", "7", "7am", "8:30pm": the hour, the minutes and a glued-on meridiem.
_CLOCK_RE = re.compile(r"^(?P<hour>\d{1,2}?)(?::?(?P<minute>\d{2}))?(?P<meridiem>[ap]\.?m\.?)?$", re.IGNORECASE)
#: A domain as Whisper writes it: "google.com", "www.example.co.uk".
_DOMAIN_RE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$", re.IGNORECASE)
#: Endings that make "<word> dot <ending>" a web address when said aloud; Whisper writes other domains itself.
_SPOKEN_TLDS = frozenset({"com", "org", "net", "edu", "gov", "io", "co", "ai", "dev", "app", "uk", "us", "ca", "de"})
#: An email needs one of these words shortly before it, so that "look at example.com" stays as it is.
_EMAIL_CONTEXT = frozenset({"email", "e-mail", "mail", "address", "contact", "write", "message"})
_EMAIL_CONTEXT_WORDS = 8


def _digit(token: Token) -> str | None:
    """The digit a token says on its own ("7", "-7,", "seven", "oh"), else None."""
    core = edges(token.text)[1].lower()
    if len(core) == 1 and core.isdigit():
        return core
    return _DIGIT_WORDS.get(core)


def _continues(token: Token) -> bool:
    """Whether a digit sequence may go on after this token: nothing or a separator comes after it."""
    return edges(token.text)[2] in ("", ",", "-", ".-")


def find_digit_sequence(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """Digits said one by one: "five five five one two one two" → "555-1212", "one two three" → "123"."""
    end = start
    while end < len(tokens) and _digit(tokens[end]) is not None:
        end += 1
        if not _continues(tokens[end - 1]):
            break
    if end - start < _MIN_DIGIT_SEQUENCE:
        return None
    run = tokens[start:end]
    digits = "".join(_digit(token) or "" for token in run)
    lead, trail = edges(run[0].text)[0].replace("-", ""), edges(run[-1].text)[2].rstrip("-")
    text = lead + (format_phone_number(digits) or digits) + trail
    return end, Token(text, run[0].start_s, max(t.end_s for t in run), min(t.confidence for t in run), digits)


def format_phone_number(digits: str) -> str | None:
    """A North American phone number laid out as people write it, or None when ``digits`` is not one."""
    if len(digits) not in (7, 10, 11) or (len(digits) == 11 and not digits.startswith("1")):
        return None
    number = phonenumbers.parse(digits, "US")
    if not phonenumbers.is_possible_number(number):
        return None
    layout = (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL if len(digits) == 11 else phonenumbers.PhoneNumberFormat.NATIONAL
    )
    return str(phonenumbers.format_number(number, layout))


def find_date(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """A month and a day, maybe a year: "november second twenty twenty two" → "November 2, 2022"."""
    month = _MONTHS.get(normalize(tokens[start].text))
    if month is None or edges(tokens[start].text)[2] or start + 1 >= len(tokens):
        return None
    day = _day(tokens[start + 1])
    if day is None:
        return None
    end, text = start + 2, f"{month} {day}"
    year = _year(tokens[end]) if end < len(tokens) and edges(tokens[start + 1].text)[2] in ("", ",") else None
    if year is not None:
        end, text = end + 1, f"{text}, {year}"
    return end, merge(tokens[start:end], text)


def _day(token: Token) -> int | None:
    core = normalize(token.text)
    digits = token.number or str(alpha2digit(core, "en", threshold=0))
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", digits)
    return int(match[1]) if match and 1 <= int(match[1]) <= 31 else None


def _year(token: Token) -> str | None:
    if edges(token.text)[0]:
        return None
    core = normalize(token.text)
    return core if core.isdigit() and len(core) == 4 and 1100 <= int(core) < 2100 else None


def find_time(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """A time of day with "am"/"pm" or "o'clock": "eight thirty seven pm" → "8:37 PM", "830 p.m." → "8:30 PM"."""
    clock = _clock(tokens, start)
    if clock is None:
        return None
    end, hour, minute, meridiem = clock
    if meridiem is None:
        meridiem, end = _meridiem(tokens, end)
    if meridiem is None:
        if end < len(tokens) and normalize(tokens[end].text) == "o'clock" and minute is None:
            return end + 1, merge(tokens[start : end + 1], f"{hour} o'clock")
        return None
    text = f"{hour}:{minute:02d} {meridiem}" if minute is not None else f"{hour} {meridiem}"
    return end, merge(tokens[start:end], text)


def _clock(tokens: Sequence[Token], start: int) -> tuple[int, int, int | None, str | None] | None:
    """Where the hour and minutes end, the hour, the minutes and a meridiem written with them."""
    core = edges(tokens[start].text)[1].lower()
    spoken_hour = _HOUR_WORDS.get(core)
    if spoken_hour is not None:
        minute = _minute(tokens[start + 1]) if start + 1 < len(tokens) and not edges(tokens[start].text)[2] else None
        return (start + 2, spoken_hour, minute, None) if minute is not None else (start + 1, spoken_hour, None, None)
    match = _CLOCK_RE.match(core) or _CLOCK_RE.match(core.replace(":", ""))
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"]) if match["minute"] else None
    if not 1 <= hour <= 12 or (minute is not None and minute > 59):
        return None
    meridiem = match["meridiem"]
    return start + 1, hour, minute, _MERIDIEMS[meridiem.replace(".", "").lower()] if meridiem else None


def _minute(token: Token) -> int | None:
    core = normalize(token.text)
    value = token.number or (core if core.isdigit() else None)
    return int(value) if value is not None and len(value) == 2 and int(value) < 60 else None


def _meridiem(tokens: Sequence[Token], start: int) -> tuple[str | None, int]:
    """ "pm", "p.m.", "p .m." or "p m" from ``start``: the meridiem and where it ends."""
    letters = ""
    for end in range(start, min(start + 2, len(tokens))):
        letters += edges(tokens[end].text)[1].replace(".", "").lower()
        if letters in _MERIDIEMS:
            return _MERIDIEMS[letters], end + 1
    return None, start


def find_domain(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """A web address in pieces: "google .com", "www .example .com", "example dot com" → one token."""
    lead, first, trail = edges(tokens[start].text)
    if not first.replace("-", "").isalnum() or trail:
        return None
    labels, end, found = [first.lower()], start + 1, None
    while end < len(tokens):
        text, word = tokens[end].text, normalize(tokens[end].text)
        if text.startswith(".") and _DOMAIN_RE.match("x" + text.rstrip(".,?!")):
            labels += text.rstrip(".,?!")[1:].lower().split(".")
            end += 1
            found = end
        elif word == "dot" and end + 1 < len(tokens) and normalize(tokens[end + 1].text).isalnum():
            labels.append(normalize(tokens[end + 1].text))
            end += 2
            found = end if labels[-1] in _SPOKEN_TLDS else found
        else:
            break
        if edges(tokens[end - 1].text)[2].rstrip("."):
            break
    if found is None:
        return None
    return found, merge(tokens[start:found], ".".join(labels[: len(labels) - _labels_after(tokens, found, end)]))


def _labels_after(tokens: Sequence[Token], found: int, end: int) -> int:
    """How many spoken labels were read past the last one that ends a web address ("dot dress")."""
    return sum(1 for token in tokens[found:end] if normalize(token.text) == "dot")


def find_email(tokens: Sequence[Token], start: int) -> tuple[int, Token] | None:
    """ "info at example.com" → "info@example.com" (the domain already joined by `find_domain`)."""
    if start + 2 >= len(tokens) or normalize(tokens[start + 1].text) != "at":
        return None
    user, domain = edges(tokens[start].text)[1].lower(), edges(tokens[start + 2].text)[1].lower()
    if not re.fullmatch(r"[\w.+-]+", user) or not _DOMAIN_RE.match(domain) or edges(tokens[start].text)[2]:
        return None
    context = {normalize(token.text) for token in tokens[max(0, start - _EMAIL_CONTEXT_WORDS) : start]}
    if not context & _EMAIL_CONTEXT:
        return None
    return start + 3, merge(tokens[start : start + 3], f"{user}@{domain}")


#: The entity steps in the order they run; each sees the tokens the one before it wrote.
SMART_FORMAT_FINDERS = (find_digit_sequence, find_date, find_time, find_domain, find_email)
