"""`Audio`: a decoded upload, held as 16-bit samples and read as float32 one piece at a time (`Track`).

Whisper and the VAD want float32, but a long upload held as float32 costs twice what its 16-bit samples do
(a 4-hour mono file: 920 MB instead of 460 MB). So decoded audio is kept as int16, and whatever reads it
takes float32 slices of a `Track` (one channel, or the mix of all) as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SAMPLE_RATE", "Audio", "Track", "to_pcm16"]

#: The rate every decoded sample comes out at: what Whisper models expect.
SAMPLE_RATE = 16000

#: Full scale of int16 samples.
_FULL_SCALE = 32768.0


def to_pcm16(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1] as int16 (rounded, clipped)."""
    scaled: npt.NDArray[np.float32] = np.clip(np.rint(samples * _FULL_SCALE), -_FULL_SCALE, _FULL_SCALE - 1)
    return scaled.astype(np.int16)


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded audio at `SAMPLE_RATE`: int16 samples, shape `(channels, frames)`."""

    pcm: npt.NDArray[np.int16]

    @classmethod
    def from_float(cls, samples: npt.NDArray[np.float32]) -> Audio:
        """Audio from float32 `(channels, frames)` samples in [-1, 1]."""
        return cls(to_pcm16(samples))

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.pcm.shape[0])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return int(self.pcm.shape[1]) / SAMPLE_RATE

    @property
    def samples(self) -> npt.NDArray[np.float32]:
        """All of it as float32 `(channels, frames)` (a copy twice the size: see `track` for long audio)."""
        samples = self.pcm.astype(np.float32)
        samples *= np.float32(1 / _FULL_SCALE)
        return samples

    def track(self, index: int | None) -> Track:
        """Channel `index`, or the mean of the channels when None."""
        return Track(self.pcm, index)

    def mixed(self) -> npt.NDArray[np.float32]:
        """All of the mono mix as float32 (see `track` for long audio)."""
        return self.track(None)[:]

    def channel(self, index: int) -> npt.NDArray[np.float32]:
        """All of one channel as float32 (see `track` for long audio)."""
        return self.track(index)[:]


@dataclass(frozen=True, eq=False)
class Track:
    """One channel of `Audio` (or the mean of its channels), sliced like an array into float32 pieces."""

    pcm: npt.NDArray[np.int16]
    #: The channel, or None for the mean of all channels.
    index: int | None = None

    def __len__(self) -> int:
        return int(self.pcm.shape[1])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self) / SAMPLE_RATE

    def __getitem__(self, key: slice) -> npt.NDArray[np.float32]:
        """Float32 samples of `key`, a slice of sample indices."""
        if self.index is not None:
            rows = self.pcm[self.index, key].astype(np.float32)
        elif self.pcm.shape[0] == 1:
            rows = self.pcm[0, key].astype(np.float32)
        else:
            rows = self.pcm[:, key].mean(axis=0, dtype=np.float32)
        rows *= np.float32(1 / _FULL_SCALE)
        return rows
