"""Callback requests in-process (TestClient, fake recognizer) against a loopback receiver (spec §3.3)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openlisten.api.app import create_app
from openlisten.config import Settings
from openlisten.jobs.store import JobState
from tests.api.test_routes import AUTH, KEY
from tests.callback_receiver import Receiver, callback_receiver
from tests.conftest import fake_engine, speech, wav_bytes

KEY_ID = hashlib.sha256(KEY.encode()).hexdigest()[:12]


def make_client(**settings: object) -> TestClient:
    defaults: dict[str, object] = {
        "api_keys": [KEY],
        "callback_allowed_hosts": ["127.0.0.1"],
        "callback_retry_base_s": 0.05,
        "shutdown_grace_s": 1,
    }
    config = Settings(**(defaults | settings))  # type: ignore[arg-type]
    return TestClient(create_app(engine=fake_engine(config)))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with callback_receiver() as receiver:
        yield receiver


@pytest.fixture
def http() -> Iterator[TestClient]:
    with make_client() as client:  # the context runs the lifespan, which starts the callback worker
        yield client


def test_answers_at_once_then_delivers_what_a_sync_call_returns(http: TestClient, receiver: Receiver) -> None:
    accepted = http.post(f"/v1/listen?punctuate=true&tag=t&callback={receiver.url}", content=speech(), headers=AUTH)
    assert accepted.status_code == 200
    assert accepted.json() == {"request_id": accepted.headers["dg-request-id"]}
    [delivery] = receiver.wait_for(1)
    assert delivery.method == "POST" and delivery.headers["dg-token"] == KEY_ID
    delivered = delivery.json()
    assert delivered["metadata"]["request_id"] == accepted.json()["request_id"]
    sync = http.post("/v1/listen?punctuate=true&tag=t", content=speech(), headers=AUTH).json()
    for body in (delivered, sync):
        del body["metadata"]["request_id"], body["metadata"]["created"]
    assert delivered == sync


def test_url_source_with_put(receiver: Receiver) -> None:
    audio = speech()

    class Audio(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Audio)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with make_client(allow_private_urls=True) as client:
            url = f"http://127.0.0.1:{server.server_address[1]}/a.wav"
            query = {"callback": receiver.url, "callback_method": "put"}
            accepted = client.post("/v1/listen", params=query, json={"url": url}, headers=AUTH)
            assert accepted.status_code == 200, accepted.text
            [delivery] = receiver.wait_for(1)
    finally:
        server.shutdown()
        server.server_close()
    assert delivery.method == "PUT"
    assert delivery.json()["results"]["channels"][0]["alternatives"][0]["transcript"] == "hello world"


@pytest.mark.parametrize(
    "audio",
    [
        b"not audio" * 50,
        # A WAV whose format tag FFmpeg has no decoder for: PyAV opens it with no codec context.
        b"RIFF\x2c\x0c\x00\x00WAVEfmt \x10\x00\x00\x00\x34\x12\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00"
        b"\x02\x00\x10\x00data\x00\x0c\x00\x00" + b"\x00" * 3072,
    ],
    ids=["not audio", "wav format tag 0x1234"],
)
def test_audio_that_cannot_be_transcribed_delivers_the_error_body_at_once(
    http: TestClient, receiver: Receiver, audio: bytes
) -> None:
    accepted = http.post(f"/v1/listen?callback={receiver.url}", content=audio, headers=AUTH)
    assert accepted.status_code == 200
    [delivery] = receiver.wait_for(1)  # the first attempt carries the error: no retry of a permanent failure
    body = delivery.json()
    assert set(body) == {"err_code", "err_msg", "request_id"}
    assert body["request_id"] == accepted.json()["request_id"] and body["err_code"] == "Bad Request"


def test_a_token_may_submit_and_the_callback_names_its_key(http: TestClient, receiver: Receiver) -> None:
    token = http.post("/v1/auth/grant", headers=AUTH).json()["access_token"]
    accepted = http.post(
        f"/v1/listen?callback={receiver.url}", content=speech(), headers={"Authorization": f"bearer {token}"}
    )
    assert accepted.status_code == 200
    assert receiver.wait_for(1)[0].headers["dg-token"] == KEY_ID
    assert token not in str(receiver.deliveries[0].headers)


def test_the_job_is_stored_before_the_answer(http: TestClient, receiver: Receiver) -> None:
    receiver.delay_for = lambda n: 0.5
    accepted = http.post(f"/v1/listen?callback={receiver.url}", content=speech(), headers=AUTH)
    store = http.app.state.services.store  # type: ignore[attr-defined]
    [job] = store.list_jobs()
    assert job.request_id == accepted.json()["request_id"]
    assert job.state in (JobState.QUEUED, JobState.RUNNING)
    receiver.wait_for(1)


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        ("http://10.1.2.3/hook", "allowlist"),
        ("http://localhost.evil.example/hook", "allowlist"),
        ("ftp://127.0.0.1/hook", "http or https"),
        ("http://127.0.0.1:99999/hook", "malformed"),
        ("/relative", "http or https"),
    ],
)
def test_callback_urls_outside_the_rules_are_400(http: TestClient, callback: str, message: str) -> None:
    response = http.post("/v1/listen", params={"callback": callback}, content=speech(), headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["err_code"] == "INVALID_QUERY_PARAMETER" and message in response.json()["err_msg"]


def test_without_an_allowlist_the_url_fetch_rule_applies() -> None:
    with make_client(callback_allowed_hosts=[]) as client:
        response = client.post("/v1/listen?callback=http://127.0.0.1:9/hook", content=speech(), headers=AUTH)
        assert response.status_code == 400 and "non-public" in response.json()["err_msg"]
    with make_client(callback_allowed_hosts=["*.example.com"]) as client:
        ok = client.post("/v1/listen?callback=https://hooks.example.com/x", content=speech(), headers=AUTH)
        refused = client.post("/v1/listen?callback=https://example.org/x", content=speech(), headers=AUTH)
        assert (ok.status_code, refused.status_code) == (200, 400)


def test_bad_callback_method_and_empty_body_are_400(http: TestClient, receiver: Receiver) -> None:
    bad = http.post(f"/v1/listen?callback={receiver.url}&callback_method=GET", content=speech(), headers=AUTH)
    assert bad.status_code == 400 and "callback_method" in bad.json()["err_msg"]
    assert http.post(f"/v1/listen?callback={receiver.url}", content=b"", headers=AUTH).status_code == 400
    assert receiver.deliveries == []


def test_a_full_queue_is_429_with_retry_after(receiver: Receiver) -> None:
    receiver.delay_for = lambda n: 1.0
    with make_client(max_queued_callbacks=1) as client:
        first = client.post(f"/v1/listen?callback={receiver.url}", content=speech(), headers=AUTH)
        second = client.post(f"/v1/listen?callback={receiver.url}", content=speech(), headers=AUTH)
        assert first.status_code == 200
        assert second.status_code == 429 and second.headers["retry-after"] == "1"
        assert second.json()["err_code"] == "TOO_MANY_REQUESTS"


def test_silence_still_delivers_a_complete_response(http: TestClient, receiver: Receiver) -> None:
    silence = wav_bytes(np.zeros(8000, np.int16), 16000)
    http.post(f"/v1/listen?callback={receiver.url}", content=silence, headers=AUTH)
    body = receiver.wait_for(1)[0].json()
    assert body["results"]["channels"][0]["alternatives"][0]["transcript"] == ""


def test_the_embedded_api_refuses_callback() -> None:
    import openlisten

    with pytest.raises(openlisten.UnsupportedFeature, match="needs the server"):
        openlisten.transcribe(speech(), callback="https://example.com/hook")


def test_live_sessions_refuse_callback_rather_than_ignore_it() -> None:
    from openlisten.errors import UnsupportedFeature
    from openlisten.options import ListenOptions

    with pytest.raises(UnsupportedFeature, match="callback"):
        ListenOptions.from_query([("callback", "https://example.com/hook")]).check_live()
