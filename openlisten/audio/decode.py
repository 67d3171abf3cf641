"""Decode a whole upload to `Audio`: containers sniffed by PyAV, raw encodings as declared (spec/listen-v1.md §3.1).

Every channel is kept apart and resampled to `SAMPLE_RATE`, so multichannel requests can transcribe each one;
the result is held as int16 (`audio/samples.py`).
PyAV's and numpy's exceptions about bad bytes are translated to `AudioDecodeError` here, where they enter.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import av
import av.codec.codec
import numpy as np
import numpy.typing as npt

from openlisten.audio.limits import AudioLimits
from openlisten.audio.raw import CODEC_ENCODINGS, RawFormat, decode_pcm
from openlisten.audio.samples import SAMPLE_RATE, Audio, to_pcm16
from openlisten.errors import AudioDecodeError, UnsupportedEncoding

__all__ = [
    "DECODE_ERRORS",
    "MAX_CHANNELS",
    "FrameCounter",
    "Resampler",
    "check_channels",
    "codec_demuxer",
    "decode_audio",
    "describe",
    "first_audio_stream",
    "open_container",
    "reject_container",
    "sniff_bytes_needed",
    "sniff_container",
    "translate_errors",
]

logger = logging.getLogger(__name__)

#: Most channels we decode; each one is transcribed on its own, so this bounds the work of one request.
MAX_CHANNELS = 32

#: What foreign code raises about bad bytes: FFmpeg errors, and ValueError (PyAV's resampler on a format
#: change mid-stream, numpy on malformed buffers; av.error.InvalidDataError is one too).
DECODE_ERRORS = (av.error.FFmpegError, ValueError)

_UNREADABLE = "failed to process audio: corrupt or unsupported data"


def decode_audio(data: bytes, raw: RawFormat | None = None, *, limits: AudioLimits | None = None) -> Audio:
    """Decode a whole body: a container when `raw` is None, else headerless audio in the declared encoding.

    `limits` are checked before any sample is resampled: the sample rate, the container's declared duration,
    and the samples decoded so far (all channels), so a small file that declares hours of audio is refused
    before it fills memory.
    """
    if not data:
        raise AudioDecodeError(f"{_UNREADABLE} (the body is empty)")
    limits = limits or AudioLimits()
    if raw is None:
        return Audio(_decode_container(data, None, limits))
    if raw.is_pcm:
        return Audio(_decode_pcm(data, raw, limits))
    return Audio(_decode_container(data, codec_demuxer(raw.encoding, data), limits))


#: Sample frames of raw PCM decoded and resampled at a time (a minute at 16 kHz): float32 holds no more.
_PCM_BLOCK_FRAMES = 1 << 20


def _decode_pcm(data: bytes, raw: RawFormat, limits: AudioLimits) -> npt.NDArray[np.int16]:
    """Decode raw PCM samples and resample them, a block at a time."""
    reject_container(data, raw.encoding)
    pcm = raw.pcm()
    limits.check_rate(pcm.sample_rate, f"encoding={raw.encoding}")
    frames = len(data) // pcm.frame_bytes
    limits.check_duration(frames / pcm.sample_rate, pcm.channels)
    if frames == 0:
        raise AudioDecodeError(
            f"failed to process audio: {len(data)} bytes hold no whole {raw.encoding} sample frame "
            f"({pcm.frame_bytes} bytes for {raw.channels} channel(s))"
        )
    resampler = Resampler(raw.channels)
    view = memoryview(data)
    chunks = []
    with translate_errors(data):
        for first in range(0, frames, _PCM_BLOCK_FRAMES):
            block = view[first * pcm.frame_bytes : min(frames, first + _PCM_BLOCK_FRAMES) * pcm.frame_bytes]
            chunks.append(to_pcm16(resampler.samples(decode_pcm(block, pcm), pcm.sample_rate)))
        chunks.append(to_pcm16(resampler.flush()))
    return np.concatenate(chunks, axis=1)


def _decode_container(data: bytes, demuxer: str | None, limits: AudioLimits) -> npt.NDArray[np.int16]:
    """Demux the first audio stream and decode it; a damaged tail keeps the audio decoded before it.
    Each frame is kept as int16 as soon as it is resampled, so float32 never holds more than a frame."""
    resampler = Resampler()
    chunks: list[npt.NDArray[np.int16]] = []
    with open_container(io.BytesIO(data), demuxer, data) as container:
        stream = first_audio_stream(container, limits)
        _check_declared_duration(container, stream, limits)
        found = f"{_a(container.format.long_name)} file"
        counter = FrameCounter(limits)
        try:
            for frame in container.decode(stream):
                counter.count(frame)
                chunks.append(to_pcm16(resampler.frame(frame)))
        except DECODE_ERRORS as exc:
            if not any(chunk.shape[1] for chunk in chunks):
                raise AudioDecodeError(f"{_UNREADABLE} ({describe(data)}: {_detail(exc)})") from exc
            logger.info("audio is damaged after %.1f s; keeping what decoded: %s", _seconds(chunks), _detail(exc))
    with translate_errors(data):
        chunks.append(to_pcm16(resampler.flush()))
    if not any(chunk.shape[1] for chunk in chunks):
        raise AudioDecodeError(f"{_UNREADABLE} (no audio could be decoded from {found})")
    return np.concatenate(chunks, axis=1)


#: Slack on a container's declared duration, which some formats only estimate (an MP3's from its bitrate).
_DECLARED_DURATION_SLACK = 1.1


def _check_declared_duration(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, limits: AudioLimits
) -> None:
    """Refuse at once a container whose header declares more audio than `limits` allow."""
    seconds = None
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / av.time_base
    if seconds is not None and seconds > 0:
        limits.check_duration(seconds / _DECLARED_DURATION_SLACK, stream.codec_context.channels or 1)


class FrameCounter:
    """Checks decoded frames against `AudioLimits` at their own rate, before they are resampled."""

    def __init__(self, limits: AudioLimits) -> None:
        self._limits = limits
        self._seconds = 0.0
        self._rate = 0

    def count(self, frame: av.AudioFrame) -> None:
        """Add one frame; raise when its rate is out of range or the audio so far is over the duration cap."""
        if frame.sample_rate != self._rate:
            self._limits.check_rate(frame.sample_rate)
            self._rate = frame.sample_rate
        self._seconds += frame.samples / frame.sample_rate
        self._limits.check_duration(self._seconds, len(frame.layout.channels))


def _seconds(chunks: list[npt.NDArray[np.int16]]) -> float:
    return sum(int(chunk.shape[1]) for chunk in chunks) / SAMPLE_RATE


class Resampler:
    """Turns frames or sample arrays into float32 `(channels, n)` at `SAMPLE_RATE`, never mixing channels.

    Keep one per stream: the filter state carries across calls, so chunks join without clicks or gaps.
    It resamples to packed float ("flt"): PyAV's planar ndarray helpers overrun FFmpeg's 8 in-line plane
    pointers beyond 8 channels (a segfault), while packed audio has a single plane at any channel count.
    """

    def __init__(self, channels: int | None = None) -> None:
        self._resampler: av.AudioResampler | None = None
        self.channels = channels

    def frame(self, frame: av.AudioFrame) -> npt.NDArray[np.float32]:
        """Resample one decoded frame (the first one fixes the channel layout)."""
        if self._resampler is None:
            self.channels = check_channels(len(frame.layout.channels))
            self._resampler = av.AudioResampler(format="flt", layout=frame.layout, rate=SAMPLE_RATE)
        return self._collect(self._resampler.resample(frame))

    def samples(self, samples: npt.NDArray[np.float32], sample_rate: int) -> npt.NDArray[np.float32]:
        """Resample float32 `(channels, n)` samples taken at `sample_rate`."""
        if sample_rate == SAMPLE_RATE:
            return samples
        channels = samples.shape[0]
        packed = np.ascontiguousarray(samples.T).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=f"{channels} channels")
        frame.sample_rate = sample_rate
        return self.frame(frame)

    def flush(self) -> npt.NDArray[np.float32]:
        """The samples still held in the filter, at the end of the stream."""
        if self._resampler is None:
            return self.empty()
        return self._collect(self._resampler.resample(None))

    def empty(self) -> npt.NDArray[np.float32]:
        """No samples, shaped `(channels, 0)` (one row while the channel count is unknown)."""
        return np.zeros((self.channels or 1, 0), dtype=np.float32)

    def _collect(self, frames: list[av.AudioFrame]) -> npt.NDArray[np.float32]:
        if not frames:
            return self.empty()
        packed: npt.NDArray[np.float32] = np.concatenate([frame.to_ndarray().reshape(-1) for frame in frames])
        samples = packed.reshape(-1, self.channels or 1).T
        return np.nan_to_num(np.clip(samples, -1, 1), copy=False).astype(np.float32, order="C")


def check_channels(channels: int) -> int:
    """Refuse more channels than `MAX_CHANNELS` (or none)."""
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioDecodeError(f"failed to process audio: {channels} channels; at most {MAX_CHANNELS} are supported")
    return channels


def open_container(file: Any, demuxer: str | None, head: bytes, **options: str) -> av.container.InputContainer:
    """`av.open` for reading, with failures translated; `head` (the first bytes) names what was found."""
    with translate_errors(head):
        container: av.container.InputContainer = av.open(
            file, mode="r", format=demuxer, options=options, metadata_errors="ignore"
        )
    return container


def first_audio_stream(
    container: av.container.InputContainer, limits: AudioLimits | None = None
) -> av.audio.stream.AudioStream:
    """The first audio stream (a video file's soundtrack, too), its channels and declared rate checked."""
    if not container.streams.audio:
        raise AudioDecodeError(f"{_UNREADABLE} ({_a(container.format.long_name)} file with no audio stream)")
    stream = container.streams.audio[0]
    context = stream.codec_context
    if context is None:  # FFmpeg found the stream but has no decoder for it (a WAV with an unknown format tag)
        found = _a(container.format.long_name)
        raise AudioDecodeError(f"{_UNREADABLE} ({found} file whose audio is in a codec with no decoder here)")
    if context.channels:
        check_channels(context.channels)
    if limits is not None and context.sample_rate:
        limits.check_rate(context.sample_rate)
    return stream


@contextlib.contextmanager
def translate_errors(head: bytes | bytearray) -> Iterator[None]:
    """Turn PyAV's and numpy's exceptions about the bytes starting with `head` into `AudioDecodeError`."""
    try:
        yield
    except DECODE_ERRORS as exc:
        raise AudioDecodeError(f"{_UNREADABLE} ({describe(head)}: {_detail(exc)})") from exc


def _detail(exc: BaseException) -> str:
    """FFmpeg's own words for an error, without the errno and file name PyAV adds."""
    return str(getattr(exc, "strerror", None) or exc)


def require_decoder(encoding: str) -> None:
    """Raise `UnsupportedEncoding` when this PyAV build cannot decode a codec encoding."""
    codec = CODEC_ENCODINGS[encoding][1]
    try:
        av.Codec(codec, "r")
    except av.codec.codec.UnknownCodecError as exc:
        raise UnsupportedEncoding(
            f"encoding={encoding} is not supported by this server: its FFmpeg has no {codec} decoder"
        ) from exc


def codec_demuxer(encoding: str, head: bytes) -> str:
    """The FFmpeg demuxer for a codec encoding, checking that the first bytes fit it."""
    require_decoder(encoding)
    demuxer = CODEC_ENCODINGS[encoding][0]
    if demuxer in ("amrnb", "amrwb") and head.startswith(b"#!AMR"):
        return "amr"  # the RFC 4867 storage format; without the header it is bare frames
    magic = {"ogg": (b"OggS",), "flac": (b"fLaC", b"ID3")}.get(demuxer, ())
    if magic and not head.startswith(magic):
        raise AudioDecodeError(
            f"failed to process audio: encoding={encoding} expects a stream starting with {magic[0].decode()}, "
            f"but {describe(head)}; omit encoding to send a container file"
        )
    return demuxer


def reject_container(head: bytes, encoding: str) -> None:
    """Raise when bytes declared as raw PCM are in fact a container file."""
    name = sniff_container(head)
    if name is not None:
        raise AudioDecodeError(
            f"failed to process audio: the body is {_a(name)} file while encoding={encoding} declares raw audio; "
            "omit encoding (and sample_rate) to send a container"
        )


def sniff_container(head: bytes | bytearray) -> str | None:
    """Name the container whose signature `head` starts with, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "MP4"
    frame = _mpeg_frame_bytes(head, 0)
    if frame is not None and _mpeg_frame_bytes(head, frame) is not None:
        return "MP3"  # two frame headers in a row: a lone sync word is too likely in raw samples
    return None


def sniff_bytes_needed(head: bytes | bytearray) -> int:
    """How many leading bytes `sniff_container` needs to decide about `head` (at most a few kilobytes)."""
    frame = _mpeg_frame_bytes(head, 0)
    return 12 if frame is None else max(12, frame + 4)


_MAGIC = ((b"fLaC", "FLAC"), (b"OggS", "Ogg"), (b"ID3", "MP3"), (b"\x1a\x45\xdf\xa3", "WebM/Matroska"))

#: MPEG audio bitrates in kbit/s by (MPEG-1 or 2/2.5, layer); MPEG-2 layers II and III share a row.
_MPEG_KBPS = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def _mpeg_frame_bytes(head: bytes | bytearray, offset: int) -> int | None:
    """Length of the MPEG audio frame whose valid header is at `offset`, else None (ISO 11172-3 §2.4.2.3)."""
    if len(head) < offset + 4 or head[offset] != 0xFF or head[offset + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[offset + 1] >> 3) & 3, 4 - ((head[offset + 1] >> 1) & 3)
    index, rate_index, padding = head[offset + 2] >> 4, (head[offset + 2] >> 2) & 3, (head[offset + 2] >> 1) & 1
    if version == 1 or layer == 4 or index in (0, 15) or rate_index == 3:
        return None  # reserved or "free format" values
    mpeg1 = version == 3
    kbps = _MPEG_KBPS[(1, layer) if mpeg1 else (2, min(layer, 2))][index]
    rate = (44100, 48000, 32000)[rate_index] >> {3: 0, 2: 1, 0: 2}[version]
    if layer == 1:
        return (12000 * kbps // rate + padding) * 4
    return (144000 if mpeg1 or layer == 2 else 72000) * kbps // rate + padding


def describe(data: bytes | bytearray) -> str:
    """Say what the bytes look like, for error messages."""
    if not data:
        return "the body is empty"
    name = sniff_container(data[:4096])
    if name is not None:
        return f"the body looks like {_a(name)} file"
    head = bytes(data[:512])
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "the body is an HTML page, not audio"
    if _looks_like_text(head):
        return "the body is text, not audio"
    return "the body is not in a recognised audio format"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")  # only the last character was cut off
    return all(char.isprintable() or char in "\r\n\t" for char in text)


def _a(name: str) -> str:
    """`name` with its indefinite article ("an Ogg", "an MP3", "a WAV")."""
    return f"an {name}" if name[:1] in "AEIOU" or name.startswith("MP") else f"a {name}"
