"""`live.words`: a decode's words placed in stream time and trimmed before they join a final."""

from __future__ import annotations

from dataclasses import replace

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word
from openlisten.live.words import after_prefix, cut_between, not_before, shifted, text_of, without_replay
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


def said(text: str, start: float, step: float) -> list[Word]:
    return [Word(t, start + i * step, start + (i + 1) * step, 0.9) for i, t in enumerate(text.split())]


def test_the_earlier_finals_said_again_in_their_own_audio_are_a_replay() -> None:
    """Seen at 8 streams: after the prefix, Whisper said the previous final once more (a word left out),
    aligned into the end of the context, before the final's own speech at 4.6 s."""
    earlier = said("Printing, in the only sense with which we are at present concerned.", 1.0, 0.25)
    replay = said("Printing the only sense with which we are at present", 3.95, 0.0)
    new = words(("Differs", 4.65, 5.1), ("from", 5.1, 5.35), ("most", 5.35, 5.7))
    decoded = [*replay, Word("concerned.", 3.95, 4.19, 0.9), *new]
    assert without_replay(decoded, earlier, 4.6) == new
    # The same words in the final's own speech are the speaker's: a phrase said again, a number read back.
    spoken = [replace(w, start_s=w.start_s + 1.0, end_s=w.end_s + 1.0) for w in decoded]
    assert without_replay(spoken, earlier, 4.6) == spoken
    # Three words, or words that are not the earlier ones, are not a replay.
    assert without_replay(decoded[-6:], earlier, 4.6) == decoded[-6:]
    other = [*said("so we are not at all concerned.", 3.95, 0.0), *new]
    assert without_replay(other, earlier, 4.6) == other
