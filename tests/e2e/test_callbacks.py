"""Callbacks through the official SDK, with the real model (spec/listen-v1.md §3.3 and the seed's example)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import pytest
from deepgram import DeepgramClient
from deepgram.types.listen_v1accepted_response import ListenV1AcceptedResponse
from deepgram.types.listen_v1response import ListenV1Response

from tests.callback_receiver import Receiver, callback_receiver
from tests.conftest import words_of
from tests.e2e.conftest import API_KEY

pytestmark = pytest.mark.e2e

KEY_ID = hashlib.sha256(API_KEY.encode()).hexdigest()[:12]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with callback_receiver() as receiver:
        yield receiver


def test_transcribe_file_with_callback(client: DeepgramClient, jfk_flac: bytes, receiver: Receiver) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=jfk_flac, model="nova-3", smart_format=True, callback=receiver.url
    )
    assert isinstance(response, ListenV1AcceptedResponse)
    [delivery] = receiver.wait_for(1, timeout_s=60)
    assert delivery.method == "POST" and delivery.headers["dg-token"] == KEY_ID
    transcript = ListenV1Response.model_validate(delivery.json())
    assert transcript.metadata.request_id == response.request_id
    text = transcript.results.channels[0].alternatives[0].transcript  # type: ignore[index]
    assert "ask not what your country can do for you" in " ".join(words_of(text))
    assert text[0].isupper()  # smart_format applied, as in the synchronous answer


def test_transcribe_url_with_put_callback(
    client: DeepgramClient, speak: Callable[..., bytes], serve_bytes: Callable[..., str], receiver: Receiver
) -> None:
    url = serve_bytes(speak("Still working."), "audio/wav")
    response = client.listen.v1.media.transcribe_url(
        url=url, callback=receiver.url, callback_method="PUT", model="nova-3"
    )
    assert isinstance(response, ListenV1AcceptedResponse)
    [delivery] = receiver.wait_for(1, timeout_s=60)
    assert delivery.method == "PUT"
    body = delivery.json()
    assert body["metadata"]["request_id"] == response.request_id
    assert "working" in words_of(body["results"]["channels"][0]["alternatives"][0]["transcript"])
