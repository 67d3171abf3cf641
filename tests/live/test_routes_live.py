"""WebSocket ``/v1/listen`` in-process (TestClient), with a fake decoder: the handshake and the frames."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from deepgram.listen.v1.types import (
    ListenV1ConfigureSuccess,
    ListenV1Error,
    ListenV1Metadata,
    ListenV1Results,
    ListenV1SpeechStarted,
)
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from openlisten.api.app import create_app
from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.engine.vad import EnergyDetector
from openlisten.live.service import LiveService
from tests.live.helpers import pcm16, silence, tone

KEY = "live-key"
AUTH = {"Authorization": f"Token {KEY}"}
RAW = "/v1/listen?model=nova-3&encoding=linear16&sample_rate=16000"


def make_app(idle_timeout_s: float = 10.0, **settings: Any) -> FastAPI:
    config = Settings(api_keys=[KEY], **settings)
    engine = Engine(config, decoder_for=lambda spec: FakePackedDecoder("hello there world"))
    app = create_app(engine=engine)
    app.state.live = LiveService(engine, detector_factory=EnergyDetector, idle_timeout_s=idle_timeout_s)
    return app


@pytest.fixture
def http() -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client


def receive_all(ws: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every text message until the close, and the close."""
    messages = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return messages, message
        messages.append(json.loads(message["text"]))


def refused(http: TestClient, url: str, headers: dict[str, str] | None = None) -> WebSocketDenialResponse:
    with pytest.raises(WebSocketDenialResponse) as caught, http.websocket_connect(url, headers=headers or {}):
        pass
    return caught.value


def test_a_stream_gives_results_then_metadata_then_close_1000(http: TestClient) -> None:
    with http.websocket_connect(RAW + "&interim_results=true&vad_events=true&punctuate=true", headers=AUTH) as ws:
        speech, rest = pcm16(silence(0.5), tone(1.2)), pcm16(silence(1.0))
        for offset in range(0, len(speech), 3200):
            ws.send_bytes(speech[offset : offset + 3200])
        # SpeechStarted comes from the VAD alone; interims depend on the scheduler's pace under load, so
        # they are checked in tests/e2e/test_live.py rather than waited for here.
        early = [json.loads(ws.receive_text())]
        ws.send_bytes(rest)
        ws.send_text(json.dumps({"type": "KeepAlive"}))
        ws.send_text(json.dumps({"type": "CloseStream"}))
        messages, close = receive_all(ws)
        messages = early + messages
    assert close["code"] == 1000
    types = [m["type"] for m in messages]
    assert types[0] == "SpeechStarted" and types[-1] == "Metadata" and types.count("Metadata") == 1
    results = [ListenV1Results.model_validate(m) for m in messages if m["type"] == "Results"]
    final = [r for r in results if r.speech_final][0]
    assert final.channel.alternatives[0].transcript == "Hello there world"
    assert [w.word for w in final.channel.alternatives[0].words] == ["hello", "there", "world"]
    assert final.metadata.model_info.name == "nova-3" and final.channel_index == [0, 1]
    ListenV1SpeechStarted.model_validate(messages[0])
    metadata = ListenV1Metadata.model_validate(messages[-1])
    assert metadata.duration == pytest.approx(2.7) and metadata.channels == 1
    assert len({m["metadata"]["request_id"] for m in messages if m["type"] == "Results"} | {metadata.request_id}) == 1


def test_the_101_carries_a_request_id(http: TestClient) -> None:
    with http.websocket_connect(RAW, headers=AUTH) as ws:
        ws.send_text(json.dumps({"type": "CloseStream"}))
        messages, _ = receive_all(ws)
    assert messages[0]["type"] == "Metadata" and messages[0]["channels"] == 0


def test_browser_auth_selects_the_offered_subprotocol(http: TestClient) -> None:
    with http.websocket_connect(RAW, subprotocols=["token", KEY]) as ws:
        assert ws.accepted_subprotocol == "token"
        ws.send_bytes(b"")  # the old end-of-stream signal
        messages, close = receive_all(ws)
    assert [m["type"] for m in messages] == ["Metadata"] and close["code"] == 1000
    with http.websocket_connect(RAW, headers=AUTH) as ws:
        assert ws.accepted_subprotocol is None


@pytest.mark.parametrize(
    ("url", "headers", "status", "err_code"),
    [
        (RAW, None, 401, "INVALID_AUTH"),
        (RAW, {"Authorization": "Token wrong"}, 401, "INVALID_AUTH"),
        ("/v1/listen?encoding=linear16", AUTH, 400, "INVALID_QUERY_PARAMETER"),
        (RAW + "&interim_results=maybe", AUTH, 400, "INVALID_QUERY_PARAMETER"),
        (RAW + "&model=nope-9", AUTH, 400, "INVALID_QUERY_PARAMETER"),
        (RAW + "&language=fr", AUTH, 400, "INVALID_QUERY_PARAMETER"),
        (RAW + "&summarize=true", AUTH, 400, "UNSUPPORTED_FEATURE"),
    ],
)
def test_a_refused_handshake_is_an_http_error_in_deepgrams_shape(
    http: TestClient, url: str, headers: dict[str, str] | None, status: int, err_code: str
) -> None:
    denial = refused(http, url, headers)
    assert denial.status_code == status
    body = json.loads(denial.content)
    assert body["err_code"] == err_code and body["request_id"]
    assert denial.headers["dg-error"] == body["err_msg"][:200]
    assert denial.headers["dg-request-id"] == body["request_id"]


def test_a_bad_browser_key_is_refused(http: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as caught, http.websocket_connect(RAW, subprotocols=["token", "bad"]):
        pass
    assert caught.value.status_code == 401


def test_over_the_session_cap_is_429() -> None:
    with TestClient(make_app(max_live_sessions=1)) as http, http.websocket_connect(RAW, headers=AUTH) as first:
        denial = refused(http, RAW, AUTH)
        assert denial.status_code == 429 and denial.headers["retry-after"] == "1"
        assert json.loads(denial.content)["err_code"] == "TOO_MANY_REQUESTS"
        first.send_text(json.dumps({"type": "CloseStream"}))
        receive_all(first)
    with TestClient(make_app(max_live_sessions=1)) as http, http.websocket_connect(RAW, headers=AUTH) as again:
        again.send_text(json.dumps({"type": "CloseStream"}))
        receive_all(again)


def test_unknown_text_gets_an_error_and_the_stream_goes_on(http: TestClient) -> None:
    with http.websocket_connect(RAW, headers=AUTH) as ws:
        for text in ['{"type": "Finalise"}', "not json", "[1, 2]", '{"type": "Finalize", "channel": -1}']:
            ws.send_text(text)
        ws.send_text(json.dumps({"type": "Configure", "keyterms": ["OpenListen"]}))
        ws.send_text(json.dumps({"type": "CloseStream"}))
        messages, close = receive_all(ws)
    errors = [ListenV1Error.model_validate(m) for m in messages if m["type"] == "Error"]
    assert [e.variant for e in errors] == ["SchemaError"] * 4
    assert errors[0].message == '{"type": "Finalise"}' and "Finalise" in errors[0].description
    success = ListenV1ConfigureSuccess.model_validate(messages[4])
    assert success.keyterms == ["OpenListen"] and success.request_id == messages[-1]["request_id"]
    assert close["code"] == 1000


def test_undecodable_audio_closes_1008(http: TestClient) -> None:
    with http.websocket_connect("/v1/listen", headers=AUTH) as ws:
        ws.send_bytes(b"<html><body>this is not audio</body></html>" * 10)
        messages, close = receive_all(ws)
    assert messages == []
    assert close["code"] == 1008 and close["reason"].startswith("DATA-0000: ")


def test_a_client_that_leaves_without_closestream_frees_its_place() -> None:
    app = make_app(max_live_sessions=1)
    with TestClient(app) as http:
        with http.websocket_connect(RAW, headers=AUTH) as ws:
            ws.send_bytes(pcm16(tone(1.0)))
        deadline = time.monotonic() + 5
        while app.state.services.limits.live.active and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.services.limits.live.active == 0
        with http.websocket_connect(RAW, headers=AUTH) as ws:
            ws.send_text(json.dumps({"type": "CloseStream"}))
            assert receive_all(ws)[1]["code"] == 1000


def test_idle_streams_close_with_net0001() -> None:
    from openlisten.live.session import IDLE_REASON

    with TestClient(make_app(idle_timeout_s=0.3)) as http, http.websocket_connect(RAW, headers=AUTH) as ws:
        _, close = receive_all(ws)
    assert close["code"] == 1011 and close["reason"] == IDLE_REASON


def test_the_server_draining_refuses_new_streams_and_finishes_open_ones() -> None:
    app = make_app()
    with TestClient(app) as http:
        lifecycle = app.state.services.lifecycle
        with http.websocket_connect(RAW, headers=AUTH) as ws:
            ws.send_bytes(pcm16(tone(1.0)))
            http.portal.call(lifecycle.drain, 5.0)  # type: ignore[union-attr]
            messages, close = receive_all(ws)
        assert [m["type"] for m in messages][-1] == "Metadata" and close["code"] == 1000
        assert refused(http, RAW, AUTH).status_code == 503


def test_results_fields_match_the_golden_examples(http: TestClient) -> None:
    from tests.conftest import REPO

    golden = json.loads((REPO.parent / "shared/spec/fixtures/examples/ws-results-final-speech-final.json").read_text())
    with http.websocket_connect(RAW + "&punctuate=true", headers=AUTH) as ws:
        ws.send_bytes(pcm16(tone(1.0), silence(0.6)))
        ws.send_text(json.dumps({"type": "CloseStream"}))
        messages, _ = receive_all(ws)
    result = messages[0]
    assert list(result) == list(golden)
    assert list(result["channel"]["alternatives"][0]["words"][0]) == list(
        golden["channel"]["alternatives"][0]["words"][0]
    )
    assert list(result["metadata"]) == list(golden["metadata"])


def test_disconnect_errors_are_quiet(http: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), http.websocket_connect("/v1/listen/nope", headers=AUTH):
        pass
