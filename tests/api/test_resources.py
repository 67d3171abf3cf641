"""Hostile input against a real server process: every request gets its status, and none grows the server's
peak memory past the bound.

The server runs as a subprocess (`openlisten serve`, the real model), so its peak resident size (VmHWM)
is its own: before each case the peak is reset (``/proc/PID/clear_refs``), and after it the growth over
the resident size before is compared with the bound the README states, ``max(300 MB, 3 × the 16 kHz int16
size of the audio a request may hold)``. The server holds at most `MAX_AUDIO_S` (summed over channels), so
the bound here is 300 MB: inputs that declare hours must be refused before they cost it.

Linux only (``/proc``). The counts are printed at the end (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jiwer
import numpy as np
import pytest
import websockets

from openlisten.audio import decode_audio
from openlisten.audio.stream import MAX_PIECE_CHANNEL_S
from tests.audio.conftest import encode
from tests.conftest import EVAL, JFK_TEXT, words_of

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's memory from /proc"),
]

KEY = "resources-key-0123456789"
AUTH = {"Authorization": f"Token {KEY}"}
#: Seconds of audio a request or stream may hold, summed over channels.
MAX_AUDIO_S = 600
#: The bound on any one request's growth of the server's peak memory: max(300 MB, 3 × 600 s of int16).
BOUND_MIB = max(300, 3 * MAX_AUDIO_S * 16000 * 2 // 2**20)
#: REST slots: fewer than the slow uploads below, which must not take them.
SLOTS = 4
RATE = 16000

#: Status (or close code) of every hostile input that ran, by case family, for the closing report.
SEEN: collections.Counter[str] = collections.Counter()
#: The largest growth of the server's peak memory seen, in MiB, and its case.
LARGEST: list[tuple[int, str]] = [(0, "")]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/v1/listen"

    def memory_mib(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
        raise AssertionError(field)

    def growth_of(self, action: Callable[[], object], name: str = "") -> tuple[object, int]:
        """Run `action`; return its result and how far the server's peak memory rose above its size before."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        before = self.memory_mib("VmRSS")
        result = action()
        growth = self.memory_mib("VmHWM") - before
        LARGEST[0] = max(LARGEST[0], (growth, name))
        return result, growth


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = _free_port()
    log = tmp_path_factory.mktemp("resources") / "server.log"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("OPENLISTEN_")},
        "NO_PROXY": "127.0.0.1",
        "OPENLISTEN_API_KEYS": KEY,
        "OPENLISTEN_MAX_AUDIO_DURATION_S": str(MAX_AUDIO_S),
        "OPENLISTEN_MAX_CONCURRENT_REQUESTS": str(SLOTS),
        "OPENLISTEN_UPLOAD_GRACE_S": "2",
        "OPENLISTEN_CALLBACK_ALLOWED_HOSTS": "127.0.0.1",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "openlisten"), "serve", "--port", str(port), "--no-playground"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base_url + "/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    yield Server(process, base_url, log)
    alive = process.poll() is None
    process.terminate()
    process.wait(30)
    print("\nhostile inputs run:", sum(SEEN.values()), dict(sorted(SEEN.items())))
    growth, name = LARGEST[0]
    print(f"largest growth of the peak memory: +{growth} MiB ({name}); bound {BOUND_MIB} MiB")
    # Refused handshakes, hostile audio and aborted uploads are logged at INFO; nothing crashed the server.
    text = log.read_text()
    assert alive and "ERROR" not in text and "Traceback" not in text, text[-3000:]


# --- audio that declares more than it is ---------------------------------------------------------------------


def wav_header(rate: int, *, channels: int = 1, bits: int = 16, tag: int = 1, data_bytes: int = 0xFFFFFFFF) -> bytes:
    block = channels * max(bits, 8) // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    riff = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
    return riff + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data_bytes)


def encode_silence(container: str, codec: str, rate: int, seconds: float, channels: int = 1) -> bytes:
    """`seconds` of digital silence, encoded by PyAV: the zip bomb of audio (it compresses to almost nothing)."""
    return encode(np.zeros((channels, int(rate * seconds)), np.float32), rate, container, codec)


#: Silence a little longer than the server allows, in every container and codec PyAV writes that we read.
SILENCE_FORMATS = [
    ("flac", "flac", 16000),
    ("wav", "pcm_s16le", 8000),
    ("ogg", "libopus", 48000),
    ("ogg", "flac", 16000),
    ("mp3", "libmp3lame", 16000),
    ("webm", "libopus", 48000),
    ("mp4", "aac", 16000),
    ("matroska", "flac", 8000),
]


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    query: str = ""
    statuses: tuple[int, ...] = (400,)


def _flac_at(rate: int, seconds: float) -> bytes:
    return encode_silence("flac", "flac", rate, seconds)


def rest_cases() -> list[Case]:
    second = b"\0" * (2 * RATE)
    return [
        Case("flac at 1 Hz, 49,000 s in 12 KB", _flac_at(1, 49_000)),
        Case("flac at 100 Hz", _flac_at(100, 3000)),
        Case("wav at 1 Hz", wav_header(1, data_bytes=20_000) + b"\x01" * 20_000),
        Case("wav at 4 GHz", wav_header(4_000_000_000 // 2, data_bytes=2000) + b"\0" * 2000),
        Case("wav format tag 0", wav_header(RATE, tag=0, data_bytes=len(second)) + second),
        Case("wav format tag 0x1234", wav_header(RATE, tag=0x1234, data_bytes=len(second)) + second),
        Case("wav 0 bits per sample", wav_header(RATE, bits=0, data_bytes=len(second)) + second),
        Case("wav 16-bit float", wav_header(RATE, tag=3, bits=16, data_bytes=len(second)) + second),
        Case("wav 33 channels", wav_header(RATE, channels=33, data_bytes=66 * 100) + b"\0" * 66 * 100),
        Case("wav declaring 65535 channels", wav_header(RATE, channels=65535, data_bytes=100) + b"\0" * 100),
        Case("raw linear16 at 1000 Hz", b"\0" * 20_000, "?encoding=linear16&sample_rate=1000"),
        Case(
            "raw mulaw at 8 kHz over the cap",
            b"\xff" * (8000 * (MAX_AUDIO_S + 5)),
            "?encoding=mulaw&sample_rate=8000",
            (413,),
        ),  # fmt: skip
        Case(
            "raw linear16, 32 channels × 20 s",
            b"\0" * (2 * 32 * RATE * 20),
            "?encoding=linear16&sample_rate=16000&channels=32&multichannel=true",
            (413,),
        ),  # fmt: skip
        Case("opus, 6 channels × 120 s", encode_silence("ogg", "libopus", 48000, 120, channels=6), "", (413,)),
        *[
            Case(
                f"{container}/{codec} silence, {MAX_AUDIO_S + 30} s",
                encode_silence(container, codec, rate, MAX_AUDIO_S + 30),
                "",
                (413,),
            )  # fmt: skip
            for container, codec, rate in SILENCE_FORMATS
        ],
    ]


@pytest.fixture(scope="module")
def hostile_rest() -> list[Case]:
    return rest_cases()


def test_hostile_uploads_get_their_status_within_the_memory_bound(server: Server, hostile_rest: list[Case]) -> None:
    problems = []
    with httpx.Client(timeout=120) as client:
        for case in hostile_rest:
            response, growth = server.growth_of(
                lambda case=case: client.post(
                    server.base_url + "/v1/listen" + case.query, content=case.body, headers=AUTH
                ),
                case.name,
            )
            assert isinstance(response, httpx.Response)
            SEEN[f"rest {response.status_code}"] += 1
            if response.status_code not in case.statuses or growth > BOUND_MIB:
                problems.append(f"{case.name}: {response.status_code} {response.text[:160]} (+{growth} MiB)")
            assert response.json().get("err_code"), case.name  # Deepgram's error shape
        assert client.post(server.base_url + "/v1/listen", content=b"\0" * 3200, headers=AUTH,
                           params={"encoding": "linear16", "sample_rate": 16000}).status_code == 200  # fmt: skip
    assert not problems, "\n".join(problems)


def test_allowed_silence_is_transcribed_within_the_memory_bound(server: Server) -> None:
    body = encode_silence("flac", "flac", 16000, MAX_AUDIO_S - 10)
    with httpx.Client(timeout=300) as client:
        response, growth = server.growth_of(
            lambda: client.post(server.base_url + "/v1/listen", content=body, headers=AUTH), "allowed silence"
        )
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["duration"] == pytest.approx(MAX_AUDIO_S - 10, abs=0.2)
    assert growth <= BOUND_MIB


# --- live streams ------------------------------------------------------------------------------------------


async def _stream(url: str, frames: list[bytes], query: str = "") -> tuple[int | None, str]:
    async with websockets.connect(url + query, additional_headers=AUTH, max_size=None) as ws:
        try:
            for frame in frames:
                await ws.send(frame)
            await ws.send(json.dumps({"type": "CloseStream"}))
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass
        return ws.close_code, ws.close_reason


def live_cases() -> list[tuple[str, list[bytes], str, int]]:
    flac_stream = encode_silence("flac", "flac", 16000, MAX_AUDIO_S + 30)
    flac_bomb = encode_silence("flac", "flac", 8000, MAX_PIECE_CHANNEL_S + 60)
    return [
        ("wav header at 1 Hz, one 5 KB frame", [wav_header(1) + b"\x01\x02" * 2500], "", 1008),
        ("wav header at 4 MHz", [wav_header(4_000_000) + b"\0" * 4000], "", 1008),
        ("linear16 at 1000 Hz", [b"\0" * 20_000], "?encoding=linear16&sample_rate=1000", 1008),
        ("one 10 MB mulaw frame (20 min)", [b"\xff" * 10_000_000], "?encoding=mulaw&sample_rate=8000", 1008),
        (  # a live stream has no total duration: it holds only what is still to be decoded
            f"flac silence, {MAX_AUDIO_S + 30} s in 64 KB frames",
            [flac_stream[i : i + 65536] for i in range(0, len(flac_stream), 65536)],
            "",
            1000,
        ),
        (f"flac silence, {MAX_PIECE_CHANNEL_S + 60:.0f} s in one frame", [flac_bomb], "", 1008),
        ("20,000 one-byte frames", [b"\0"] * 20_000, "?encoding=linear16&sample_rate=16000", 1000),
        (
            "a WAV header that never ends",
            [b"RIFF\xff\xff\xff\xffWAVE" + b"LIST" + struct.pack("<I", 2**31)] + [b"\0" * 65536] * 20,
            "",
            1008,
        ),  # fmt: skip
    ]


def test_hostile_streams_close_within_the_memory_bound(server: Server) -> None:
    problems = []
    for name, frames, query, code in live_cases():
        result, growth = server.growth_of(lambda f=frames, q=query: asyncio.run(_stream(server.ws_url, f, q)), name)
        assert isinstance(result, tuple)
        closed, reason = result
        SEEN[f"live {closed}"] += 1
        if closed != code or growth > BOUND_MIB:
            problems.append(f"{name}: close {closed} {reason!r} (+{growth} MiB)")
    assert not problems, "\n".join(problems)


# --- slow bodies, bias terms, headers, handshakes ---------------------------------------------------------


def _trickle(port: int, stop: threading.Event, answers: list[bytes]) -> None:
    """An upload that sends one byte a second until the server answers."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /v1/listen HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + KEY.encode()
            + b"\r\nContent-Type: audio/wav\r\nContent-Length: 100000\r\n\r\n"
        )  # fmt: skip
        sock.settimeout(1.0)
        while not stop.is_set():
            try:
                answer = sock.recv(200)
            except TimeoutError:
                try:
                    sock.sendall(b"\0")
                except OSError:
                    return
                continue
            answers.append(answer)
            return


def test_slow_uploads_neither_hold_slots_nor_last(server: Server) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    stop, answers = threading.Event(), []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_trickle, args=(port, stop, answers)) for _ in range(2 * SLOTS)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    try:
        with httpx.Client(timeout=60) as client:  # every slot is free for others while the uploads trickle
            ok = client.post(server.base_url + "/v1/listen", content=b"\0" * 3200, headers=AUTH,
                             params={"encoding": "linear16", "sample_rate": 16000})  # fmt: skip
        assert ok.status_code == 200, ok.text
        for thread in threads:
            thread.join(30)  # the grace (2 s) plus the time to fall behind 8 KB/s
    finally:
        stop.set()
    SEEN["slow upload 408"] += sum(answer.startswith(b"HTTP/1.1 408") for answer in answers)
    assert len(answers) == 2 * SLOTS and all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers


def test_bias_terms_are_bounded_and_cost_a_small_multiple_of_a_plain_request(server: Server, jfk_flac: bytes) -> None:
    with httpx.Client(timeout=120) as client:

        def post(params: list[tuple[str, str | int | float | bool | None]]) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = client.post(server.base_url + "/v1/listen", content=jfk_flac, headers=AUTH, params=params)
            return response, time.monotonic() - started

        plain, plain_s = post([])
        assert plain.status_code == 200
        long_term, _ = post([("keyterm", " ".join(["hello"] * 120))])
        long_keyword, _ = post([("keywords", "x" * 500)])
        assert (long_term.status_code, long_keyword.status_code) == (400, 400)
        repeated, repeated_s = post([("keyterm", "hello")] * 120 + [("keywords", "hello:2")] * 100)
        SEEN["bias terms"] += 3
    assert repeated.status_code == 200
    assert repeated_s < 5 * plain_s + 5  # repeats count once: no more than a small multiple of a plain request


def test_control_characters_from_the_client_reach_no_header_and_no_log_line(server: Server) -> None:
    with httpx.Client(timeout=30) as client:
        response = client.post(server.base_url + "/v1/listen?redact=x%0d%0aForged:%201", content=b"\0", headers=AUTH)
        scopes = client.post(server.base_url + "/v1/projects/p/keys", headers=AUTH,
                             json={"comment": "c", "scopes": ["x\r\nForged: 2"]})  # fmt: skip
    assert response.status_code == 400 and "Forged" not in response.headers
    assert "\\r\\n" in response.headers["dg-error"] and "\\r\\n" in response.json()["err_msg"]
    assert scopes.status_code == 400 and "Forged" not in scopes.headers
    SEEN["control characters"] += 2
    time.sleep(0.2)
    assert not re.search(r"(?im)^forged", server.log.read_text())


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /v1/listen?x=" + b"a" * 9000 + b" HTTP/1.1\r\n", b"414"),
    (b"GET /v1/listen HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n", b"431"),
])  # fmt: skip
def test_an_over_long_handshake_is_answered_and_closed(server: Server, request_bytes: bytes, status: bytes) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    upgrade = b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head, _, rest = request_bytes.partition(b"\r\n")
        sock.sendall(head + b"\r\n" + upgrade + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + rest + b"\r\n")
        answer = sock.recv(100)
        assert answer.startswith(b"HTTP/1.1 " + status), answer
        sock.settimeout(5)
        while sock.recv(4096):  # then the server closes the socket
            pass
    SEEN[f"handshake {status.decode()}"] += 1


def test_an_aborted_upload_is_a_client_disconnect_not_a_server_error(server: Server) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /v1/listen HTTP/1.1\r\nHost: x\r\nAuthorization: Token " + KEY.encode()
            + b"\r\nContent-Length: 100000\r\n\r\n" + b"\0" * 1000
        )  # fmt: skip
        time.sleep(0.3)
    time.sleep(0.5)
    metrics = httpx.get(server.base_url + "/metrics").text
    assert re.search(r'openlisten_http_requests_total\{[^}]*status="499"[^}]*\} 1', metrics), metrics
    assert 'status="500"' not in metrics
    SEEN["aborted upload 499"] += 1


def test_a_key_creates_keys_with_no_more_than_its_own_scopes(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        made = client.post("/v1/projects/p/keys", headers=AUTH, json={"comment": "keys only", "scopes": ["keys"]})
        assert made.status_code == 200, made.text
        weaker = {"Authorization": f"Token {made.json()['key']}"}
        owner = client.post("/v1/projects/p/keys", headers=weaker, json={"comment": "up", "scopes": ["owner"]})
        same = client.post("/v1/projects/p/keys", headers=weaker, json={"comment": "same", "scopes": ["keys"]})
    assert owner.status_code == 403 and same.status_code == 200
    SEEN["key scopes"] += 1


def test_a_callback_host_with_a_trailing_dot_is_refused_at_once(server: Server) -> None:
    response = httpx.post(server.base_url + "/v1/listen", params={"callback": "http://127.0.0.1.:9/hook"},
                          content=b"\0" * 3200, headers=AUTH, timeout=30)  # fmt: skip
    assert response.status_code == 400 and "trailing dot" in response.json()["err_msg"]
    SEEN["callback host"] += 1


async def _stream_finals(url: str, frames: list[bytes]) -> tuple[int | None, list[str]]:
    """Send every frame at once (no pacing) and collect the words of the finals."""
    words: list[str] = []
    async with websockets.connect(url, additional_headers=AUTH, max_size=None) as ws:

        async def send() -> None:
            for frame in frames:
                await ws.send(frame)
            await ws.send(json.dumps({"type": "CloseStream"}))

        sender = asyncio.create_task(send())
        async for message in ws:
            event = json.loads(message)
            if event.get("type") == "Results" and event.get("is_final"):
                words += [w["word"] for w in event["channel"]["alternatives"][0]["words"]]
        await sender
        return ws.close_code, words


def test_a_stream_sent_far_faster_than_real_time_is_held_back_and_loses_no_word(server: Server) -> None:
    """150 s of read speech sent as fast as TCP takes it: the server stops reading while more than
    `MAX_BACKLOG_S` waits to be decoded, so memory stays bounded, and every sentence arrives once."""
    entries = [json.loads(line) for line in (EVAL / "manifests" / "pub_read.jsonl").read_text().splitlines()]
    pcm, texts = [], []
    for entry in entries:
        audio = decode_audio((EVAL / "manifests" / entry["audio"]).read_bytes())
        pcm.append(audio.pcm.mean(axis=0).astype("<i2") if audio.channels > 1 else audio.pcm[0].astype("<i2"))
        pcm.append(np.zeros(RATE // 2, "<i2"))
        texts.append(entry["text"])
        if sum(map(len, pcm)) > 150 * RATE:
            break
    data = np.concatenate(pcm).tobytes()
    frames = [data[i : i + 3200] for i in range(0, len(data), 3200)]
    url = server.ws_url + "?encoding=linear16&sample_rate=16000"
    result, growth = server.growth_of(lambda: asyncio.run(_stream_finals(url, frames)), "fast live sender")
    assert isinstance(result, tuple)
    closed, words = result
    SEEN[f"live {closed}"] += 1
    assert closed == 1000
    reference = words_of(" ".join(texts))
    heard = words_of(" ".join(words))
    assert jiwer.wer(" ".join(reference), " ".join(heard)) < 0.12
    assert growth <= BOUND_MIB


async def _finalize_spam(url: str, speech: bytes, count: int) -> tuple[int | None, int, list[str]]:
    """Speech, then `count` times one sample and a ``Finalize``, all sent at once: the close code, how many
    finals answered a ``Finalize``, and the words of the finals."""
    answers, words = 0, []
    async with websockets.connect(url, additional_headers=AUTH, max_size=None) as ws:

        async def send() -> None:
            await ws.send(speech)
            for _ in range(count):
                await ws.send(b"\x10\x00")
                await ws.send(json.dumps({"type": "Finalize"}))
            await ws.send(json.dumps({"type": "CloseStream"}))

        sender = asyncio.create_task(send())
        async for message in ws:
            event = json.loads(message)
            if event.get("type") == "Results" and event.get("is_final"):
                answers += bool(event.get("from_finalize"))
                words += [w["word"] for w in event["channel"]["alternatives"][0]["words"]]
        await sender
        return ws.close_code, answers, words


def test_finalize_after_every_sample_is_answered_each_time_within_the_memory_bound(
    server: Server, jfk_flac: bytes
) -> None:
    """A client sending ``Finalize`` after every sample while a final is decoded puts a final in line each
    time: past `MAX_FINALS_IN_LINE` the server stops reading, as for audio sent too fast; every ``Finalize``
    still gets its own answer, and no word is lost."""
    speech = decode_audio(jfk_flac).pcm[0].astype("<i2").tobytes()
    count = 1000
    url = server.ws_url + "?encoding=linear16&sample_rate=16000"
    result, growth = server.growth_of(lambda: asyncio.run(_finalize_spam(url, speech, count)), "Finalize spam")
    assert isinstance(result, tuple)
    closed, answers, words = result
    SEEN[f"live {closed}"] += 1
    assert closed == 1000
    assert answers == count
    assert jiwer.wer(" ".join(words_of(JFK_TEXT)), " ".join(words_of(" ".join(words)))) <= 0.15
    assert growth <= BOUND_MIB
