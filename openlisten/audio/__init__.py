"""Audio in, float32 samples at 16 kHz out: containers, raw encodings and live streams.

`decode_audio` decodes a whole body; `StreamDecoder` decodes live audio that arrives in arbitrary pieces.
Both keep every channel apart and raise `AudioDecodeError` for bytes they cannot decode.
"""

from __future__ import annotations

from openlisten.audio.decode import decode_audio
from openlisten.audio.limits import AudioLimits
from openlisten.audio.raw import RawFormat
from openlisten.audio.samples import SAMPLE_RATE, Audio, Track
from openlisten.audio.stream import StreamDecoder

__all__ = ["SAMPLE_RATE", "Audio", "AudioLimits", "RawFormat", "StreamDecoder", "Track", "decode_audio"]
