"""`AudioLimits`: what one upload or one live stream may make the server hold, checked before samples exist.

A few bytes can declare hours of audio (a 1 Hz WAV header, FLAC blocks of silence), so every bound is
checked on what the bytes *declare* (the sample rate, the container's duration) and on the samples
decoded so far at their own rate, before they are resampled to 16 kHz; never on the resampled output.
Durations count every channel: 32 channels of five minutes hold as many samples as 160 minutes of mono.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openlisten.errors import AudioDecodeError, PayloadTooLarge

__all__ = ["MAX_SAMPLE_RATE", "MIN_SAMPLE_RATE", "AudioLimits"]

#: Lowest sample rate taken for speech by default: telephone audio (G.711, AMR-NB) is 8 kHz, and below
#: it there is no intelligible speech, only a way to turn each byte into thousands of 16 kHz samples.
MIN_SAMPLE_RATE = 8000
#: Highest sample rate: studio audio goes to 192 kHz; above that no speech recording exists.
MAX_SAMPLE_RATE = 192_000


@dataclass(frozen=True)
class AudioLimits:
    """Bounds on one request's or one stream's audio; a violation is a 400 (rates) or a 413 (duration)."""

    #: Seconds of audio summed over the channels.
    max_channel_seconds: float = math.inf
    min_sample_rate: int = MIN_SAMPLE_RATE
    max_sample_rate: int = MAX_SAMPLE_RATE

    def check_rate(self, sample_rate: int, what: str = "the audio") -> None:
        """Refuse a sample rate outside [`min_sample_rate`, `max_sample_rate`]."""
        if not self.min_sample_rate <= sample_rate <= self.max_sample_rate:
            raise AudioDecodeError(
                f"failed to process audio: {what} is sampled at {sample_rate} Hz; this server takes "
                f"{self.min_sample_rate} to {self.max_sample_rate} Hz"
            )

    def check_duration(self, seconds: float, channels: int) -> None:
        """Refuse audio of `seconds` per channel once its channel-seconds pass `max_channel_seconds`."""
        if seconds * channels > self.max_channel_seconds:
            over = f"{seconds:.0f} s" if channels == 1 else f"{seconds:.0f} s × {channels} channels"
            raise PayloadTooLarge(
                f"the audio is longer than this server's limit of {self.max_channel_seconds:.0f} s "
                f"(summed over channels): it holds at least {over}"
            )
