"""Concurrency limits (429 + Retry-After), upload size (413) and request timeouts (408, 504)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import pytest
from fastapi.testclient import TestClient

from openlisten.api.app import create_app
from openlisten.api.limits import ConcurrencyLimit
from openlisten.config import Settings
from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.engine.packed_decoder import DecodeItem, DecodeResult
from openlisten.errors import CapacityError, RequestTimeout
from openlisten.sources.body_limit import MinimumRate, read_limited
from tests.api.test_routes import AUTH, KEY
from tests.conftest import fake_engine, speech
from tests.e2e.conftest import serve_in_thread


class GatedDecoder(FakePackedDecoder):
    """Holds its first run until `gate` is set, so a test can keep a request in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def run(self, items: Sequence[DecodeItem]) -> Iterator[tuple[int, DecodeResult] | None]:
        if not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(10)
        return super().run(items)


class SlowDecoder(FakePackedDecoder):
    """Takes a second per run (a recording's chunk: up to 30 s of speech)."""

    def run(self, items: Sequence[DecodeItem]) -> Iterator[tuple[int, DecodeResult] | None]:
        time.sleep(1.0)
        return super().run(items)


def client(decoder: FakePackedDecoder | None = None, **settings: object) -> TestClient:
    config = Settings(**({"api_keys": [KEY, "other-key"], "shutdown_grace_s": 1} | settings))  # type: ignore[arg-type]
    return TestClient(create_app(engine=fake_engine(config, decoder)))


def hold_one_request(http: TestClient, decoder: GatedDecoder, headers: dict[str, str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: http.post("/v1/listen", content=speech(), headers=headers))
    thread.start()
    assert decoder.entered.wait(10)
    return thread


@pytest.mark.parametrize(
    ("limits", "second_key", "expected"),
    [
        ({"max_concurrent_requests": 1}, "other-key", 429),  # server-wide: any key waits
        ({"max_concurrent_requests_per_key": 1}, KEY, 429),  # per key: the same key waits
        ({"max_concurrent_requests_per_key": 1}, "other-key", 200),  # ... another key does not
    ],
)
def test_concurrency_limits(limits: dict[str, int], second_key: str, expected: int) -> None:
    decoder = GatedDecoder()
    with client(decoder, **limits) as http:
        held = hold_one_request(http, decoder, AUTH)
        answers = []
        second = threading.Thread(
            target=lambda: answers.append(
                http.post("/v1/listen", content=speech(), headers={"Authorization": f"Token {second_key}"})
            )
        )
        second.start()
        second.join(0.5)  # a 429 comes at once; an admitted request waits for the model behind the first
        decoder.gate.set()
        for thread in (held, second):
            thread.join(10)
        [response] = answers
        assert response.status_code == expected, response.text
        if expected == 429:
            assert response.headers["retry-after"] == "1"
            assert response.json()["err_code"] == "TOO_MANY_REQUESTS"
        # The slot is given back: the same key is served again.
        assert http.post("/v1/listen", content=speech(), headers=AUTH).status_code == 200


def test_limit_bookkeeping() -> None:
    limit = ConcurrencyLimit("things", total=2, per_key=1)
    limit.acquire("a")
    with pytest.raises(CapacityError, match="for this key"):
        limit.acquire("a")
    with limit.slot("b"):
        assert limit.active == 2
        with pytest.raises(CapacityError, match="on this server"):
            limit.acquire("c")
    limit.release("a")
    assert limit.active == 0
    unlimited = ConcurrencyLimit("things")
    for _ in range(100):
        unlimited.acquire("a")


def test_oversize_chunked_body_is_413_for_callbacks_too() -> None:
    with client(max_upload_bytes=1000, callback_allowed_hosts=["127.0.0.1"]) as http:
        chunks = iter([b"\0" * 600, b"\0" * 600])
        response = http.post("/v1/listen?callback=http://127.0.0.1:9/", content=chunks, headers=AUTH)
        assert response.status_code == 413 and response.json()["err_code"] == "PAYLOAD_TOO_LARGE"
        assert http.app.state.services.store.pending_jobs() == 0  # type: ignore[attr-defined]


def test_transcription_past_the_request_timeout_is_504() -> None:
    with client(SlowDecoder(), request_timeout_s=0.2) as http:  # stopped at its first chunk of three
        response = http.post("/v1/listen", content=speech(70.0, repeated=True), headers=AUTH)
    assert response.status_code == 504, response.text
    assert response.json()["err_code"] == "REQUEST_TIMEOUT" and "callback" in response.json()["err_msg"]


def test_a_body_that_stops_arriving_is_408() -> None:
    settings = Settings(api_keys=[KEY], request_timeout_s=0.5, shutdown_grace_s=1)
    app = create_app(engine=fake_engine(settings))
    server, stop = serve_in_thread(settings, app)
    try:
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /v1/listen HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + KEY.encode() + b"\r\n"
                b"Content-Length: 1000\r\n\r\n" + b"\0" * 10
            )
            reply = sock.recv(65536).decode()
    finally:
        stop()
    assert reply.startswith("HTTP/1.1 408"), reply
    assert '"err_code":"REQUEST_TIMEOUT"' in reply


async def _trickle(pieces: int, every_s: float) -> AsyncIterator[bytes]:
    for _ in range(pieces):
        await asyncio.sleep(every_s)
        yield b"x"


def test_a_body_slower_than_the_minimum_rate_is_cut_off_after_the_grace() -> None:
    rate = MinimumRate(bytes_per_s=1000, grace_s=0.2)
    with pytest.raises(RequestTimeout, match="minimum of 1000 bytes/s"):
        asyncio.run(read_limited(_trickle(100, 0.05), declared_length=None, max_bytes=10**6, what="the body",
                                 min_rate=rate))  # fmt: skip
    fast = asyncio.run(read_limited(_trickle(3, 0.01), declared_length=None, max_bytes=10**6, what="b", min_rate=rate))
    assert fast == b"xxx"
