"""`AudioLimits`: sample rates and durations are checked on what the bytes declare, before resampling."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from openlisten.audio import AudioLimits, RawFormat, StreamDecoder, decode_audio
from openlisten.audio.stream import MAX_PIECE_CHANNEL_S
from openlisten.errors import AudioDecodeError, PayloadTooLarge
from tests.audio.conftest import riff


def flac_silence(rate: int, seconds: float) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as output:
        stream = output.add_stream("flac", rate=rate, layout="mono")
        zeros = np.zeros((1, 4608), dtype=np.int16)
        for start in range(0, int(rate * seconds), 4608):
            frame = av.AudioFrame.from_ndarray(zeros, format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize("rate", [1, 100, 7999, 192_001])
def test_rates_outside_8k_to_192k_are_refused_everywhere(rate: int) -> None:
    wav = riff(b"\0" * 4000, rate, 1)
    with pytest.raises(AudioDecodeError, match=f"{rate} Hz"):
        decode_audio(wav)
    with pytest.raises(AudioDecodeError, match=f"{rate} Hz"):
        StreamDecoder(None).feed(wav)
    if rate >= 1000:
        with pytest.raises(AudioDecodeError, match=f"{rate} Hz"):
            decode_audio(b"\0" * 4000, RawFormat("linear16", rate))
        with pytest.raises(AudioDecodeError, match=f"{rate} Hz"):
            StreamDecoder(RawFormat("linear16", rate)).feed(b"\0" * 4000)


def test_a_setting_may_take_lower_rates() -> None:
    audio = decode_audio(riff(b"\0" * 8000, 4000, 1), limits=AudioLimits(min_sample_rate=4000))
    assert audio.duration_s == pytest.approx(1.0, abs=0.01)


def test_a_flac_at_1_hz_is_refused_before_it_is_resampled() -> None:
    data = flac_silence(1, 49_000)  # 12 KB declaring 13 hours
    with pytest.raises(AudioDecodeError, match="1 Hz"):
        decode_audio(data)


def test_the_declared_duration_is_refused_before_decoding() -> None:
    data = flac_silence(8000, 700)
    with pytest.raises(PayloadTooLarge, match="at least 6"):  # the header's 700 s, less 10 % slack
        decode_audio(data, limits=AudioLimits(max_channel_seconds=600))


def test_durations_count_every_channel() -> None:
    stereo = b"\0" * (2 * 2 * 16000 * 40)  # 40 s of 16-bit stereo
    decode_audio(stereo, RawFormat("linear16", 16000, 2), limits=AudioLimits(max_channel_seconds=80))
    with pytest.raises(PayloadTooLarge, match="× 2 channels"):
        decode_audio(stereo, RawFormat("linear16", 16000, 2), limits=AudioLimits(max_channel_seconds=79))


def test_a_live_stream_counts_its_duration_and_refuses_a_huge_piece() -> None:
    decoder = StreamDecoder(RawFormat("mulaw", 8000), AudioLimits(max_channel_seconds=10))
    decoder.feed(b"\xff" * 8000 * 6)
    with pytest.raises(PayloadTooLarge):
        decoder.feed(b"\xff" * 8000 * 6)
    piece = int(MAX_PIECE_CHANNEL_S + 1) * 8000
    with pytest.raises(AudioDecodeError, match="one message"):
        StreamDecoder(RawFormat("mulaw", 8000)).feed(b"\xff" * piece)


def test_wavs_pyav_cannot_open_are_decode_errors() -> None:
    for tag, bits in ((0, 16), (0x1234, 16), (1, 0), (3, 16)):
        fmt = struct.pack("<HHIIHH", tag, 1, 16000, 32000, 2, bits)
        wav = b"RIFF" + struct.pack("<I", 36 + 3200) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
        with pytest.raises(AudioDecodeError):
            decode_audio(wav + b"data" + struct.pack("<I", 3200) + b"\0" * 3200)
