"""Live decoding (spec/listen-v1.md §5.2, §5.3): any split of the bytes gives what decoding them whole gives."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from openlisten.audio import SAMPLE_RATE, RawFormat, StreamDecoder, decode_audio
from openlisten.errors import AudioDecodeError


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[start : start + size] for start in range(0, len(data), size))


def stream(data: bytes, size: int, raw: RawFormat | None = None) -> np.ndarray:
    """Feed `data` in `size`-byte pieces, then flush; the samples joined."""
    decoder = StreamDecoder(raw)
    outputs = [decoder.feed(piece) for piece in pieces(data, size)] + [decoder.flush()]
    assert all(out.dtype == np.float32 and out.ndim == 2 for out in outputs)
    joined = [out for out in outputs if out.shape[1]]
    assert all(out.shape[0] == decoder.channels for out in joined)
    return np.concatenate(joined, axis=1) if joined else np.zeros((decoder.channels or 1, 0), np.float32)


def assert_same(streamed: np.ndarray, whole: np.ndarray, length_slack: int = 0) -> None:
    assert streamed.shape[0] == whole.shape[0]
    assert abs(streamed.shape[1] - whole.shape[1]) <= length_slack
    common = min(streamed.shape[1], whole.shape[1])
    if streamed.shape[1] != whole.shape[1]:
        common -= 32  # where one ends early, the resampler's last few outputs differ
    np.testing.assert_allclose(streamed[:, :common], whole[:, :common], atol=1e-4)


# --- raw encodings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("piece_ms", [None, 20])  # None: 37-byte pieces, which split sample frames
def test_linear16_pieces_equal_whole(
    rate: int, channels: int, piece_ms: int | None, make_sine: Callable[..., np.ndarray]
) -> None:
    samples = make_sine([440, 950][:channels], 1.0, rate)
    data = np.round(samples.T * 32767).astype("<i2").tobytes()
    raw = RawFormat("linear16", rate, channels)
    size = 37 if piece_ms is None else rate * piece_ms // 1000 * 2 * channels
    assert_same(stream(data, size, raw), decode_audio(data, raw).samples, length_slack=2)


@pytest.mark.parametrize("encoding", ["mulaw", "alaw", "linear32"])
def test_other_pcm_one_byte_at_a_time(encoding: str) -> None:
    data = np.random.default_rng(5).bytes(4000)
    raw = RawFormat(encoding, 8000)
    assert_same(stream(data, 1, raw), decode_audio(data, raw).samples, length_slack=2)


def test_raw_channels_known_at_once() -> None:
    decoder = StreamDecoder(RawFormat("linear16", 16000, channels=3))
    assert decoder.channels == 3
    assert decoder.feed(b"\x00" * 5).shape == (3, 0)


def test_partial_frame_at_the_end_is_dropped() -> None:
    decoder = StreamDecoder(RawFormat("linear16", 16000, channels=2))
    assert decoder.feed(bytes(12) + b"\x01\x02\x03").shape == (2, 3)
    assert decoder.flush().shape == (2, 0)


def test_flush_without_audio_is_empty() -> None:
    assert StreamDecoder(RawFormat("linear16", 16000)).flush().shape == (1, 0)
    assert StreamDecoder(None).flush().shape[1] == 0


def test_opus_encoding_streams(make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]) -> None:
    data = make_encoded(make_sine(440, 1.0, 48000), 48000, "ogg", "libopus")
    raw = RawFormat("opus", 48000)
    assert_same(stream(data, 37, raw), decode_audio(data, raw).samples)


# --- containers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 37, 640])
def test_wav_stream_equals_whole(
    size: int, make_sine: Callable[..., np.ndarray], make_wav: Callable[..., bytes]
) -> None:
    data = make_wav(make_sine([300, 800], 0.2, 22050), 22050)
    assert_same(stream(data, size), decode_audio(data).samples, length_slack=2)


@pytest.mark.parametrize(("tag", "bits"), [(1, 8), (1, 24), (3, 32), (6, 8), (7, 8), (0xFFFE, 16)])
def test_wav_formats_stream_like_ffmpeg_decodes_them(tag: int, bits: int, make_riff: Callable[..., bytes]) -> None:
    body = np.random.default_rng(tag).integers(0, 256, 6000, dtype=np.uint8).tobytes()
    if tag == 3:
        body = np.random.default_rng(3).uniform(-1, 1, 1500).astype("<f4").tobytes()
    data = make_riff(body, 16000, 2 if bits <= 16 else 1, bits=bits, tag=tag)
    assert_same(stream(data, 37), decode_audio(data).samples)


def test_adpcm_wav_streams_through_ffmpeg(
    make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]
) -> None:
    data = make_encoded(make_sine(440, 0.5, 16000), 16000, "wav", "adpcm_ima_wav")
    assert_same(stream(data, 37), decode_audio(data).samples)


def test_wav_with_open_size_and_trailing_chunk(
    make_sine: Callable[..., np.ndarray], make_riff: Callable[..., bytes]
) -> None:
    pcm = np.round(make_sine(440, 0.5, 16000)[0] * 32767).astype("<i2").tobytes()
    open_ended = make_riff(pcm, 16000, 1, data_size=0xFFFFFFFF)
    assert stream(open_ended, 320).shape == (1, 8000)
    with_tail = make_riff(pcm, 16000, 1) + b"LIST\x04\x00\x00\x00INFO"
    assert stream(with_tail, 320).shape == (1, 8000)  # the LIST chunk is not audio


@pytest.mark.parametrize(("container", "codec", "rate"), [
    ("ogg", "libopus", 48000),  # Firefox's MediaRecorder
    ("webm", "libopus", 48000),  # Chrome's MediaRecorder
    ("mp3", "libmp3lame", 44100),  # e.g. internet radio
    ("flac", "flac", 44100),
])  # fmt: skip
@pytest.mark.parametrize("size", [37, "20ms"])
def test_containers_stream_like_whole(
    container: str,
    codec: str,
    rate: int,
    size: int | str,
    make_sine: Callable[..., np.ndarray],
    make_encoded: Callable[..., bytes],
) -> None:
    data = make_encoded(make_sine([440, 1000], 1.0, rate), rate, container, codec)
    piece = size if isinstance(size, int) else len(data) // 50  # 50 pieces of 20 ms
    # Unseekable, FFmpeg cannot trim an MP3's end padding (LAME header): up to two frames more at the end
    slack = 2 * 1152 * SAMPLE_RATE // rate if container == "mp3" else 0
    assert_same(stream(data, piece), decode_audio(data).samples, length_slack=slack)


def test_ogg_opus_one_byte_at_a_time(make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]) -> None:
    data = make_encoded(make_sine(440, 0.3, 48000), 48000, "ogg", "libopus")
    assert_same(stream(data, 1), decode_audio(data).samples)


def test_container_output_is_deterministic(
    make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]
) -> None:
    data = make_encoded(make_sine(440, 1.0, 48000), 48000, "webm", "libopus")

    def lengths() -> list[int]:
        decoder = StreamDecoder(None)
        return [decoder.feed(piece).shape[1] for piece in pieces(data, 500)] + [decoder.flush().shape[1]]

    first = lengths()
    assert first == lengths()
    assert sum(first[:-1]) > 0.5 * sum(first)  # audio comes out while the stream is still arriving


def test_container_channels_are_known_once_decoded(make_wav: Callable[..., bytes]) -> None:
    decoder = StreamDecoder(None)
    data = make_wav(np.zeros((2, 1600), np.float32), 16000)
    assert decoder.feed(data[:20]).shape[1] == 0
    assert decoder.channels is None
    decoder.feed(data[20:])
    assert decoder.channels == 2


@pytest.mark.parametrize("name", ["deepgram-sdk/preamble-websocket.wav", "whisper/jfk.flac"])
def test_real_recordings_in_20ms_pieces(name: str, data_dir: Path) -> None:
    data = (data_dir / name).read_bytes()
    whole = decode_audio(data)
    piece = max(1, round(len(data) / whole.duration_s / 50))
    assert_same(stream(data, piece), whole.samples)


# --- bad live data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    np.random.default_rng(11).bytes(3000),
    b"Speech is silver, silence is golden.\n" * 20,
    b"<html><body>Not found</body></html>",
])  # fmt: skip
def test_not_audio_fails_early(data: bytes) -> None:
    decoder = StreamDecoder(None)
    with pytest.raises(AudioDecodeError, match="corrupt or unsupported data"):
        for piece in pieces(data, 20):
            decoder.feed(piece)


def test_wav_sent_as_linear16_fails(make_wav: Callable[..., bytes]) -> None:
    decoder = StreamDecoder(RawFormat("linear16", 16000))
    data = make_wav(np.zeros((1, 1600), np.float32), 16000)
    with pytest.raises(AudioDecodeError, match="WAV file while encoding=linear16"):
        for piece in pieces(data, 5):
            decoder.feed(piece)


def test_opus_encoding_with_pcm_fails() -> None:
    decoder = StreamDecoder(RawFormat("opus", 48000))
    with pytest.raises(AudioDecodeError, match="encoding=opus expects"):
        decoder.feed(bytes(960))


def test_damaged_ogg_fails() -> None:
    decoder = StreamDecoder(None)
    with pytest.raises(AudioDecodeError):
        decoder.feed(b"OggS" + np.random.default_rng(2).bytes(400))
        decoder.flush()


def test_stream_ending_in_wav_header_fails(make_wav: Callable[..., bytes]) -> None:
    decoder = StreamDecoder(None)
    decoder.feed(make_wav(np.zeros((1, 160), np.float32), 16000)[:30])
    with pytest.raises(AudioDecodeError, match="WAV header"):
        decoder.flush()


def test_feed_after_flush_is_misuse() -> None:
    decoder = StreamDecoder(RawFormat("linear16", SAMPLE_RATE))
    decoder.flush()
    with pytest.raises(RuntimeError):
        decoder.feed(b"\x00\x00")


def test_dropped_decoder_ends_its_thread(
    make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]
) -> None:
    data = make_encoded(make_sine(440, 0.5, 48000), 48000, "ogg", "libopus")
    decoder = StreamDecoder(None)
    decoder.feed(data[: len(data) // 2])
    (thread,) = [t for t in threading.enumerate() if t.name == "openlisten-audio-demux"]
    del decoder
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_close_ends_the_thread(make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]) -> None:
    data = make_encoded(make_sine(440, 0.5, 48000), 48000, "webm", "libopus")
    decoder = StreamDecoder(None)
    decoder.feed(data[:1000])
    (thread,) = [t for t in threading.enumerate() if t.name == "openlisten-audio-demux"]
    decoder.close()
    thread.join(timeout=5)
    assert not thread.is_alive()


RAW_FORMATS = [
    None,
    RawFormat("linear16", 16000),
    RawFormat("mulaw", 8000, channels=2),
    RawFormat("opus", 48000),
    RawFormat("flac", 16000),
    RawFormat("amr-nb", 8000),
    RawFormat("g729", 8000),
    RawFormat("speex", 16000),
]
SEEDS = [b"", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"OggS\x00\x02", b"fLaC", b"ID3\x03", b"\x1a\x45\xdf\xa3", b"#!AMR\n"]


def test_any_bytes_decode_or_raise_audio_decode_error(
    make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes], make_wav: Callable[..., bytes]
) -> None:
    rng = np.random.default_rng(2024)
    valid = [
        make_encoded(make_sine(440, 0.2, 48000), 48000, "ogg", "libopus"),
        make_wav(make_sine(440, 0.2, 8000), 8000),
    ]
    for case in range(120):
        if case % 3 == 0:
            data = SEEDS[case % len(SEEDS)] + rng.bytes(int(rng.integers(0, 2000)))
        else:  # a valid file, damaged or cut short
            damaged = bytearray(valid[case % 2][: int(rng.integers(1, len(valid[case % 2]) + 1))])
            for _ in range(int(rng.integers(0, 10)) if case % 3 == 1 else 0):
                damaged[int(rng.integers(0, len(damaged)))] = int(rng.integers(0, 256))
            data = bytes(damaged)
        raw = RAW_FORMATS[case % len(RAW_FORMATS)]
        with contextlib.suppress(AudioDecodeError):
            decode_audio(data, raw)
        with contextlib.suppress(AudioDecodeError):
            stream(data, int(rng.integers(1, 400)), raw)
