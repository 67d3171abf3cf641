"""`openlisten serve` as a real process: callback jobs survive SIGKILL, and SIGTERM lets in-flight work finish.

The server runs with the real model; the audio is short, so each test stays around ten seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from openlisten.jobs.store import JobState, open_store
from tests.callback_receiver import callback_receiver
from tests.conftest import words_of

pytestmark = pytest.mark.e2e

API_KEY = "durable-key-5e0c9d1a"
OPENLISTEN = Path(sys.executable).parent / "openlisten"


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Token {API_KEY}"}
        return httpx.post(self.base_url + path, headers=headers, timeout=60, trust_env=False, **kwargs)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``start_server(*flags)``: `openlisten serve` on a free port, ready (model loaded) when it returns."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*flags: str) -> ServerProcess:
        port = free_port()
        log = tmp_path / f"server-{len(started)}.log"
        env = os.environ | {"OPENLISTEN_CALLBACK_RETRY_BASE_S": "0.2", "OPENLISTEN_SHUTDOWN_GRACE_S": "10"}
        args = [str(OPENLISTEN), "serve", "--port", str(port), "--api-key", API_KEY, *flags]
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        started.append(process)
        server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(server.base_url + "/readyz", trust_env=False).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_every_accepted_job_is_delivered_across_sigkill(
    tmp_path: Path, start_server: Callable[..., ServerProcess], speak: Callable[..., bytes]
) -> None:
    data_dir = tmp_path / "data"
    flags = ("--data-dir", str(data_dir), "--callback-allowed-host", "127.0.0.1")
    audio = speak("Still working.")
    with callback_receiver() as receiver:
        killed = threading.Event()
        # Before the kill, the receiver hangs: deliveries stay in flight. After it, it answers at once.
        receiver.delay_for = lambda n: 0.0 if killed.is_set() else 30.0
        first = start_server(*flags)
        accepted = []
        for _ in range(6):
            response = first.post("/v1/listen", params={"callback": receiver.url}, content=audio)
            assert response.status_code == 200, response.text
            accepted.append(response.json()["request_id"])
        receiver.wait_for(2, timeout_s=60)  # two jobs transcribed and in delivery (callback_concurrency = 2)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        killed.set()

        states = {job.request_id: job.state for job in open_store(data_dir).list_jobs()}
        assert set(states) == set(accepted)
        assert list(states.values()).count(JobState.RUNNING) == 2  # in flight when killed
        assert list(states.values()).count(JobState.QUEUED) == 4  # never started

        start_server(*flags)
        deadline = time.monotonic() + 60
        delivered: dict[str, dict[str, object]] = {}
        while set(delivered) != set(accepted):
            assert time.monotonic() < deadline, f"delivered {len(delivered)} of {len(accepted)}"
            for delivery in receiver.deliveries[2:]:  # the first two were cut off by the kill
                body = delivery.json()
                delivered[body["metadata"]["request_id"]] = body
            time.sleep(0.1)
    for body in delivered.values():
        transcript = body["results"]["channels"][0]["alternatives"][0]["transcript"]  # type: ignore[index]
        assert "working" in words_of(transcript)
    assert {job.state for job in open_store(data_dir).list_jobs()} == {JobState.DELIVERED}
    listing = subprocess.run(
        [str(OPENLISTEN), "jobs", "--data-dir", str(data_dir)], capture_output=True, text=True, check=True
    ).stdout
    assert listing.count("delivered") == len(accepted)


def test_sigterm_lets_the_request_in_flight_finish(
    start_server: Callable[..., ServerProcess], speak: Callable[..., bytes]
) -> None:
    server = start_server()
    audio = speak("Still working.")
    answers: list[httpx.Response] = []

    def slow_upload() -> Iterator[bytes]:
        for start in range(0, len(audio), len(audio) // 8 + 1):
            yield audio[start : start + len(audio) // 8 + 1]
            time.sleep(0.25)

    upload = threading.Thread(target=lambda: answers.append(server.post("/v1/listen", content=slow_upload())))
    upload.start()
    time.sleep(0.6)  # the upload is under way
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    refused = server.post("/v1/listen", content=audio)  # draining: new work is refused (the SDK retries a 503)
    upload.join(30)
    assert server.process.wait(30) == 0
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert "working" in words_of(answer.json()["results"]["channels"][0]["alternatives"][0]["transcript"])
    assert refused.status_code == 503 and refused.json()["err_code"] == "SERVICE_UNAVAILABLE"
    log = server.log.read_text()
    assert "draining" in log and API_KEY not in log
