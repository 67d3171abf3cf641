"""`FakePackedDecoder`: instant, scripted words for decode items, for tests of the plumbing around the decoder."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.packed_decoder import DecodeItem, DecodeResult
from openlisten.engine.types import Word

__all__ = ["FakePackedDecoder"]

#: Samples per loudness frame (20 ms).
_FRAME = SAMPLE_RATE // 50


class FakePackedDecoder:
    """Says the words of `text` over the loud part of each item, one every `word_s`, after the item's prefix,
    and hears the `languages` it is given (English alone by default).

    A `Decoder`: every item runs at once. `runs` records what each run was asked.
    """

    def __init__(
        self,
        text: str = "hello world",
        *,
        word_s: float = 0.3,
        threshold: float = 0.01,
        languages: Sequence[tuple[str, float]] = (("en", 1.0),),
    ) -> None:
        self.words = text.split()
        self.word_s = word_s
        self.threshold = threshold
        self.languages = list(languages)
        self.runs: list[list[DecodeItem]] = []

    def language_probabilities(self, samples: np.ndarray) -> list[tuple[str, float]]:
        return self.languages

    def plan(self, items: Sequence[DecodeItem]) -> list[int]:
        return list(range(len(items)))

    def run(self, items: Sequence[DecodeItem]) -> Iterator[tuple[int, DecodeResult] | None]:
        self.runs.append(list(items))
        for index, item in enumerate(items):
            yield index, DecodeResult(self._words(item))

    def _words(self, item: DecodeItem) -> tuple[Word, ...]:
        frames = len(item.samples) // _FRAME
        if frames == 0:
            return ()
        rms = np.sqrt(np.mean(np.square(item.samples[: frames * _FRAME].reshape(frames, _FRAME)), axis=1))
        loud = np.flatnonzero(rms > self.threshold)
        if len(loud) == 0:
            return ()
        first_s, last_s = loud[0] * _FRAME / SAMPLE_RATE, (loud[-1] + 1) * _FRAME / SAMPLE_RATE
        said = [
            Word(text, round(first_s + i * self.word_s, 3), round(first_s + (i + 1) * self.word_s, 3), 0.9)
            for i, text in enumerate(self.words)
            if first_s + (i + 1) * self.word_s <= last_s + 1e-9
        ]
        return tuple(said[len(item.prefix.split()) :])
