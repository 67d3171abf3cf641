"""`live.words`: a decode's words placed in stream time and trimmed before they join a final."""

from __future__ import annotations

from openlisten.audio import SAMPLE_RATE
from openlisten.live.words import after_prefix, cut_between, not_before, shifted, text_of
from tests.live.test_context import words

S = SAMPLE_RATE


def test_words_are_shifted_to_stream_time_and_joined_as_a_prefix() -> None:
    said = words(("Hello,", 0.2, 0.5), ("world.", 0.6, 1.0))
    assert shifted(said, 2 * S) == words(("Hello,", 2.2, 2.5), ("world.", 2.6, 3.0))
    assert text_of(said) == "Hello, world."


def test_the_prefix_s_last_words_said_again_in_its_audio_are_an_echo() -> None:
    prefix = words(("ask", 1.0, 1.3), ("not.", 1.4, 1.8))
    decoded = words(("Ask", 1.0, 1.3), ("not", 1.4, 1.8), ("what", 2.1, 2.4))
    assert after_prefix(decoded, prefix, 2 * S) == decoded[2:]
    assert after_prefix(decoded[1:], prefix, 2 * S) == decoded[2:]


def test_the_same_words_after_the_final_s_end_are_said_again_by_the_speaker() -> None:
    prefix = words(("no", 1.0, 1.3))
    decoded = words(("no", 2.2, 2.5), ("thanks", 2.6, 3.0))
    assert after_prefix(decoded, prefix, 2 * S) == decoded
    assert after_prefix(decoded, [], 2 * S) == decoded


def test_a_first_word_stretched_over_the_silence_before_its_speech_starts_at_the_earliest() -> None:
    decoded = words(("so", 0.1, 2.3), ("then", 2.4, 2.7))
    assert not_before(decoded, 2 * S, 1.7) == words(("so", 1.7, 2.3), ("then", 2.4, 2.7))
    before = words(("done", 0.1, 0.5))  # ends before that speech: its own
    assert not_before(before, 2 * S, 1.7) == before


def test_confirmed_words_end_their_final_midway_to_the_next_word_within_bounds() -> None:
    said = words(("one", 1.0, 1.4), ("two", 1.6, 2.0))
    assert cut_between(said, 1, 0, 10 * S) == round(1.5 * S)
    assert cut_between(said, 2, 0, 10 * S) == 2 * S  # the last: at its end
    assert cut_between(said, 1, 0, S) == S
    assert cut_between(words(("a", 1.0, 1.4), ("b", 1.3, 1.8)), 1, 0, 10 * S) == round(1.4 * S)  # overlapping
