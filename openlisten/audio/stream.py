"""Incremental decoding of live audio, which arrives in arbitrary pieces (spec/listen-v1.md §5.2, §5.3).

What the stream is comes from the declared `encoding` or, without one, from its first bytes:

- Raw PCM, and WAV (we parse the RIFF header, then treat the rest as raw PCM): whole sample frames are
  decoded as they arrive and a partial frame is kept for the next piece.
- Everything else (Ogg/Opus and WebM/Opus as browsers' MediaRecorder sends them, MP3, FLAC, fragmented MP4,
  and the codec encodings) is demuxed by PyAV in a helper thread that reads from a pipe. FFmpeg's demuxers
  pull bytes and block when they run out; the pipe turns our pushes into their pulls, so nothing is ever
  re-demuxed and the work stays linear in the stream's length. Each `feed` waits until the thread has used
  every byte and blocks for more (or has ended), so the output never depends on thread timing.

Every path resamples with one persistent resampler per stream, so pieces join without clicks or gaps.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol

import av
import numpy as np
import numpy.typing as npt

from openlisten.audio.decode import (
    FrameCounter,
    Resampler,
    codec_demuxer,
    describe,
    first_audio_stream,
    open_container,
    reject_container,
    sniff_bytes_needed,
    sniff_container,
    translate_errors,
)
from openlisten.audio.limits import AudioLimits
from openlisten.audio.raw import PcmFormat, RawFormat, decode_pcm, parse_wav_header
from openlisten.errors import AudioDecodeError

__all__ = ["StreamDecoder"]

#: Containers a live stream may use without `encoding`, and the FFmpeg demuxer for each (None: let it probe).
_LIVE_CONTAINERS = {"Ogg": "ogg", "WebM/Matroska": "matroska", "MP3": "mp3", "FLAC": "flac", "MP4": None}

#: Bytes FFmpeg may read to learn a stream's parameters before the first frame comes out. Its default
#: (5 MB) would hold back the first seconds of a live MP3 or ADTS stream; headers fit in far less.
_PROBE_BYTES = "4096"

#: Leading bytes kept to describe a stream in error messages.
_HEAD_BYTES = 4096

#: Most audio one message may decode to, in seconds summed over channels (20 minutes of mono, 77 MB as
#: float32 at 16 kHz). Compressed silence expands a thousandfold, so a single 16 MB WebSocket frame could
#: otherwise hold days of audio; clients send 20 to 250 ms per message.
MAX_PIECE_CHANNEL_S = 1200.0


class _Source(Protocol):
    """One way of decoding a stream, chosen once its first bytes are known."""

    @property
    def channels(self) -> int | None: ...

    def feed(self, data: bytes) -> npt.NDArray[np.float32]: ...

    def flush(self) -> npt.NDArray[np.float32]: ...


class StreamDecoder:
    """Decodes live audio piece by piece to float32 `(channels, n)` at 16 kHz.

    `raw` is the declared raw encoding, or None for a container stream (WAV, Ogg, WebM, MP3, FLAC or
    fragmented MP4). `channels` is known at once for raw PCM, otherwise once the stream's header is decoded;
    until then empty results have one row, so skip empty results rather than concatenating them.
    Undecodable bytes raise `AudioDecodeError`; a sample rate outside `limits`, or more audio than they
    allow (over the whole stream, or `MAX_PIECE_CHANNEL_S` from one piece), raises before it is resampled.
    """

    def __init__(self, raw: RawFormat | None, limits: AudioLimits | None = None) -> None:
        self._raw = raw
        self._limits = limits or AudioLimits()
        self._head = bytearray()  # the first bytes, held until they say what the stream is
        self._source: _Source | None = None
        self._flushed = False

    @property
    def channels(self) -> int | None:
        """The channel count, or None while it is not known yet."""
        if self._source is not None:
            return self._source.channels
        return self._raw.channels if self._raw is not None and self._raw.is_pcm else None

    def feed(self, data: bytes) -> npt.NDArray[np.float32]:
        """Decode the next piece; returns the samples it completes (possibly none)."""
        if self._flushed:
            raise RuntimeError("StreamDecoder.feed() called after flush()")
        if self._source is not None:
            return self._source.feed(data)
        self._head += data
        if len(self._head) < sniff_bytes_needed(self._head):
            return _empty(self.channels)
        return self._start()[1]

    def flush(self) -> npt.NDArray[np.float32]:
        """Decode whatever is left at the end of the stream; a trailing partial sample frame is dropped."""
        if self._flushed:
            return _empty(self.channels)
        self._flushed = True
        if self._source is not None:
            return self._source.flush()
        if not self._head:
            return _empty(self.channels)
        source, first = self._start()
        rest = source.flush()
        return rest if first.shape[1] == 0 else np.concatenate([first, rest], axis=1)

    def close(self) -> None:
        """Stop decoding without flushing (a helper thread, if any, ends)."""
        if isinstance(self._source, _DemuxSource):
            self._source.close()
        self._flushed = True

    def _start(self) -> tuple[_Source, npt.NDArray[np.float32]]:
        """Choose the source from the first bytes and feed them to it."""
        head, self._head = bytes(self._head), bytearray()
        source = self._source = self._choose(head)
        return source, source.feed(head)

    def _choose(self, head: bytes) -> _Source:
        raw, limits = self._raw, self._limits
        if raw is not None and raw.is_pcm:
            reject_container(head, raw.encoding)
            limits.check_rate(raw.sample_rate, f"encoding={raw.encoding}")
            return _PcmSource(raw.pcm(), limits)
        if raw is not None:
            return _DemuxSource(codec_demuxer(raw.encoding, head), head, limits)
        container = sniff_container(head)
        if container == "WAV":
            return _WavSource(limits)
        if container not in _LIVE_CONTAINERS:
            raise AudioDecodeError(f"failed to process audio: corrupt or unsupported data ({describe(head)})")
        return _DemuxSource(_LIVE_CONTAINERS[container], head, limits)


def _check_piece(seconds: float, channels: int) -> None:
    """Refuse a piece of the stream that holds more than `MAX_PIECE_CHANNEL_S` of audio."""
    if seconds * channels > MAX_PIECE_CHANNEL_S:
        raise AudioDecodeError(
            f"failed to process audio: one message holds more than {MAX_PIECE_CHANNEL_S:.0f} s of audio "
            "(summed over channels); send live audio in small pieces, as it is captured"
        )


def _empty(channels: int | None) -> npt.NDArray[np.float32]:
    """No samples, shaped `(channels, 0)` (one row while the channel count is unknown)."""
    return np.zeros((channels or 1, 0), dtype=np.float32)


class _PcmSource:
    """Raw PCM: decode whole sample frames, keep a partial one for the next piece."""

    def __init__(self, pcm: PcmFormat, limits: AudioLimits, limit: int | None = None) -> None:
        self._pcm = pcm
        self._limits = limits
        self._frames = 0
        self._pending = bytearray()
        self._left = limit  # a WAV's declared data size; what follows it is not audio
        self._resampler = Resampler(pcm.channels)

    @property
    def channels(self) -> int:
        return self._pcm.channels

    def feed(self, data: bytes) -> npt.NDArray[np.float32]:
        if self._left is not None:
            data = data[: self._left]
            self._left -= len(data)
        self._pending += data
        whole = len(self._pending) // self._pcm.frame_bytes * self._pcm.frame_bytes
        if whole == 0:
            return self._resampler.empty()
        frames, rate, channels = whole // self._pcm.frame_bytes, self._pcm.sample_rate, self._pcm.channels
        _check_piece(frames / rate, channels)
        self._frames += frames
        self._limits.check_duration(self._frames / rate, channels)
        samples = decode_pcm(bytes(self._pending[:whole]), self._pcm)
        del self._pending[:whole]
        return self._resampler.samples(samples, self._pcm.sample_rate)

    def flush(self) -> npt.NDArray[np.float32]:
        return self._resampler.flush()


class _WavSource:
    """WAV: buffer the RIFF header, then decode the samples as raw PCM (or demux codecs such as ADPCM)."""

    def __init__(self, limits: AudioLimits) -> None:
        self._limits = limits
        self._head = bytearray()
        self._inner: _Source | None = None

    @property
    def channels(self) -> int | None:
        return None if self._inner is None else self._inner.channels

    def feed(self, data: bytes) -> npt.NDArray[np.float32]:
        if self._inner is not None:
            return self._inner.feed(data)
        self._head += data
        header = parse_wav_header(self._head)
        if header is None:
            return _empty(None)
        head, self._head = bytes(self._head), bytearray()
        if header.pcm is None:
            self._inner = _DemuxSource("wav", head, self._limits)
            return self._inner.feed(head)
        self._limits.check_rate(header.pcm.sample_rate, "the WAV header")
        self._inner = _PcmSource(header.pcm, self._limits, header.data_bytes)
        return self._inner.feed(head[header.data_offset :])

    def flush(self) -> npt.NDArray[np.float32]:
        if self._inner is None:
            raise AudioDecodeError("failed to process audio: the stream ended inside its WAV header")
        return self._inner.flush()


class _Pipe:
    """The file FFmpeg reads in the helper thread while `feed` writes to it; `read` blocks for bytes or EOF.

    It has no `seek`, so PyAV opens it as a non-seekable stream.
    """

    def __init__(self, lock: threading.Condition) -> None:
        self._lock = lock
        self.buffer = bytearray()
        self.eof = False
        #: The reader is waiting for bytes: everything written so far has been used.
        self.starved = False

    def read(self, size: int) -> bytes:
        with self._lock:
            while not self.buffer and not self.eof:
                self.starved = True
                self._lock.notify_all()
                self._lock.wait()
            self.starved = False
            chunk = bytes(self.buffer[:size])
            del self.buffer[:size]
            return chunk


class _Demuxer:
    """The helper thread's work: demux and decode the pipe, handing samples back under the shared lock."""

    def __init__(self, demuxer: str | None, head: bytes, limits: AudioLimits) -> None:
        self.lock = threading.Condition()
        self.pipe = _Pipe(self.lock)
        self.chunks: list[npt.NDArray[np.float32]] = []
        self.error: Exception | None = None
        self.done = False
        self.channels: int | None = None
        #: Seconds per channel decoded from the current piece (`_DemuxSource.feed` resets it).
        self.piece_s = 0.0
        self._limits = limits
        self._demuxer = demuxer
        self._head = head[:_HEAD_BYTES]

    def run(self) -> None:
        try:
            self._decode()
        except Exception as exc:  # re-raised in the caller's thread by _take(), as concurrent.futures does
            self.error = exc
        finally:
            with self.lock:
                self.done = True
                self.lock.notify_all()

    def _decode(self) -> None:
        demuxing = open_container(self.pipe, self._demuxer, self._head, probesize=_PROBE_BYTES)
        with translate_errors(self._head), demuxing as container:
            stream = first_audio_stream(container, self._limits)
            resampler = Resampler(stream.codec_context.channels or None)
            self._emit(resampler.empty(), resampler.channels)  # the header tells the channels before any frame
            counter = FrameCounter(self._limits)
            for frame in container.decode(stream):
                counter.count(frame)
                self._count_piece(frame)
                self._emit(resampler.frame(frame), resampler.channels)
            self._emit(resampler.flush(), resampler.channels)

    def _count_piece(self, frame: av.AudioFrame) -> None:
        with self.lock:
            self.piece_s += frame.samples / frame.sample_rate
            piece_s = self.piece_s
        _check_piece(piece_s, len(frame.layout.channels))

    def _emit(self, samples: npt.NDArray[np.float32], channels: int | None) -> None:
        with self.lock:
            self.channels = channels
            if samples.shape[1]:
                self.chunks.append(samples)

    def stop(self) -> None:
        """End the stream: the thread decodes what is left and exits."""
        with self.lock:
            self.pipe.eof = True
            self.lock.notify_all()


class _DemuxSource:
    """Any container or codec stream, demuxed by PyAV in a helper thread (see the module docstring)."""

    def __init__(self, demuxer: str | None, head: bytes, limits: AudioLimits) -> None:
        self._demuxer = _Demuxer(demuxer, head, limits)
        self._thread = threading.Thread(target=self._demuxer.run, name="openlisten-audio-demux", daemon=True)
        self._thread.start()
        # A session dropped without flush() must not leave the thread waiting for bytes forever.
        weakref.finalize(self, self._demuxer.stop)

    @property
    def channels(self) -> int | None:
        return self._demuxer.channels

    def feed(self, data: bytes) -> npt.NDArray[np.float32]:
        demuxer = self._demuxer
        with demuxer.lock:
            demuxer.pipe.buffer += data
            demuxer.piece_s = 0.0
            demuxer.lock.notify_all()
            demuxer.lock.wait_for(lambda: demuxer.done or (demuxer.pipe.starved and not demuxer.pipe.buffer))
            return self._take()

    def flush(self) -> npt.NDArray[np.float32]:
        self._demuxer.stop()
        with self._demuxer.lock:
            self._demuxer.lock.wait_for(lambda: self._demuxer.done)
            samples = self._take()
        self._thread.join()
        return samples

    def close(self) -> None:
        self._demuxer.stop()

    def _take(self) -> npt.NDArray[np.float32]:
        """The samples decoded since the last call, or the thread's error (called under the lock)."""
        if self._demuxer.error is not None:
            raise self._demuxer.error
        chunks, self._demuxer.chunks = self._demuxer.chunks, []
        if not chunks:
            return _empty(self._demuxer.channels)
        return np.concatenate(chunks, axis=1)
