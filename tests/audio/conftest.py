"""Audio made in the tests: sines written as WAV by hand or encoded by PyAV, and a frequency probe."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

#: Real speech, next to the repository (as in tests/conftest.py).
DATA = Path(__file__).resolve().parents[3] / "shared" / "eval-public" / "data"


def sine(freqs: float | list[float], seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """float32 `(channels, n)`: one sine per frequency, one channel each."""
    t = np.arange(round(seconds * rate)) / rate
    rows = [amplitude * np.sin(2 * np.pi * f * t) for f in np.atleast_1d(freqs)]
    return np.array(rows, dtype=np.float32)


def to_int16(samples: np.ndarray) -> bytes:
    """Interleave `(channels, n)` floats as little-endian 16-bit PCM."""
    return (np.round(samples.T * 32767).astype("<i2")).tobytes()


def riff(data: bytes, rate: int, channels: int, bits: int = 16, tag: int = 1, data_size: int | None = None) -> bytes:
    """A WAV file around `data`: format `tag` (1 PCM, 3 float, 6 A-law, 7 mu-law, 0xFFFE extensible)."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    if tag == 0xFFFE:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHIH", 22, bits, 0, 1) + guid_tail  # sub-format: PCM
    size = len(data) if data_size is None else data_size
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def encode(
    samples: np.ndarray, rate: int, container: str, codec: str, video: bool = False, **codec_options: str
) -> bytes:
    """Encode `(channels, n)` floats with PyAV, optionally behind a small video stream."""
    out = io.BytesIO()
    layout = {1: "mono", 2: "stereo"}.get(samples.shape[0], f"{samples.shape[0]}c")
    with av.open(out, "w", format=container) as file:
        if video:
            picture = file.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 32, 32, "yuv420p"
        stream = file.add_stream(codec, rate=rate, layout=layout, options=codec_options)
        step = stream.codec_context.frame_size or 1024
        for start in range(0, samples.shape[1], step):
            chunk = np.ascontiguousarray(samples[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate, frame.pts = rate, start
            file.mux(stream.encode(frame))
        file.mux(stream.encode(None))
        if video:
            for index in range(round(samples.shape[1] / rate * 10)):
                image = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
                image.pts = index
                file.mux(picture.encode(image))
            file.mux(picture.encode(None))
    return out.getvalue()


def dominant_hz(samples: np.ndarray, rate: int = 16000) -> float:
    """The strongest frequency in a 1-D signal."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * rate / samples.size)


@pytest.fixture
def make_sine() -> Callable[..., np.ndarray]:
    return sine


@pytest.fixture
def make_wav() -> Callable[..., bytes]:
    """WAV bytes from float `(channels, n)` samples as 16-bit PCM."""

    def make(samples: np.ndarray, rate: int, **options: int) -> bytes:
        return riff(to_int16(samples), rate, samples.shape[0], **options)

    return make


@pytest.fixture
def make_riff() -> Callable[..., bytes]:
    return riff


@pytest.fixture
def make_encoded() -> Callable[..., bytes]:
    return encode


@pytest.fixture
def peak_hz() -> Callable[..., float]:
    return dominant_hz


@pytest.fixture
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"{DATA} is not available")
    return DATA
