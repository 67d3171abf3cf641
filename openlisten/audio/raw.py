"""Raw audio: the declared `encoding` (spec/listen-v1.md §3.2, §5.2), PCM sample decoding and WAV headers.

PCM bytes become float32 samples here, at their own sample rate; `decode.py` resamples them. G.711 is
decoded with lookup tables built from the ITU-T G.711 formulas, so mu-law and A-law are exact.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from openlisten.errors import AudioDecodeError, InvalidParameter, UnsupportedEncoding

__all__ = [
    "CODEC_ENCODINGS",
    "ENCODINGS",
    "PCM_ENCODINGS",
    "PcmFormat",
    "RawFormat",
    "WavHeader",
    "decode_pcm",
    "parse_wav_header",
]

#: Raw encodings that are plain PCM samples, and the sample type each one means.
PCM_ENCODINGS = {"linear16": "s16", "linear32": "s32", "mulaw": "mulaw", "alaw": "alaw"}

#: Raw encodings that are a codec bitstream: the FFmpeg demuxer that reads them and the decoder they need.
#: Deepgram's `opus`, `ogg-opus` and `speex` are Ogg files; `amr-*` may carry the RFC 4867 `#!AMR` header.
CODEC_ENCODINGS = {
    "flac": ("flac", "flac"),
    "opus": ("ogg", "opus"),
    "ogg-opus": ("ogg", "opus"),
    "speex": ("ogg", "speex"),
    "amr-nb": ("amrnb", "amrnb"),
    "amr-wb": ("amrwb", "amrwb"),
    "g729": ("g729", "g729"),
}

#: Every encoding name Deepgram defines.
ENCODINGS = frozenset(PCM_ENCODINGS) | frozenset(CODEC_ENCODINGS)

_MIN_RATE, _MAX_RATE = 1000, 384_000
_MAX_CHANNELS = 32

#: Bytes per sample of each sample type.
_SAMPLE_BYTES = {"u8": 1, "s16": 2, "s24": 3, "s32": 4, "f32": 4, "f64": 8, "mulaw": 1, "alaw": 1}


@dataclass(frozen=True)
class RawFormat:
    """Headerless audio as the client declares it with `encoding`, `sample_rate` and `channels`.

    `sample_rate` and `channels` describe PCM encodings; the codec encodings (`flac`, `opus`…) carry
    their own and ignore them (`sample_rate` may be 0 for those: not given).
    """

    #: One of `ENCODINGS`.
    encoding: str
    #: Samples per second per channel, in Hz.
    sample_rate: int
    #: Interleaved channels.
    channels: int = 1

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            names = ", ".join(sorted(ENCODINGS))
            raise UnsupportedEncoding(f"encoding {self.encoding!r} is not supported; use one of {names}")
        if (self.is_pcm or self.sample_rate) and not _MIN_RATE <= self.sample_rate <= _MAX_RATE:
            raise InvalidParameter(f"sample_rate must be between {_MIN_RATE} and {_MAX_RATE}, got {self.sample_rate}")
        if not 1 <= self.channels <= _MAX_CHANNELS:
            raise InvalidParameter(f"channels must be between 1 and {_MAX_CHANNELS}, got {self.channels}")

    @property
    def is_pcm(self) -> bool:
        """Whether the bytes are plain PCM samples (as opposed to a codec bitstream)."""
        return self.encoding in PCM_ENCODINGS

    def pcm(self) -> PcmFormat:
        """The PCM layout of a PCM encoding."""
        return PcmFormat(PCM_ENCODINGS[self.encoding], self.sample_rate, self.channels)


@dataclass(frozen=True)
class PcmFormat:
    """How PCM bytes are laid out: sample type, rate and interleaved channel count."""

    #: One of u8 s16 s24 s32 (little-endian integers), f32 f64 (little-endian floats), mulaw, alaw.
    sample: str
    sample_rate: int
    channels: int

    @property
    def frame_bytes(self) -> int:
        """Bytes in one sample frame (one sample of every channel)."""
        return _SAMPLE_BYTES[self.sample] * self.channels


def _mulaw_table() -> npt.NDArray[np.float32]:
    """ITU-T G.711 mu-law: the value of each of the 256 codes."""
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code >> 4) & 0x07)
    return _scaled(np.where(code & 0x80, 0x84 - magnitude, magnitude - 0x84), 2**15)


def _alaw_table() -> npt.NDArray[np.float32]:
    """ITU-T G.711 A-law: the value of each of the 256 codes (even bits inverted on the wire)."""
    code = np.arange(256, dtype=np.int32) ^ 0x55
    mantissa, segment = code & 0x0F, (code >> 4) & 0x07
    magnitude = np.where(segment == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(segment - 1, 0))
    return _scaled(np.where(code & 0x80, magnitude, -magnitude), 2**15)


def _scaled(integers: npt.NDArray[np.signedinteger[Any]], full_scale: int) -> npt.NDArray[np.float32]:
    """Integers as float32 divided by `full_scale` (float32 all the way: no float64 copy of long audio)."""
    values = integers.astype(np.float32)
    values *= np.float32(1 / full_scale)
    return values


_G711 = {"mulaw": _mulaw_table(), "alaw": _alaw_table()}


def decode_pcm(data: bytes | bytearray | memoryview, pcm: PcmFormat) -> npt.NDArray[np.float32]:
    """Decode whole PCM frames to float32 `(channels, frames)` in [-1, 1]; a trailing partial frame is ignored."""
    frames = len(data) // pcm.frame_bytes
    raw = np.frombuffer(data, dtype=np.uint8, count=frames * pcm.frame_bytes)
    samples = _to_float(raw, pcm.sample)
    return np.ascontiguousarray(samples.reshape(frames, pcm.channels).T)


def _to_float(raw: npt.NDArray[np.uint8], sample: str) -> npt.NDArray[np.float32]:
    """Turn little-endian sample bytes into float32 values, one per sample."""
    if sample in _G711:
        values: npt.NDArray[np.float32] = _G711[sample][raw]
        return values
    if sample == "u8":
        return _scaled(raw.astype(np.int16) - 128, 2**7)
    if sample == "s16":
        return _scaled(raw.view("<i2"), 2**15)
    if sample == "s24":
        wide = np.zeros((raw.size // 3, 4), dtype=np.uint8)
        wide[:, 1:] = raw.reshape(-1, 3)  # shifted left a byte: an int32 with the sign in place
        return _scaled(wide.view("<i4")[:, 0], 2**31)
    if sample == "s32":
        return _scaled(raw.view("<i4"), 2**31)
    floats: npt.NDArray[np.floating[Any]] = raw.view("<f4" if sample == "f32" else "<f8")
    return np.nan_to_num(np.clip(floats.astype(np.float32), -1, 1), copy=False)  # NaN is silence


@dataclass(frozen=True)
class WavHeader:
    """What a RIFF/WAVE header says about the samples that follow it."""

    #: The sample layout, or None for a codec this module does not decode itself (ADPCM, GSM…).
    pcm: PcmFormat | None
    #: Offset of the first sample byte.
    data_offset: int
    #: Declared length of the sample data; None when the writer left it open (streaming writers do).
    data_bytes: int | None


#: WAVE format tags decoded here (WAVEFORMATEXTENSIBLE carries one in its sub-format GUID).
_WAV_PCM, _WAV_FLOAT, _WAV_ALAW, _WAV_MULAW, _WAV_EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE

#: Longest RIFF header (every chunk before `data`) we buffer; real headers are under a few kilobytes,
#: but metadata chunks (LIST, bext, iXML) can hold a few hundred.
MAX_WAV_HEADER_BYTES = 1 << 20

#: Data sizes streaming writers put in the header when they do not know the length yet.
_OPEN_SIZES = (0, 0xFFFFFFFF, 0x7FFFFFFF)


def parse_wav_header(head: bytes | bytearray) -> WavHeader | None:
    """Parse the RIFF/WAVE header at the start of `head`; None until `head` holds all of it."""
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AudioDecodeError("failed to process audio: not a RIFF/WAVE header")
    offset, fmt, seen_fmt = 12, None, False
    while offset + 8 <= len(head):
        chunk_id, size = struct.unpack_from("<4sI", head, offset)
        if chunk_id == b"data":
            if not seen_fmt:
                raise AudioDecodeError("failed to process audio: WAV data chunk before its fmt chunk")
            return WavHeader(fmt, offset + 8, None if size in _OPEN_SIZES else size)
        if offset + 8 + size > len(head):
            break
        if chunk_id == b"fmt ":
            fmt, seen_fmt = _parse_fmt(bytes(head[offset + 8 : offset + 8 + size])), True
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    if len(head) > MAX_WAV_HEADER_BYTES:
        raise AudioDecodeError("failed to process audio: WAV header is too long or has no data chunk")
    return None


def _parse_fmt(body: bytes) -> PcmFormat | None:
    """Read a WAVE `fmt ` chunk; None for a valid format that is not PCM, float or G.711."""
    if len(body) < 16:
        raise AudioDecodeError("failed to process audio: WAV fmt chunk is too short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _WAV_EXTENSIBLE and len(body) >= 26:
        (tag,) = struct.unpack_from("<H", body, 24)
    if not 1 <= channels <= _MAX_CHANNELS or rate <= 0:
        raise AudioDecodeError(f"failed to process audio: WAV declares {channels} channels at {rate} Hz")
    sample = {
        (_WAV_PCM, 8): "u8",
        (_WAV_PCM, 16): "s16",
        (_WAV_PCM, 24): "s24",
        (_WAV_PCM, 32): "s32",
        (_WAV_FLOAT, 32): "f32",
        (_WAV_FLOAT, 64): "f64",
        (_WAV_ALAW, 8): "alaw",
        (_WAV_MULAW, 8): "mulaw",
    }.get((tag, bits))
    return None if sample is None else PcmFormat(sample, rate, channels)
