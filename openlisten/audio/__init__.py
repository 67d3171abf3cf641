"""Audio in, float32 samples at 16 kHz out: containers, raw encodings and live streams.

`decode_audio` decodes a whole body; `StreamDecoder` decodes live audio that arrives in arbitrary pieces.
Both keep every channel apart and raise `AudioDecodeError` for bytes they cannot decode.
"""

from __future__ import annotations

from openlisten.audio.decode import SAMPLE_RATE, Audio, decode_audio
from openlisten.audio.raw import RawFormat
from openlisten.audio.stream import StreamDecoder

__all__ = ["SAMPLE_RATE", "Audio", "RawFormat", "StreamDecoder", "decode_audio"]
