"""`openlisten.stream`: live transcription in-process, with the real model, as the WebSocket sends it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

import openlisten
from openlisten.wire.live import ListenV1Metadata, ListenV1Results
from tests.conftest import espeak_samples, words_of


async def pieces(samples: np.ndarray, step: int) -> AsyncIterator[bytes]:
    """linear16 in pieces, as fast as they are read (the session keeps stream time, not wall time)."""
    for first in range(0, len(samples), step):
        yield samples[first : first + step].tobytes()
        await asyncio.sleep(0)


def speech(text: str) -> tuple[np.ndarray, int]:
    samples, rate = espeak_samples(text)
    silence = np.zeros(rate, dtype=np.int16)
    return np.concatenate([silence, samples, silence]), rate


async def collect(samples: np.ndarray, **params: object) -> list[object]:
    return [m async for m in openlisten.stream(pieces(samples, 1600), **params)]


def test_stream_yields_the_websocket_messages_with_every_word() -> None:
    samples, rate = speech("my name is Alice and I live in Paris")
    messages = asyncio.run(
        collect(samples, encoding="linear16", sample_rate=rate, interim_results=True, punctuate=True)
    )
    results = [m for m in messages if isinstance(m, ListenV1Results)]
    finals = " ".join(m.channel.alternatives[0].transcript for m in results if m.is_final)
    assert words_of(finals) == ["my", "name", "is", "alice", "and", "i", "live", "in", "paris"]
    assert isinstance(messages[-1], ListenV1Metadata)
    assert results[0].metadata.model_info.name


def test_stream_refuses_bad_parameters_and_closes_on_bad_audio() -> None:
    with pytest.raises(openlisten.InvalidParameter):
        asyncio.run(collect(speech("hello")[0], encoding="linear16", sample_rate=16000, endpointing="soon"))
    junk = np.frombuffer(b"this is not audio in any container " * 400, dtype=np.int16)
    with pytest.raises(openlisten.StreamClosed) as closed:
        asyncio.run(collect(junk))
    assert closed.value.close_code == 1008
