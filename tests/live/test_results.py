"""`ResultsWriter`: a live channel's words made into Results, and what one final tells the next."""

from __future__ import annotations

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.types import Word
from openlisten.features.live import LiveFeatures
from openlisten.live.results import ResultsWriter
from tests.features.test_live import options

S = SAMPLE_RATE


def spoken(text: str, offset_s: float = 0.0) -> list[Word]:
    """Words as the decoder gives them (stripped), one per 0.5 s from `offset_s`."""
    return [Word(piece, offset_s + i * 0.5, offset_s + i * 0.5 + 0.4, 0.9) for i, piece in enumerate(text.split())]


def writer(query: str = "punctuate=true") -> ResultsWriter:
    return ResultsWriter(1, 2, LiveFeatures(options(query)))


def test_a_final_carries_its_span_its_channel_and_its_words_kept_inside_the_span() -> None:
    said = [Word("hello", 0.9, 1.4, 0.8), Word("world.", 1.5, 2.6, 0.6)]
    results = writer().write(S, 5 * S // 2, said, is_final=True, speech_final=True)
    assert (results.channel, results.channels, results.start_s, results.duration_s) == (1, 2, 1.0, 1.5)
    assert results.is_final and results.speech_final and not results.from_finalize
    assert results.transcript == "Hello world."
    assert [(w.start_s, w.end_s) for w in results.words] == [(1.0, 1.4), (1.5, 2.5)]
    assert results.confidence == 0.7


def test_a_final_continuing_a_sentence_is_not_capitalized_and_an_interim_changes_nothing() -> None:
    results = writer()
    results.write(0, 2 * S, spoken("my number is"), is_final=True)
    assert results.last_word_end == 1.4
    interim = results.write(2 * S, 3 * S, spoken("four.", 2.0), is_final=False)
    assert interim.transcript == "four." and interim.search is None
    assert results.last_word_end == 1.4
    assert results.write(2 * S, 3 * S, spoken("four.", 2.0), is_final=True).transcript == "four."
    assert results.write(3 * S, 4 * S, spoken("thanks", 3.0), is_final=True).transcript == "Thanks"


def test_a_final_without_words_keeps_what_the_last_one_said() -> None:
    results = writer()
    results.write(0, S, spoken("yes"), is_final=True)
    empty = results.write(S, 2 * S, [], is_final=True)
    assert empty.transcript == "" and empty.confidence == 0.0
    assert results.last_word_end == 0.4
