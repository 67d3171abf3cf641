"""Profanity filter (features/profanity.py)."""

from __future__ import annotations

from openlisten.features.profanity import filter_profanity, is_profane
from tests.features.helpers import text, words


def test_profanity_is_masked_letter_for_letter() -> None:
    filtered = filter_profanity(words("This is bullshit, you asshole."))
    assert text(filtered) == "This is ********, you *******."
    assert [w.word for w in filtered] == ["this", "is", "********", "you", "*******"]


def test_times_and_confidence_stay() -> None:
    original = words("shit happens")
    filtered = filter_profanity(original)
    assert (filtered[0].start_s, filtered[0].end_s, filtered[0].confidence) == (0.0, 0.4, 0.9)


def test_everyday_words_are_not_masked() -> None:
    for word in ["kill", "god", "organ", "vodka", "hello", "class", "assess", "scunthorpe"]:
        assert not is_profane(word), word
    for word in ["fuck", "fucking", "shit", "bitch", "cunt", "asshole"]:
        assert is_profane(word), word
