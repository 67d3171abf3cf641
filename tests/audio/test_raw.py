"""Raw encodings (spec/listen-v1.md §3.2, §5.2): PCM decoding, G.711, codec bitstreams, bad bodies."""

from __future__ import annotations

import struct
from collections.abc import Callable

import av
import numpy as np
import pytest

from openlisten.audio import SAMPLE_RATE, RawFormat, decode_audio
from openlisten.audio.raw import CODEC_ENCODINGS, PcmFormat, decode_pcm, parse_wav_header
from openlisten.errors import AudioDecodeError, InvalidParameter, UnsupportedEncoding


def pyav_decode(codec: str, data: bytes, rate: int = 8000) -> np.ndarray:
    """Reference decoding of headerless bytes by FFmpeg's own decoder, as int16."""
    context = av.CodecContext.create(codec, "r")
    context.sample_rate, context.layout = rate, "mono"
    return np.concatenate([frame.to_ndarray()[0] for frame in context.decode(av.Packet(data))])


def pyav_encode(codec: str, samples: np.ndarray, rate: int = 8000) -> bytes:
    """Reference encoding of mono int16 samples by FFmpeg's own encoder."""
    context = av.CodecContext.create(codec, "w")
    context.sample_rate, context.layout, context.format = rate, "mono", "s16"
    frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
    frame.sample_rate, frame.pts = rate, 0
    return b"".join(bytes(packet) for packet in context.encode(frame) + context.encode(None))


# --- RawFormat ---------------------------------------------------------------------------------------------


def test_raw_format_rejects_unknown_encoding() -> None:
    with pytest.raises(UnsupportedEncoding, match="mp3"):
        RawFormat("mp3", 16000)


@pytest.mark.parametrize(("rate", "channels"), [(0, 1), (999, 1), (400_000, 1), (16000, 0), (16000, 33)])
def test_raw_format_rejects_bad_rate_or_channels(rate: int, channels: int) -> None:
    with pytest.raises(InvalidParameter):
        RawFormat("linear16", rate, channels)


def test_codec_encodings_need_no_sample_rate() -> None:
    assert RawFormat("flac", 0).sample_rate == 0  # the stream carries its own
    with pytest.raises(InvalidParameter):
        RawFormat("opus", 500)


# --- PCM ---------------------------------------------------------------------------------------------------


def test_linear16_at_16k_is_exact() -> None:
    values = np.array([0, 1, -1, 32767, -32768, 1234], dtype="<i2")
    audio = decode_audio(values.tobytes(), RawFormat("linear16", 16000))
    np.testing.assert_array_equal(audio.samples, values[None, :] / 32768)
    assert audio.samples.dtype == np.float32


def test_linear32_at_16k_is_exact_to_16_bits() -> None:
    values = np.array([0, 1 << 16, -(1 << 31), (1 << 31) - 256], dtype="<i4")
    audio = decode_audio(values.tobytes(), RawFormat("linear32", 16000))
    np.testing.assert_allclose(audio.samples[0], values / 2**31, atol=1 / 2**15)  # held as int16


def test_interleaved_channels_stay_apart(make_sine: Callable[..., np.ndarray], peak_hz: Callable[..., float]) -> None:
    samples = make_sine([300, 1200], 1.0, 16000)
    data = (np.round(samples.T * 32767).astype("<i2")).tobytes()
    audio = decode_audio(data, RawFormat("linear16", 16000, channels=2))
    assert audio.channels == 2
    assert peak_hz(audio.channel(0)) == pytest.approx(300, abs=2)
    assert peak_hz(audio.channel(1)) == pytest.approx(1200, abs=2)
    np.testing.assert_allclose(audio.mixed(), audio.samples.mean(axis=0), atol=1e-7)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_linear16_is_resampled(rate: int, make_sine: Callable[..., np.ndarray], peak_hz: Callable[..., float]) -> None:
    samples = make_sine(440, 1.5, rate)
    audio = decode_audio((np.round(samples[0] * 32767).astype("<i2")).tobytes(), RawFormat("linear16", rate))
    assert abs(audio.samples.shape[1] - round(samples.shape[1] * SAMPLE_RATE / rate)) <= 2
    assert peak_hz(audio.mixed()) == pytest.approx(440, abs=2)
    expected = make_sine(440, 1.5, SAMPLE_RATE)[0]
    middle = slice(1000, expected.size - 1000)  # leave out the filter's edges
    error = audio.mixed()[middle] - expected[middle]
    assert 10 * np.log10(np.sum(expected[middle] ** 2) / np.sum(error**2)) > 40  # SNR in dB


def test_trailing_partial_frame_is_dropped() -> None:
    data = np.arange(20, dtype="<i2").tobytes() + b"\x01\x02\x03"  # 10 stereo frames + 3 stray bytes
    audio = decode_audio(data, RawFormat("linear16", 16000, channels=2))
    assert audio.samples.shape == (2, 10)
    np.testing.assert_array_equal(audio.channel(1), np.arange(1, 20, 2) / 32768)


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x02\x03"])
def test_no_whole_frame_is_an_error(data: bytes) -> None:
    with pytest.raises(AudioDecodeError):
        decode_audio(data, RawFormat("linear16", 16000, channels=2))


@pytest.mark.parametrize(("sample", "raw", "expected"), [
    ("u8", bytes([0, 128, 255]), [-1, 0, 127 / 128]),
    ("s24", b"\x00\x00\x80" + b"\xff\xff\x7f" + b"\x01\x00\x00", [-1, (2**23 - 1) / 2**23, 1 / 2**23]),
    ("f32", struct.pack("<3f", 0.25, -2.0, 1.0), [0.25, -1, 1]),
    ("f64", struct.pack("<3d", 0.5, 3.0, -0.125), [0.5, 1, -0.125]),
])  # fmt: skip
def test_decode_pcm_sample_types(sample: str, raw: bytes, expected: list[float]) -> None:
    samples = decode_pcm(raw, PcmFormat(sample, 16000, 1))
    np.testing.assert_allclose(samples[0], expected, atol=1e-6)


# --- G.711 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "codec"), [("mulaw", "pcm_mulaw"), ("alaw", "pcm_alaw")])
def test_g711_matches_ffmpeg_for_every_code(encoding: str, codec: str) -> None:
    codes = bytes(range(256))
    samples = decode_pcm(codes, PcmFormat(encoding, 8000, 1))
    np.testing.assert_array_equal(samples[0] * 32768, pyav_decode(codec, codes))


@pytest.mark.parametrize(("encoding", "codec"), [("mulaw", "pcm_mulaw"), ("alaw", "pcm_alaw")])
def test_g711_round_trip(
    encoding: str, codec: str, make_sine: Callable[..., np.ndarray], peak_hz: Callable[..., float]
) -> None:
    original = make_sine(1000, 1.0, 8000)[0]
    data = pyav_encode(codec, np.round(original * 32767).astype(np.int16))
    audio = decode_audio(data, RawFormat(encoding, 8000))
    assert audio.duration_s == pytest.approx(1.0, abs=0.001)
    assert peak_hz(audio.mixed()) == pytest.approx(1000, abs=2)
    at_8k = decode_pcm(data, PcmFormat(encoding, 8000, 1))[0]
    snr = 10 * np.log10(np.sum(original**2) / np.sum((at_8k - original) ** 2))
    assert snr > 30  # G.711 gives about 38 dB on a loud sine


def test_mulaw_silence_is_not_mistaken_for_mp3() -> None:
    # 0xFF is mu-law zero; a frame-sync-like start must not trigger the container check
    audio = decode_audio(b"\xff\xfb\x73\x00" + b"\xff" * 4000, RawFormat("mulaw", 8000))
    assert audio.duration_s == pytest.approx(0.5, abs=0.001)


# --- containers sent as raw PCM --------------------------------------------------------------------------


def _mp3_frames() -> bytes:
    header = b"\xff\xfb\x90\x64"  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames
    return (header + bytes(413)) * 3


@pytest.mark.parametrize(("name", "head"), [
    ("WAV", b"RIFF\x24\x00\x00\x00WAVEfmt "),
    ("FLAC", b"fLaC\x00\x00\x00\x22"),
    ("Ogg", b"OggS\x00\x02"),
    ("MP3", b"ID3\x04\x00\x00"),
    ("MP3", _mp3_frames()),
    ("WebM", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81"),
    ("MP4", b"\x00\x00\x00\x20ftypisom"),
])  # fmt: skip
@pytest.mark.parametrize("encoding", ["linear16", "linear32", "mulaw", "alaw"])
def test_container_declared_as_raw_pcm_is_refused(name: str, head: bytes, encoding: str) -> None:
    with pytest.raises(AudioDecodeError, match=f"is an? {name}.*encoding={encoding}.*omit encoding"):
        decode_audio(head + bytes(4000), RawFormat(encoding, 16000))


# --- codec encodings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "container", "codec", "rate"), [
    ("flac", "flac", "flac", 44100),
    ("opus", "ogg", "libopus", 48000),
    ("ogg-opus", "ogg", "libopus", 48000),
])  # fmt: skip
def test_codec_encodings(
    encoding: str,
    container: str,
    codec: str,
    rate: int,
    make_sine: Callable[..., np.ndarray],
    make_encoded: Callable[..., bytes],
    peak_hz: Callable[..., float],
) -> None:
    data = make_encoded(make_sine([440, 880], 1.0, rate), rate, container, codec)
    audio = decode_audio(data, RawFormat(encoding, rate, channels=2))
    assert audio.channels == 2
    assert audio.duration_s == pytest.approx(1.0, abs=0.03)
    assert peak_hz(audio.channel(0)) == pytest.approx(440, abs=3)
    assert peak_hz(audio.channel(1)) == pytest.approx(880, abs=3)


def _amr_nb(samples: np.ndarray) -> bytes:
    """AMR-NB in the RFC 4867 storage format, from the OpenCORE encoder."""
    context = av.CodecContext.create("libopencore_amrnb", "w")
    context.sample_rate, context.layout, context.format, context.bit_rate = 8000, "mono", "s16", 12200
    packets = []
    for start in range(0, samples.size - 159, 160):
        frame = av.AudioFrame.from_ndarray(samples[None, start : start + 160], format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, start
        packets += context.encode(frame)
    return b"#!AMR\n" + b"".join(bytes(packet) for packet in packets + context.encode(None))


@pytest.mark.parametrize("header", [True, False])
def test_amr_nb(header: bool, make_sine: Callable[..., np.ndarray], peak_hz: Callable[..., float]) -> None:
    data = _amr_nb(np.round(make_sine(500, 1.0, 8000)[0] * 32767).astype(np.int16))
    audio = decode_audio(data if header else data[6:], RawFormat("amr-nb", 8000))
    assert audio.duration_s == pytest.approx(1.0, abs=0.05)
    assert peak_hz(audio.mixed()) == pytest.approx(500, abs=10)


@pytest.mark.parametrize("header", [b"#!AMR-WB\n", b""])
def test_amr_wb_frames_decode(header: bytes) -> None:
    # No AMR-WB encoder here: 50 NO_DATA frames (one TOC byte each, 20 ms apiece) still make 1 s
    audio = decode_audio(header + b"\x7c" * 50, RawFormat("amr-wb", 16000))
    assert audio.duration_s == pytest.approx(1.0, abs=0.001)


def test_g729_frames_decode() -> None:
    # No G.729 encoder here: any 10-byte frame decodes, 10 ms apiece
    audio = decode_audio(np.random.default_rng(7).bytes(1000), RawFormat("g729", 8000))
    assert audio.duration_s == pytest.approx(1.0, abs=0.001)
    assert np.abs(audio.samples).max() <= 1


@pytest.mark.parametrize("encoding", ["opus", "ogg-opus", "speex", "flac"])
def test_codec_encoding_with_wrong_bytes(encoding: str, make_wav: Callable[..., bytes]) -> None:
    with pytest.raises(AudioDecodeError, match=f"encoding={encoding} expects"):
        decode_audio(make_wav(np.zeros((1, 1600), np.float32), 16000), RawFormat(encoding, 16000))


def test_damaged_ogg_opus_is_an_error() -> None:
    with pytest.raises(AudioDecodeError, match="Ogg"):
        decode_audio(b"OggS" + bytes(200), RawFormat("opus", 48000))


def test_missing_decoder_is_unsupported_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CODEC_ENCODINGS, "speex", ("ogg", "no-such-decoder"))
    with pytest.raises(UnsupportedEncoding, match="speex.*no-such-decoder"):
        decode_audio(b"OggS" + bytes(200), RawFormat("speex", 16000))


# --- WAV headers -------------------------------------------------------------------------------------------


def test_wav_header_needs_all_its_bytes(make_riff: Callable[..., bytes]) -> None:
    wav = make_riff(bytes(100), 8000, 2, bits=16)
    for end in range(44):
        assert parse_wav_header(wav[:end]) is None
    header = parse_wav_header(wav[:44])
    assert header is not None
    assert (header.pcm, header.data_offset, header.data_bytes) == (PcmFormat("s16", 8000, 2), 44, 100)


@pytest.mark.parametrize(("tag", "bits", "sample"), [
    (1, 8, "u8"), (1, 24, "s24"), (3, 32, "f32"), (3, 64, "f64"), (6, 8, "alaw"), (7, 8, "mulaw"), (0xFFFE, 16, "s16"),
])  # fmt: skip
def test_wav_header_formats(tag: int, bits: int, sample: str, make_riff: Callable[..., bytes]) -> None:
    header = parse_wav_header(make_riff(b"", 16000, 1, bits=bits, tag=tag))
    assert header is not None and header.pcm == PcmFormat(sample, 16000, 1)


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_wav_header_streaming_sizes_mean_open_ended(size: int, make_riff: Callable[..., bytes]) -> None:
    header = parse_wav_header(make_riff(b"", 16000, 1, data_size=size))
    assert header is not None and header.data_bytes is None


def test_wav_header_skips_other_chunks_and_keeps_other_codecs(make_riff: Callable[..., bytes]) -> None:
    wav = make_riff(b"", 8000, 1, bits=4, tag=0x11)  # IMA ADPCM: left to FFmpeg
    wav = wav[:12] + b"LIST\x03\x00\x00\x00abc\x00" + wav[12:]  # odd-sized chunk, padded
    header = parse_wav_header(wav)
    assert header is not None and header.pcm is None and header.data_offset == 56


@pytest.mark.parametrize("head", [b"RIFF\x00\x00\x00\x00AVI LIST", b"RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00"])
def test_wav_header_errors(head: bytes) -> None:
    with pytest.raises(AudioDecodeError):
        parse_wav_header(head)
