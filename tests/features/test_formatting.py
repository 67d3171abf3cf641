from __future__ import annotations

import pytest

from openlisten.engine.types import Word
from openlisten.features.formatting import FormatOptions, format_words, join_transcript
from openlisten.transcript import TranscriptWord

PUNCTUATE = FormatOptions(punctuate=True)
SMART = FormatOptions(smart_format=True)
NUMERALS = FormatOptions(numerals=True)


def words_of(text: str) -> list[Word]:
    """Whisper-style words, one per space-separated piece: 0.5 s apart, 0.4 s long, confidence 0.9."""
    return [Word(" " + piece, index * 0.5, index * 0.5 + 0.4, 0.9) for index, piece in enumerate(text.split())]


def transcript(text: str, options: FormatOptions) -> str:
    return join_transcript(format_words(words_of(text), options), options)


def forms(text: str, options: FormatOptions) -> list[tuple[str, str]]:
    return [(word.word, word.punctuated_word) for word in format_words(words_of(text), options)]


# Plain words.


def test_plain_words_are_lower_case_without_punctuation() -> None:
    words = format_words(words_of("Hello, world! Don't stop twenty-five."), FormatOptions())

    assert words == [
        TranscriptWord("hello", "hello", 0.0, 0.4, 0.9),
        TranscriptWord("world", "world", 0.5, 0.9, 0.9),
        TranscriptWord("don't", "don't", 1.0, 1.4, 0.9),
        TranscriptWord("stop", "stop", 1.5, 1.9, 0.9),
        TranscriptWord("twenty-five", "twenty-five", 2.0, 2.4, 0.9),
    ]
    assert join_transcript(words, FormatOptions()) == "hello world don't stop twenty-five"


def test_bare_punctuation_is_dropped() -> None:
    assert forms("So - it was ... fine", FormatOptions()) == [(w, w) for w in ["so", "it", "was", "fine"]]


def test_digit_group_commas_leave_the_plain_word() -> None:
    assert forms("About 1,455. People", SMART) == [("about", "About"), ("1455", "1,455."), ("people", "People")]


def test_numerals_alone_writes_digits_without_punctuation() -> None:
    words = format_words(words_of("I counted twenty five, then nine hundred."), NUMERALS)

    assert [(word.word, word.punctuated_word) for word in words] == [
        ("i", "i"),
        ("counted", "counted"),
        ("25", "25"),
        ("then", "then"),
        ("900", "900"),
    ]
    assert (words[2].start_s, words[2].end_s) == (1.0, 1.9)
    assert join_transcript(words, NUMERALS) == "i counted 25 then 900"


# Punctuation.


def test_punctuate_keeps_whispers_text() -> None:
    words = format_words(words_of("Hello, world! Don't stop."), PUNCTUATE)

    assert [(word.word, word.punctuated_word) for word in words] == [
        ("hello", "Hello,"),
        ("world", "world!"),
        ("don't", "Don't"),
        ("stop", "stop."),
    ]
    assert join_transcript(words, PUNCTUATE) == "Hello, world! Don't stop."


def test_punctuate_capitalizes_sentence_starts() -> None:
    assert transcript('well, okay. then we go? yes! "quoted." next', PUNCTUATE) == (
        'Well, okay. Then we go? Yes! "Quoted." Next'
    )


def test_an_ellipsis_does_not_start_a_sentence() -> None:
    assert transcript("I was... going home.", PUNCTUATE) == "I was... going home."


def test_whitespace_inside_a_word_splits_it() -> None:
    words = format_words([Word("\u00a0New\tYork. ", 1.0, 2.0, 0.5)], PUNCTUATE)

    assert words == [TranscriptWord("new", "New", 1.0, 2.0, 0.5), TranscriptWord("york", "York.", 1.0, 2.0, 0.5)]


# Smart format.


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("I saw twelve cats.", "I saw 12 cats."),
        ("I saw one dog and five cats.", "I saw one dog and five cats."),
        ("Twenty-five people came.", "25 people came."),
        ("One thousand four hundred fifty five people.", "1455 people."),
        ("About nine hundred.", "About 900."),
        ("It rose three point five degrees.", "It rose 3.5 degrees."),
        ("On the twenty first of May.", "On the 21st of May."),
        ("The first time.", "The first time."),
        ("In nineteen ninety nine, we met.", "In 1999, we met."),
        ("Since twenty twenty four.", "Since 2024."),
        ("A hundred people.", "A hundred people."),
        ("Twenty five, thirty six.", "25, 36."),
        ("It was twenty five percent.", "It was 25%."),
        ("Five percent of them.", "5% of them."),
        ("It cost five dollars, then ten.", "It cost $5, then 10."),
        ("Pay twenty dollars and fifty cents now.", "Pay $20.50 now."),
        ("Pay one dollar five cents.", "Pay $1.05."),
        ("It was 1,000 dollars and ten cents.", "It was $1,000.10."),
        ("Already 25 percent.", "Already 25%."),
        ("Twelve apples. eleven pears.", "12 apples. 11 pears."),
    ],
)
def test_smart_format_writes_entities(spoken: str, written: str) -> None:
    assert transcript(spoken, SMART) == written


def test_a_merged_token_spans_its_words() -> None:
    words = format_words(
        [
            Word(" It", 0.0, 0.2, 0.9),
            Word(" was", 0.2, 0.4, 0.9),
            Word(" twenty", 0.5, 0.8, 0.8),
            Word(" five", 0.8, 1.0, 0.6),
            Word(" percent.", 1.0, 1.5, 0.7),
        ],
        SMART,
    )

    assert words[2] == TranscriptWord("25", "25%.", 0.5, 1.5, 0.6)


def test_smart_format_keeps_plain_words_for_word() -> None:
    assert forms("Twenty dollars, please.", SMART) == [("20", "$20,"), ("please", "please.")]


# Numbers Whisper wrote in digits.


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("It cost $250", "it cost two hundred fifty dollars"),
        ("About 25% of them", "about twenty five percent of them"),
        ("The 16th floor", "the sixteenth floor"),
        ("In 1999 we met", "in nineteen ninety nine we met"),
        ("It cost 1999 dollars", "it cost one thousand nine hundred ninety nine dollars"),
        ("In 2000", "in two thousand"),
        ("It rose 3.5 degrees", "it rose three point five degrees"),
        ("About 1,455 people", "about one thousand four hundred fifty five people"),
        ("Pay $20.50 now", "pay twenty dollars fifty cents now"),
        ("A $5 million deal", "a five million dollars deal"),
        ("The 1990s", "the nineteen nineties"),
    ],
)
def test_unformatted_numbers_are_spoken(written: str, spoken: str) -> None:
    assert transcript(written, FormatOptions()) == spoken


def test_a_spelled_number_shares_its_tokens_time() -> None:
    words = format_words([Word(" for", 0.5, 0.9, 0.9), Word(" $250,", 1.0, 2.0, 0.8)], FormatOptions())

    assert words == [
        TranscriptWord("for", "for", 0.5, 0.9, 0.9),
        TranscriptWord("two", "two", 1.0, 1.25, 0.8),
        TranscriptWord("hundred", "hundred", 1.25, 1.5, 0.8),
        TranscriptWord("fifty", "fifty", 1.5, 1.75, 0.8),
        TranscriptWord("dollars", "dollars", 1.75, 2.0, 0.8),
    ]


def test_punctuate_spells_numbers_with_punctuation_and_capitals() -> None:
    words = format_words(words_of("The invoice was for $250, due in 25 days. 16th place."), PUNCTUATE)

    assert join_transcript(words, PUNCTUATE) == (
        "The invoice was for two hundred fifty dollars, due in twenty five days. Sixteenth place."
    )
    assert [(word.word, word.punctuated_word) for word in words[4:8]] == [
        ("two", "two"),
        ("hundred", "hundred"),
        ("fifty", "fifty"),
        ("dollars", "dollars,"),
    ]


def test_a_spelled_number_starting_a_sentence_is_capitalized() -> None:
    assert transcript("25% agreed. ($20.50) was the fee.", PUNCTUATE) == (
        "Twenty five percent agreed. (Twenty dollars fifty cents) was the fee."
    )


def test_a_scale_after_money_is_read_before_the_currency() -> None:
    words = format_words([Word(" $5", 0.0, 0.4, 0.9), Word(" million.", 0.4, 0.6, 0.7)], PUNCTUATE)

    assert [word.punctuated_word for word in words] == ["Five", "million", "dollars."]
    assert [(word.start_s, word.end_s) for word in words] == [
        pytest.approx((0.0, 0.2)),
        pytest.approx((0.2, 0.4)),
        pytest.approx((0.4, 0.6)),
    ]
    assert {word.confidence for word in words} == {0.7}


def test_numbers_that_cannot_be_read_are_left_as_written() -> None:
    assert transcript("$ 1.2.3 v2 100k 3/4 24/7 ½ %", FormatOptions()) == "1.2.3 v2 100k 3/4 24/7 ½"


def test_numerals_keep_currency_and_percent_signs() -> None:
    words = format_words(words_of("I paid $250, or 25%. Then twenty five."), NUMERALS)

    assert [(word.word, word.punctuated_word) for word in words] == [
        ("i", "i"),
        ("paid", "paid"),
        ("250", "$250"),
        ("or", "or"),
        ("25", "25%"),
        ("then", "then"),
        ("25", "25"),
    ]
    assert join_transcript(words, NUMERALS) == "i paid $250 or 25% then 25"


def test_smart_format_keeps_whispers_digits() -> None:
    assert forms("I paid $250, or 25%. In 1999.", SMART) == [
        ("i", "I"),
        ("paid", "paid"),
        ("250", "$250,"),
        ("or", "or"),
        ("25", "25%."),
        ("in", "In"),
        ("1999", "1999."),
    ]


# Filler words.


def test_fillers_are_dropped_by_default() -> None:
    assert transcript("Um, so, uh, we went. Uh-huh. Mm-hmm, hmm, er, ah, yes.", PUNCTUATE) == "So, we went. Yes."


def test_a_dropped_filler_leaves_its_sentence_end_behind() -> None:
    assert transcript("I think, um. Do you, uh?", PUNCTUATE) == "I think. Do you?"


def test_fillers_are_kept_when_asked_for() -> None:
    options = FormatOptions(punctuate=True, filler_words=True)

    assert transcript("Um, so, uh, we went.", options) == "Um, so, uh, we went."


# Odd input.


MESSY_INPUTS = [
    [],
    [Word("", 0.0, 0.0, 0.0)],
    [Word(" ...", 0.0, 1.0, 0.5), Word(" -", 1.0, 2.0, 0.5), Word(" ?!", 2.0, 3.0, 0.5)],
    [Word(" Um.", 0.0, 0.1, 0.5)],
    [
        Word(" \u00bfQu\u00e9?", 0.0, 0.5, 0.5),
        Word(" \u6771\u4eac\u3002", 0.5, 0.4, 0.5),
        Word("\u200b", 0.6, 0.7, 0.1),
    ],
    [Word(" five", 2.0, 2.5, 0.9), Word(" twenty", 0.0, 0.5, 0.9), Word(" dollars", 1.0, 0.5, 0.9)],
    [Word(" and", 0.0, 0.1, 0.9), Word(" point", 0.1, 0.2, 0.9), Word(" hundred", 0.2, 0.3, 0.9)],
    [Word(" nineteen", 0.0, 0.1, 0.9), Word(' "ninety', 0.1, 0.2, 0.9), Word(" dollars.", 0.2, 0.3, 0.9)],
    [Word(" one-two-three-four-five-six-seven-eight-nine-ten-eleven-twelve-thirteen", 0.0, 1.0, 0.9)] * 3,
    [Word(" \n\t ", 0.0, 1.0, 0.9), Word(" Twenty\u00a0five\u00a0percent", 1.0, 2.0, 0.9), Word(" and", 2.0, 3.0, 0.9)],
    [Word(" $1,250.50,", 0.0, 1.0, 0.9), Word(" 25%", 0.2, 0.3, 0.9), Word(" 1999.", 0.25, 0.2, 0.9)],
    [Word(" $5", 0.0, 1.0, 0.9), Word(" million", 0.5, 0.6, 0.9), Word(" 16th", 0.55, 2.0, 0.9)],
    [Word(f" {odd}", index, index + 0.5, 0.9) for index, odd in enumerate(["$", "%", "1.2.3", "v2", "100k", "½"])],
]
ALL_OPTIONS = [
    FormatOptions(punctuate=punctuate, smart_format=smart, numerals=numerals, filler_words=fillers)
    for punctuate in (False, True)
    for smart in (False, True)
    for numerals in (False, True)
    for fillers in (False, True)
]


@pytest.mark.parametrize("options", ALL_OPTIONS)
@pytest.mark.parametrize("words", MESSY_INPUTS)
def test_messy_input_gives_ordered_non_empty_words(words: list[Word], options: FormatOptions) -> None:
    formatted = format_words(words, options)

    assert all(word.word and word.punctuated_word for word in formatted)
    assert all(word.start_s <= word.end_s for word in formatted)
    assert [word.start_s for word in formatted] == sorted(word.start_s for word in formatted)
    assert isinstance(join_transcript(formatted, options), str)
