"""`FinalsContext`: where a live decode starts and the words forced as its prefix."""

from __future__ import annotations

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word
from openlisten.live.context import FinalsContext

S = SAMPLE_RATE


def words(*timed: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end, 0.9) for text, start, end in timed]


def context() -> FinalsContext:
    return FinalsContext(max_decode=20 * S, pre_roll=S * 3 // 10)


def test_with_no_final_before_it_a_decode_starts_at_its_audio_with_no_prefix() -> None:
    assert context().around(5 * S, 7 * S, 10.0, kept=0) == (5 * S, [])


def test_the_prefix_is_every_word_of_the_finals_in_reach_from_just_before_the_first_word() -> None:
    finals = context()
    first, second = words(("one", 2.0, 2.4), ("two", 2.5, 2.9)), words(("three", 4.1, 4.6))
    finals.add(S, 3 * S, first)
    finals.add(3 * S, 5 * S, second)
    origin, prefix = finals.around(5 * S, 8 * S, 10.0, kept=0)
    assert prefix == [*first, *second]
    assert origin == round(1.7 * S)  # the first word less the pre-roll, not the final's leading silence


def test_a_final_that_began_before_the_reach_gives_only_its_words_from_there_on() -> None:
    finals = context()
    said = words(("one", 0.5, 0.9), ("two", 3.0, 3.4), ("three", 6.0, 6.5))
    finals.add(0, 7 * S, said)
    origin, prefix = finals.around(7 * S, 9 * S, 5.0, kept=0)  # reach: 2 s
    assert prefix == said[1:]
    assert origin == round((0.9 + 3.0) / 2 * S)  # between the word left out and the first one kept


def test_a_decode_starting_where_a_final_ended_hears_at_least_its_last_word_again() -> None:
    finals = context()
    said = words(("one", 0.5, 0.9), ("two", 1.0, 2.95))  # "two" may be cut by the final's end at 3 s
    finals.add(0, 3 * S, said)
    origin, prefix = finals.around(3 * S, 4 * S, 0.5, kept=0)
    assert prefix == said[1:]
    assert origin <= S


def test_finals_before_the_audio_kept_are_forgotten() -> None:
    finals = context()
    finals.add(0, 2 * S, words(("gone", 0.5, 0.9)))
    finals.add(2 * S, 4 * S, words(("kept", 2.5, 2.9)))
    finals.forget_before(S)
    origin, prefix = finals.around(4 * S, 5 * S, 10.0, kept=S)
    assert [w.text for w in prefix] == ["kept"]
    assert origin == round(2.2 * S)
