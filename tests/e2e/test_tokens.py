"""Temporary tokens through the official SDK, on the WebSocket handshake (spec/listen-v1.md §6.1, §7.3)."""

from __future__ import annotations

from typing import Any

import pytest
import websockets.exceptions
from deepgram import DeepgramClient
from deepgram.listen.v1.types.listen_v1metadata import ListenV1Metadata

from tests.conftest import espeak_samples
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def stream(client: DeepgramClient) -> list[Any]:
    samples, rate = espeak_samples("Still working.")
    pcm = samples.tobytes()
    with client.listen.v1.connect(model="nova-3", encoding="linear16", sample_rate=rate) as connection:
        for offset in range(0, len(pcm), rate // 5):
            connection.send_media(pcm[offset : offset + rate // 5])
        connection.send_close_stream()
        return list(connection)  # until the server closes the socket


def test_a_granted_token_opens_a_live_session(client: DeepgramClient, live_server: LiveServer) -> None:
    token = client.auth.v1.tokens.grant(ttl_seconds=60).access_token
    with_token = DeepgramClient(access_token=token, environment=live_server.environment(), max_retries=0)
    messages = stream(with_token)
    assert any(isinstance(message, ListenV1Metadata) for message in messages)


def test_a_bad_token_is_refused_at_the_handshake(live_server: LiveServer) -> None:
    forged = DeepgramClient(access_token="e30.e30.forged", environment=live_server.environment(), max_retries=0)
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        stream(forged)
    assert refused.value.response.status_code == 401
