"""Redaction (features/redact.py)."""

from __future__ import annotations

import pytest

from openlisten.engine.types import Word
from openlisten.features.redact import GROUPS, Redactor
from openlisten.options import REDACT_KINDS
from tests.features.helpers import text, words

SPOKEN_SSNS = "my social security number is five five five two two one one one one and his is six six six two two one three three three"  # noqa: E501


def redact(spoken: str, *kinds: str) -> str:
    return text(Redactor(kinds).redact(words(spoken)))


def test_ssns_are_numbered_in_order() -> None:
    assert redact(SPOKEN_SSNS, "ssn") == "my social security number is [SSN_1] and his is [SSN_2]"


def test_pci_redacts_card_expiration_and_cvv() -> None:
    spoken = (
        "my card number is four four four four nine nine nine nine three three three three two two two two "
        "with an expiration date of one twenty three and the cvv code is one one one"
    )
    assert redact(spoken, "pci") == (
        "my card number is [CREDIT_CARD_1] with an expiration date of [CREDIT_CARD_EXPIRATION_1] "
        "and the cvv code is [CVV_1]"
    )


def test_written_digits_and_formatted_numbers() -> None:
    assert redact("Card 4111111111111111. Call (555) 123-4567.", "pci", "pii") == (
        "Card [CREDIT_CARD_1]. Call [PHONE_NUMBER_1]."
    )
    assert redact("SSN 123456789, thanks.", "ssn") == "SSN [SSN_1], thanks."


def test_numbers_needs_three_digits_and_aggressive_takes_all() -> None:
    spoken = "I have 2 cats and 120 fish and four hundred ants"
    assert redact(spoken, "numbers") == "I have 2 cats and [NUMBER_1] fish and [NUMBER_2] ants"
    assert redact(spoken, "aggressive_numbers") == "I have [NUMBER_1] cats and [NUMBER_2] fish and [NUMBER_3] ants"


def test_pii_redacts_emails() -> None:
    assert redact("write to info@example.com now", "pii") == "write to [EMAIL_ADDRESS_1] now"


def test_ssn_alone_leaves_cards() -> None:
    assert redact("card 4111111111111111", "ssn") == "card 4111111111111111"


def test_oh_starts_no_number() -> None:
    assert redact("oh two three four", "aggressive_numbers") == "oh [NUMBER_1]"


def test_a_redactor_keeps_counting_across_calls() -> None:
    redactor = Redactor(["ssn"])
    first = redactor.redact(words("one two three four five six seven eight nine"))
    second = redactor.redact(words("nine eight seven six five four three two one"))
    assert [w.word for w in first + second] == ["[SSN_1]", "[SSN_2]"]
    assert (first[0].start_s, first[0].end_s) == (0.0, pytest.approx(4.4))


def test_an_interim_hides_a_number_the_speaker_is_still_saying() -> None:
    redactor = Redactor(["ssn"])
    redactor.redact(words("one two three four five six seven eight nine"))
    interim = redactor.interim()
    assert text(interim.redact(words("my number is four five six"))) == "my number is [SSN_2]"
    assert text(interim.redact(words("i have two cats and"))) == "i have two cats and"  # a finished run stays
    # Whisper ends the text of audio cut mid-number with a full stop too.
    assert text(redactor.interim().redact(words("my social security number is nine."))) == (
        "my social security number is [SSN_2]."
    )
    assert redactor.counts["SSN"] == 1  # interims do not count
    # Finals redact only what is complete.
    assert text(redactor.redact(words("my number is four five six"))) == "my number is four five six"


def test_digits_after_social_security_are_an_ssn_however_many_were_heard() -> None:
    """The recognizer lost "nine eight" of "nine eight seven six five four three two one"."""
    heard = words("my social security number is seven, six, five, four, three, two, one.")
    assert text(Redactor(["ssn"]).redact(heard)) == "my social security number is [SSN_1]."
    assert text(Redactor(["pci"]).redact(heard)) == text(heard)  # "security" here is no card's code
    assert text(Redactor(["pci"]).redact(words("the security code is one two three"))) == (
        "the security code is [CVV_1]"
    )


def test_an_interim_number_past_every_redacted_length_stays() -> None:
    interim = Redactor(["ssn"]).interim()
    assert text(interim.redact(words("one two three four five six seven eight nine one two"))) == (
        "one two three four five six seven eight nine one two"
    )


def test_pii_redacts_names_and_addresses_by_the_recognized_words() -> None:
    """Names are found in the recognizer's capitals even when the transcript is lower case."""
    spoken = "my name is John Smith and I live at 42 Elm Street. Call me."
    recognized = [Word(piece, i * 0.5, i * 0.5 + 0.4, 0.9) for i, piece in enumerate(spoken.split())]
    lower = words(spoken.lower())
    redacted = Redactor(["pii"]).redact(lower, recognized)
    assert text(redacted) == "my name is [NAME_1] and i live at [LOCATION_ADDRESS_1]. call me."
    assert text(Redactor(["ssn"]).redact(lower, recognized)) == text(lower)


def test_location_redacts_every_kind_of_place_and_its_subtypes_one_each() -> None:
    spoken = "I moved from Boston to 12 Oak Street in Ohio."
    recognized = [Word(piece, i * 0.5, i * 0.5 + 0.4, 0.9) for i, piece in enumerate(spoken.split())]
    redacted = text(Redactor(["location"]).redact(words(spoken), recognized))
    assert redacted == "I moved from [LOCATION_CITY_1] to [LOCATION_ADDRESS_1] in [LOCATION_STATE_1]."
    assert text(Redactor(["location_state"]).redact(words(spoken), recognized)) == (
        "I moved from Boston to 12 Oak Street in [LOCATION_STATE_1]."
    )


def test_an_ssn_with_a_digit_lost_or_doubled_or_read_as_a_number_is_still_redacted() -> None:
    assert redact("my social security number is eight seven six five four three two one", "ssn") == (
        "my social security number is [SSN_1]"
    )
    assert redact("it is one two three four five six seven eight nine nine", "ssn") == "it is [SSN_1]"
    spoken = "nine hundred eighty seven million six hundred fifty four thousand three hundred twenty one"
    assert redact(f"my social security number is {spoken}", "ssn") == "my social security number is [SSN_1]"
    # A type that fits better still wins: ten digits are a phone number when phone numbers are redacted.
    assert redact("call five five five one two three four five six seven", "pii") == "call [PHONE_NUMBER_1]"


def test_every_redact_value_the_options_accept_covers_entity_types() -> None:
    assert GROUPS.keys() == REDACT_KINDS
    assert all(GROUPS.values())
