"""Deepgram's ``utterances``: a channel's words split at pauses of ``utt_split`` seconds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from statistics import fmean

from openlisten.transcript import TranscriptWord, Utterance

__all__ = ["DEFAULT_UTT_SPLIT_S", "split_utterances"]

#: Deepgram's default silence that ends an utterance (spec/listen-v1.md §3.2).
DEFAULT_UTT_SPLIT_S = 0.8


def split_utterances(
    words: Sequence[TranscriptWord], channel: int, utt_split_s: float = DEFAULT_UTT_SPLIT_S
) -> list[Utterance]:
    """Utterances of one channel's words: a new one starts after `utt_split_s` of silence or a new speaker."""
    return [_utterance(group, channel) for group in _groups(words, utt_split_s)]


def _groups(words: Sequence[TranscriptWord], utt_split_s: float) -> Iterator[list[TranscriptWord]]:
    group: list[TranscriptWord] = []
    for word in words:
        if group and (word.start_s - group[-1].end_s >= utt_split_s or word.speaker != group[-1].speaker):
            yield group
            group = []
        group.append(word)
    if group:
        yield group


def _utterance(words: list[TranscriptWord], channel: int) -> Utterance:
    return Utterance(
        id=str(uuid.uuid4()),
        channel=channel,
        words=tuple(words),
        transcript=" ".join(w.punctuated_word for w in words),
        confidence=round(fmean(w.confidence for w in words), 4),
        start_s=words[0].start_s,
        end_s=words[-1].end_s,
        speaker=words[0].speaker,
    )
