"""Find and replace (features/replace.py)."""

from __future__ import annotations

import pytest

from openlisten.features.replace import replace_terms
from tests.features.helpers import text, words


def test_replaces_a_word_keeping_punctuation() -> None:
    assert text(replace_terms(words("I met monika, yesterday."), [("monika", "Monica")])) == "I met Monica, yesterday."


def test_phrase_becomes_several_words_sharing_the_time() -> None:
    replaced = replace_terms(words("our kpis grew"), [("kpis", "Key Performance Indicators")])
    assert [w.word for w in replaced] == ["our", "Key", "Performance", "Indicators", "grew"]
    key, performance, indicators = replaced[1:4]
    assert key.start_s == 0.5 and indicators.end_s == pytest.approx(0.9)
    assert performance.start_s == pytest.approx(key.end_s)


def test_multi_word_find_and_delete() -> None:
    assert text(replace_terms(words("so uh you know it works"), [("you know", ""), ("uh", "")])) == "so it works"


def test_deleting_the_last_word_of_a_sentence_keeps_its_full_stop() -> None:
    assert text(replace_terms(words("It works, okay. Next"), [("okay", "")])) == "It works. Next"


def test_lower_case_find_ignores_case_and_capitalized_find_takes_precedence() -> None:
    spoken = words("It was it")
    assert text(replace_terms(spoken, [("it", "the monster")])) == "the monster was the monster"
    both = replace_terms(spoken, [("it", "the monster"), ("It", "The monster")])
    assert text(both) == "The monster was the monster"


def test_no_rules_no_change() -> None:
    spoken = words("hello there")
    assert replace_terms(spoken, []) == spoken
