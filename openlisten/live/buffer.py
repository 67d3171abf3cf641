"""`SampleBuffer`: the recent samples of a live channel, addressed by their index in the stream."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from openlisten.audio import SAMPLE_RATE

__all__ = ["SampleBuffer"]


class SampleBuffer:
    """The recent samples of a stream, addressed by absolute sample index; appends amortized O(1)."""

    def __init__(self) -> None:
        self._data = np.zeros(SAMPLE_RATE * 4, dtype=np.float32)
        self.start = 0  # absolute index of self._data[0]
        self._length = 0

    @property
    def end(self) -> int:
        """Absolute index one past the last sample."""
        return self.start + self._length

    def append(self, samples: npt.NDArray[np.float32]) -> None:
        needed = self._length + len(samples)
        if needed > len(self._data):
            grown = np.zeros(max(needed, 2 * len(self._data)), dtype=np.float32)
            grown[: self._length] = self._data[: self._length]
            self._data = grown
        self._data[self._length : needed] = samples
        self._length = needed

    def slice(self, first: int, last: int) -> npt.NDArray[np.float32]:
        """A copy of samples [first, last) (clipped to what is kept)."""
        first, last = max(first, self.start), min(last, self.end)
        return self._data[first - self.start : max(first, last) - self.start].copy()

    def drop_before(self, sample: int) -> None:
        """Forget samples before `sample`; moves memory only once a second's worth can go."""
        drop = min(sample, self.end) - self.start
        if drop < SAMPLE_RATE:
            return
        self._data[: self._length - drop] = self._data[drop : self._length]
        self.start += drop
        self._length -= drop
