"""Every bad input is a clear 4xx in Deepgram's error shape, and the server keeps serving."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
import pytest
from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.errors import BadRequestError

from tests.e2e.conftest import API_KEY, MAX_UPLOAD_BYTES, LiveServer

pytestmark = pytest.mark.e2e


def expect_error(call: Callable[[], object], status: int, err_code: str | None = None) -> dict[str, str]:
    with pytest.raises(ApiError) as caught:
        call()
    error = caught.value
    assert error.status_code == status, error.body
    assert isinstance(error.body, dict), error.body
    assert set(error.body) == {"err_code", "err_msg", "request_id"}
    assert error.body["err_msg"]
    if err_code:
        assert error.body["err_code"] == err_code
    if status == 400:
        assert isinstance(error, BadRequestError)
    return error.body


@pytest.fixture
def still_serving(client: DeepgramClient, speak: Callable[..., bytes]) -> Callable[[], None]:
    def check() -> None:
        response = client.listen.v1.media.transcribe_file(request=speak("Still working."), model="nova-3")
        assert "working" in response.results.channels[0].alternatives[0].transcript

    return check


def wav_header_only(data: bytes) -> bytes:
    return data[:44]


def text_body() -> bytes:
    return b"This is a plain text file, not audio at all.\n" * 20


def truncated_mp3() -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=16000, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=16000)
        frame.planes[0].update(bytes(32000))
        frame.rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()[:200]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(bytes(range(256)) * 64, id="random-bytes"),
        pytest.param(text_body(), id="text-file"),
        pytest.param(b"RIFF\x24\x80\x00\x00WAVEfmt ", id="truncated-wav"),
        pytest.param(truncated_mp3(), id="truncated-mp3"),
    ],
)
def test_undecodable_bodies_are_400(client: DeepgramClient, body: bytes, still_serving: Callable[[], None]) -> None:
    expect_error(lambda: client.listen.v1.media.transcribe_file(request=body, model="nova-3"), 400)
    still_serving()


def test_container_bytes_with_a_raw_encoding_are_400(
    client: DeepgramClient, speak: Callable[..., bytes], still_serving: Callable[[], None]
) -> None:
    body = expect_error(
        lambda: client.listen.v1.media.transcribe_file(
            request=speak("hello"),
            model="nova-3",
            encoding="linear16",
            request_options={"additional_query_parameters": {"sample_rate": 16000}},
        ),
        400,
    )
    assert "WAV" in body["err_msg"]
    still_serving()


def test_unsupported_encoding_is_400(client: DeepgramClient, still_serving: Callable[[], None]) -> None:
    body = expect_error(
        lambda: client.listen.v1.media.transcribe_file(
            request=b"\x00" * 3200,
            model="nova-3",
            request_options={"additional_query_parameters": {"encoding": "pcm_s24be", "sample_rate": 16000}},
        ),
        400,
        "INVALID_QUERY_PARAMETER",
    )
    assert "pcm_s24be" in body["err_msg"]
    still_serving()


def test_malformed_known_parameter_is_400(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    expect_error(
        lambda: client.listen.v1.media.transcribe_file(
            request=speak("hello"),
            model="nova-3",
            request_options={"additional_query_parameters": {"punctuate": "yes"}},
        ),
        400,
        "INVALID_QUERY_PARAMETER",
    )


def test_unknown_model_is_400(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    body = expect_error(
        lambda: client.listen.v1.media.transcribe_file(request=speak("hello"), model="no-such-model"), 400
    )
    assert "no-such-model" in body["err_msg"]


def test_unknown_parameters_are_ignored(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=speak("hello there"),
        model="nova-3",
        mip_opt_out=True,
        request_options={"additional_query_parameters": {"no_such_option": "1", "version": "latest"}},
    )
    assert "hello" in response.results.channels[0].alternatives[0].transcript


def test_unreachable_url_is_400(client: DeepgramClient, still_serving: Callable[[], None]) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = expect_error(
        lambda: client.listen.v1.media.transcribe_url(url=f"http://127.0.0.1:{port}/a.wav", model="nova-3"), 400
    )
    assert "could not fetch" in body["err_msg"]
    still_serving()


def test_url_returning_html_is_400(client: DeepgramClient, serve_bytes: Callable[..., str]) -> None:
    url = serve_bytes(b"<html><body>Not audio</body></html>", "text/html; charset=utf-8")
    body = expect_error(lambda: client.listen.v1.media.transcribe_url(url=url, model="nova-3"), 400)
    assert "HTML" in body["err_msg"]


def test_url_answering_404_is_400(client: DeepgramClient, serve_bytes: Callable[..., str]) -> None:
    url = serve_bytes(b"gone", "text/plain", status=404)
    body = expect_error(lambda: client.listen.v1.media.transcribe_url(url=url, model="nova-3"), 400)
    assert "404" in body["err_msg"]


def test_oversize_body_is_413(client: DeepgramClient, still_serving: Callable[[], None]) -> None:
    too_big = bytes(MAX_UPLOAD_BYTES + 1)
    expect_error(lambda: client.listen.v1.media.transcribe_file(request=too_big, model="nova-3"), 413)
    chunked = iter([bytes(1 << 20)] * (MAX_UPLOAD_BYTES // (1 << 20) + 1))
    expect_error(lambda: client.listen.v1.media.transcribe_file(request=chunked, model="nova-3"), 413)
    still_serving()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"uri": "http://x"}', b'{"url": 5}', b"[]"],
    ids=["broken", "no-url", "url-not-string", "array"],
)
def test_bad_json_body_is_400(live_server: LiveServer, body: bytes) -> None:
    response = httpx.post(
        f"{live_server.base_url}/v1/listen",
        content=body,
        headers={"Authorization": f"Token {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"err_code", "err_msg", "request_id"}
    assert response.headers["dg-request-id"] == response.json()["request_id"]


def test_private_urls_are_refused_by_default(
    sdk_client: Callable[..., DeepgramClient], speak: Callable[..., bytes], serve_bytes: Callable[..., str]
) -> None:
    from openlisten.config import Settings
    from tests.e2e.conftest import serve_in_thread

    server, stop = serve_in_thread(Settings(api_keys=[API_KEY]))
    try:
        client = sdk_client(server=server)
        url = serve_bytes(speak("hello"))
        body = expect_error(lambda: client.listen.v1.media.transcribe_url(url=url, model="nova-3"), 400)
        assert "non-public address 127.0.0.1" in body["err_msg"]
    finally:
        stop()


@pytest.mark.parametrize("key", [None, "wrong-key"], ids=["missing", "wrong"])
def test_missing_or_wrong_key_is_401(
    live_server: LiveServer,
    sdk_client: Callable[..., DeepgramClient],
    key: str | None,
    speak: Callable[..., bytes],
    still_serving: Callable[[], None],
) -> None:
    headers = {} if key is None else {"Authorization": f"Token {key}"}
    response = httpx.post(f"{live_server.base_url}/v1/listen", content=speak("hello"), headers=headers)
    assert response.status_code == 401
    assert response.json()["err_code"] == "INVALID_AUTH"
    bad = sdk_client(api_key="wrong-key")
    expect_error(
        lambda: bad.listen.v1.media.transcribe_file(request=speak("hello"), model="nova-3"), 401, "INVALID_AUTH"
    )
    still_serving()


def test_token_scheme_is_case_insensitive(live_server: LiveServer, speak: Callable[..., bytes]) -> None:
    response = httpx.post(
        f"{live_server.base_url}/v1/listen?model=nova-3",
        content=speak("hello"),
        headers={"Authorization": f"token {API_KEY}"},
    )
    assert response.status_code == 200
