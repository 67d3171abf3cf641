"""Utterances and paragraphs from hand-built words."""

from __future__ import annotations

from openlisten.features.paragraphs import build_paragraphs
from openlisten.features.utterances import split_utterances
from openlisten.transcript import TranscriptWord


def words(spec: str, speaker: int | None = None) -> list[TranscriptWord]:
    """``"Hello,@0.0 world.@0.4"``: punctuated words with their start times; each lasts 0.3 s."""
    out = []
    for item in spec.split():
        text, _, start = item.partition("@")
        plain = text.strip(",.?!").lower()
        out.append(TranscriptWord(plain, text, float(start), float(start) + 0.3, 0.9, speaker=speaker))
    return out


def test_utterances_split_at_pauses() -> None:
    utterances = split_utterances(words("Hello,@0.0 world.@0.4 How@2.0 are@2.3 you?@2.6"), channel=1)
    assert [u.transcript for u in utterances] == ["Hello, world.", "How are you?"]
    assert [(u.start_s, u.end_s) for u in utterances] == [(0.0, 0.7), (2.0, 2.9)]
    assert {u.channel for u in utterances} == {1}
    assert len({u.id for u in utterances}) == 2


def test_utt_split_is_honoured() -> None:
    spec = "one@0.0 two@1.0 three@1.4"
    # The gaps are 0.7 s and 0.1 s.
    assert len(split_utterances(words(spec), 0, utt_split_s=0.8)) == 1
    assert len(split_utterances(words(spec), 0, utt_split_s=0.5)) == 2
    assert len(split_utterances(words(spec), 0, utt_split_s=0.05)) == 3


def test_utterances_split_at_speaker_changes() -> None:
    mixed = words("Hi.@0.0", speaker=0) + words("Hello.@0.4", speaker=1)
    assert [u.speaker for u in split_utterances(mixed, 0)] == [0, 1]


def test_no_words_no_utterances() -> None:
    assert split_utterances([], 0) == []


def test_paragraphs_text_and_sentences() -> None:
    paragraphs = build_paragraphs(words("Hello,@0.0 world.@0.4 Call@0.8 me@1.1 tomorrow.@1.4 New@5.0 topic.@5.3"))
    assert paragraphs.transcript == "\nHello, world. Call me tomorrow.\n\nNew topic."
    first, second = paragraphs.paragraphs
    assert [s.text for s in first.sentences] == ["Hello, world.", "Call me tomorrow."]
    assert (first.start_s, first.end_s, first.num_words) == (0.0, 1.7, 5)
    assert second.num_words == 2 and second.speaker is None


def test_paragraphs_with_speakers_are_labelled() -> None:
    spoken = words("Hello,@0.0 world.@0.4", speaker=0) + words("Call@1.0 me@1.3 tomorrow.@1.6", speaker=1)
    paragraphs = build_paragraphs(spoken)
    assert paragraphs.transcript == "\nSpeaker 0: Hello, world.\n\nSpeaker 1: Call me tomorrow."
    assert [p.speaker for p in paragraphs.paragraphs] == [0, 1]


def test_unpunctuated_tail_is_a_sentence() -> None:
    paragraphs = build_paragraphs(words("and@0.0 then@0.3"))
    assert paragraphs.transcript == "\nand then"
    assert build_paragraphs([]).transcript == ""
