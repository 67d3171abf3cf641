"""`FakeRecognizer`: instant, scripted words, for tests of the plumbing around the engine."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openlisten.audio import SAMPLE_RATE
from openlisten.engine.recognizer import Recognition, RecognitionOptions
from openlisten.engine.types import Segment, Word

__all__ = ["FakeRecognizer"]


class FakeRecognizer:
    """Says `text` over any audio that is not silent, one word every 0.3 s."""

    def __init__(self, text: str = "Hello, world.") -> None:
        self.text = text
        self.calls: list[tuple[int, RecognitionOptions]] = []

    def recognize(self, samples: np.ndarray, options: RecognitionOptions) -> Recognition:
        self.calls.append((len(samples), options))
        duration = len(samples) / SAMPLE_RATE
        loud = bool(np.abs(samples).max(initial=0.0) > 1e-3)
        segments: Sequence[Segment] = [_segment(self.text.split(), duration)] if loud else []
        return Recognition(iter(segments), duration, options.language or "en", 1.0)


def _segment(texts: list[str], duration: float) -> Segment:
    step = min(0.3, duration / max(len(texts), 1))
    words = tuple(Word(t, i * step, (i + 1) * step, 0.9) for i, t in enumerate(texts))
    return Segment(words, 0.0, len(texts) * step)
