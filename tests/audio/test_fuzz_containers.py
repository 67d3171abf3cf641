"""Valid files with mutated headers: decoding gives audio within the limits, or a 4xx error; never anything else.

Headers are where a few bytes declare hours, thousands of channels or a sample rate of 1 Hz, so the
mutations go there (the first bytes, and bytes and integers overwritten at random in the first kilobyte).
"""

from __future__ import annotations

import functools
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openlisten.audio import AudioLimits, StreamDecoder, decode_audio
from openlisten.errors import RequestError
from tests.audio.conftest import encode, sine

LIMITS = AudioLimits(max_channel_seconds=30.0)
#: Samples any successful decode may hold at 16 kHz: the limit, plus a frame of slack.
MOST_SAMPLES = int((LIMITS.max_channel_seconds + 1) * 16000)

FORMATS = [
    ("wav", "pcm_s16le", 16000),
    ("flac", "flac", 16000),
    ("ogg", "libopus", 48000),
    ("mp3", "libmp3lame", 22050),
    ("webm", "libopus", 48000),
    ("mp4", "aac", 16000),
    ("wav", "pcm_mulaw", 8000),
]


@functools.cache
def sample_file(index: int) -> bytes:
    """A second of a stereo tone, in one of `FORMATS`."""
    container, codec, rate = FORMATS[index]
    return encode(sine([440, 660], 1.0, rate), rate, container, codec)


MUTATION = st.one_of(
    st.tuples(st.just("byte"), st.integers(0, 1023), st.integers(0, 255)),
    st.tuples(st.just("u16"), st.integers(0, 1022), st.sampled_from([0, 1, 2, 0x7FFF, 0xFFFF])),
    st.tuples(st.just("u32"), st.integers(0, 1020), st.sampled_from([0, 1, 8, 0x7FFFFFFF, 0xFFFFFFFF])),
    st.tuples(st.just("cut"), st.integers(0, 1023), st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    body = bytearray(data)
    for kind, offset, value in mutations:
        if offset >= len(body):
            continue
        if kind == "byte":
            body[offset] = value
        elif kind == "u16" and offset + 2 <= len(body):
            struct.pack_into("<H", body, offset, value)
        elif kind == "u32" and offset + 4 <= len(body):
            struct.pack_into("<I", body, offset, value)
        elif kind == "cut":
            del body[offset:]
    return bytes(body)


@pytest.mark.parametrize("index", range(len(FORMATS)), ids=[f"{c}-{k}" for c, k, _ in FORMATS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_headers_decode_within_limits_or_are_refused(index: int, mutations: list[tuple[str, int, int]]) -> None:
    data = mutate(sample_file(index), mutations)
    try:
        audio = decode_audio(data, limits=LIMITS)
    except RequestError:
        pass
    else:
        assert audio.pcm.shape[1] * audio.channels <= MOST_SAMPLES * 2


@pytest.mark.parametrize("index", range(len(FORMATS)), ids=[f"{c}-{k}" for c, k, _ in FORMATS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4), piece=st.sampled_from([7, 512, 4096]))
def test_mutated_headers_stream_within_limits_or_are_refused(
    index: int, mutations: list[tuple[str, int, int]], piece: int
) -> None:
    data = mutate(sample_file(index), mutations)
    decoder = StreamDecoder(None, LIMITS)
    total = 0
    try:
        for start in range(0, len(data), piece):
            total += decoder.feed(data[start : start + piece]).size
        total += decoder.flush().size
    except RequestError:
        pass
    finally:
        decoder.close()
    assert total <= MOST_SAMPLES * 2
