"""Whole bodies sniffed as containers (spec/listen-v1.md §3.1): formats, resampling, channels, bad bodies."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from openlisten.audio import SAMPLE_RATE, Audio, decode_audio
from openlisten.audio.decode import describe, sniff_container
from openlisten.errors import AudioDecodeError

# --- real speech -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "seconds", "channels"), [
    ("whisper/jfk.flac", 11.0, 2),
    ("deepgram-sdk/the-missile-short.wav", 6.2, 2),  # 48 kHz PCM
    ("deepgram-sdk/preamble-websocket.wav", 19.098, 1),  # 8 kHz mu-law WAV
    ("deepgram-sdk/preamble-rest.wav", 19.098, 1),  # 22.05 kHz
])  # fmt: skip
def test_real_recordings(name: str, seconds: float, channels: int, data_dir: Path) -> None:
    audio = decode_audio((data_dir / name).read_bytes())
    assert audio.channels == channels
    assert audio.duration_s == pytest.approx(seconds, abs=0.002)
    assert audio.samples.dtype == np.float32 and audio.samples.flags.c_contiguous
    assert 0.05 < np.abs(audio.samples).max() <= 1


# --- formats -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("container", "codec", "rate", "options", "tolerance_hz"), [
    ("mp3", "libmp3lame", 44100, {}, 3),
    ("flac", "flac", 48000, {}, 3),
    ("ogg", "libopus", 48000, {}, 3),
    ("ogg", "vorbis", 44100, {"strict": "experimental"}, 15),  # FFmpeg's own Vorbis encoder is crude
    ("webm", "libopus", 48000, {}, 3),
    ("ipod", "aac", 44100, {}, 3),  # .m4a
])  # fmt: skip
def test_containers(
    container: str,
    codec: str,
    rate: int,
    options: dict[str, str],
    tolerance_hz: float,
    make_sine: Callable[..., np.ndarray],
    make_encoded: Callable[..., bytes],
    peak_hz: Callable[..., float],
) -> None:
    data = make_encoded(make_sine([440, 1000], 1.0, rate), rate, container, codec, **options)
    audio = decode_audio(data)
    assert audio.channels == 2
    assert audio.duration_s == pytest.approx(1.0, abs=0.06)  # encoders pad a frame or two
    assert peak_hz(audio.channel(0)) == pytest.approx(440, abs=tolerance_hz)
    assert peak_hz(audio.channel(1)) == pytest.approx(1000, abs=tolerance_hz)


def test_mp4_video_uses_its_audio_track(
    make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes], peak_hz: Callable[..., float]
) -> None:
    data = make_encoded(make_sine(700, 1.0, 44100), 44100, "mp4", "aac", video=True)
    with av.open(io.BytesIO(data)) as file:
        assert file.streams.video  # really a video
    audio = decode_audio(data)
    assert audio.channels == 1
    assert audio.duration_s == pytest.approx(1.0, abs=0.06)
    assert peak_hz(audio.mixed()) == pytest.approx(700, abs=3)


@pytest.mark.parametrize(("tag", "bits", "encode"), [
    (1, 8, lambda x: (np.round(x * 127) + 128).astype(np.uint8).tobytes()),
    (1, 16, lambda x: np.round(x * 32767).astype("<i2").tobytes()),
    (1, 24, lambda x: b"".join(int(v).to_bytes(3, "little", signed=True) for v in np.round(x * 8388607))),
    (3, 32, lambda x: x.astype("<f4").tobytes()),
    (0xFFFE, 16, lambda x: np.round(x * 32767).astype("<i2").tobytes()),
])  # fmt: skip
def test_wav_sample_formats(
    tag: int,
    bits: int,
    encode: Callable[[np.ndarray], bytes],
    make_sine: Callable[..., np.ndarray],
    make_riff: Callable[..., bytes],
) -> None:
    samples = make_sine(440, 0.25, 16000)[0]
    audio = decode_audio(make_riff(encode(samples), 16000, 1, bits=bits, tag=tag))
    np.testing.assert_allclose(audio.mixed(), samples, atol=2 / 2 ** (min(bits, 16) - 1))  # held as int16


# --- resampling and channels -------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_wav_is_resampled_to_16k(
    rate: int, make_sine: Callable[..., np.ndarray], make_wav: Callable[..., bytes], peak_hz: Callable[..., float]
) -> None:
    audio = decode_audio(make_wav(make_sine(1500, 2.0, rate), rate))
    assert abs(audio.samples.shape[1] - 2 * SAMPLE_RATE) <= 2
    assert peak_hz(audio.mixed()) == pytest.approx(1500, abs=2)


def test_resampled_full_scale_stays_in_range(make_wav: Callable[..., bytes]) -> None:
    square = np.sign(np.sin(np.arange(44100) * 2 * np.pi * 300 / 44100))[None, :].astype(np.float32)
    audio = decode_audio(make_wav(square, 44100))
    assert np.abs(audio.samples).max() <= 1


def test_twelve_channels_stay_apart(
    make_sine: Callable[..., np.ndarray], make_wav: Callable[..., bytes], peak_hz: Callable[..., float]
) -> None:
    freqs = [200 + 150 * index for index in range(12)]  # more channels than FFmpeg's 8 in-line planes
    audio = decode_audio(make_wav(make_sine(freqs, 0.5, 48000, amplitude=0.2), 48000))
    assert audio.channels == 12
    assert [round(peak_hz(audio.channel(index))) for index in range(12)] == freqs


def test_more_than_32_channels_is_refused(make_wav: Callable[..., bytes]) -> None:
    with pytest.raises(AudioDecodeError, match="33 channels"):
        decode_audio(make_wav(np.zeros((33, 160), np.float32), 16000))


def test_audio_record() -> None:
    audio = Audio.from_float(np.array([[0.5, -0.5, 0.75, 0.0], [0.25, 0.5, 0.25, 0.0]], dtype=np.float32))
    assert audio.pcm.dtype == np.int16  # held at half the size of float32
    assert (audio.channels, audio.duration_s) == (2, 4 / SAMPLE_RATE)
    np.testing.assert_array_equal(audio.mixed(), [0.375, 0.0, 0.5, 0.0])
    np.testing.assert_array_equal(audio.channel(1), [0.25, 0.5, 0.25, 0.0])
    np.testing.assert_array_equal(audio.track(0)[1:3], [-0.5, 0.75])
    assert audio.mixed().dtype == np.float32 and audio.track(None)[:2].dtype == np.float32


# --- damaged and wrong bodies ------------------------------------------------------------------------------


def test_truncated_files_keep_what_decoded(
    make_sine: Callable[..., np.ndarray], make_wav: Callable[..., bytes], make_encoded: Callable[..., bytes]
) -> None:
    wav = make_wav(make_sine(440, 2.0, 16000), 16000)
    assert decode_audio(wav[: len(wav) // 2 + 1]).duration_s == pytest.approx(1.0, abs=0.01)
    mp3 = make_encoded(make_sine(440, 2.0, 44100), 44100, "mp3", "libmp3lame")
    assert decode_audio(mp3[: len(mp3) // 2]).duration_s == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(("data", "found"), [
    (b"", "empty"),
    (np.random.default_rng(3).bytes(20000), "not in a recognised audio format"),
    (b"Speech is silver, silence is golden.\n" * 40, "text"),
    (b'{"url": "https://example.com/a.wav"}', "text"),
    (b"<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>", "HTML page"),
    (bytes(10000), "not in a recognised audio format"),
])  # fmt: skip
def test_not_audio(data: bytes, found: str) -> None:
    with pytest.raises(AudioDecodeError, match=f"corrupt or unsupported data.*{found}"):
        decode_audio(data)


def test_truncated_without_audio(make_sine: Callable[..., np.ndarray], make_wav: Callable[..., bytes]) -> None:
    wav = make_wav(make_sine(440, 0.5, 16000), 16000)
    for data in (wav[:30], wav[:44], wav[:45]):
        with pytest.raises(AudioDecodeError, match="WAV"):
            decode_audio(data)


def test_truncated_mp3_without_audio(make_sine: Callable[..., np.ndarray], make_encoded: Callable[..., bytes]) -> None:
    mp3 = make_encoded(make_sine(440, 1.0, 44100), 44100, "mp3", "libmp3lame")
    with pytest.raises(AudioDecodeError, match="MP3"):
        decode_audio(mp3[:100])


def test_video_without_audio() -> None:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as file:
        stream = file.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for index in range(5):
            image = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            image.pts = index
            file.mux(stream.encode(image))
        file.mux(stream.encode(None))
    with pytest.raises(AudioDecodeError, match="no audio stream"):
        decode_audio(out.getvalue())


def test_sniff_and_describe() -> None:
    assert sniff_container(b"RIFF\x00\x00\x00\x00WAVE") == "WAV"
    assert sniff_container(b"\x00\x00\x00\x18ftypmp42") == "MP4"
    assert sniff_container(b"\xff\xfb\x90\x64" + bytes(100)) is None  # one frame header alone is not enough
    assert describe(b"OggS\x00") == "the body looks like an Ogg file"
