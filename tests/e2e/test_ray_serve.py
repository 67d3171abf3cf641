"""``openlisten serve --ray`` on a real local Ray cluster (a head and a second node process), two replicas
sharing a real PostgreSQL store, driven by the official SDK; then one replica's process is killed while
REST requests, a live session and callback jobs are in flight."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from deepgram.core.events import EventType
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.callback_receiver import Receiver, callback_receiver
from tests.conftest import EVAL, JFK_FLAC
from tests.e2e.conftest import API_KEY, LiveServer, async_sdk_client
from tests.e2e.test_sdk_smoke import run_smoke

pytestmark = pytest.mark.e2e

#: Ray names each replica's worker process after its actor.
REPLICA_PROCESS = "ServeReplica:openlisten:OpenListen"
#: Short, so that the jobs a killed replica held are resumed within the test.
LEASE_S = 3
LONG_WAV = EVAL / "derived" / "long" / "pub_long_00.wav"


@dataclass(frozen=True)
class RayServer:
    server: LiveServer
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ray(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(Path(sys.executable).with_name("ray")), *args], check=True, env=env, capture_output=True)


def replica_pids() -> list[int]:
    pids = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        with_name = " ".join(process.info["cmdline"] or [])
        if REPLICA_PROCESS in with_name and process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            pids.append(process.info["pid"])
    return pids


def wait_until(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s} s: {what}")


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory: pytest.TempPathFactory, postgres_url_module: str) -> Iterator[RayServer]:
    """A Ray head and a second node on this machine (one CPU each: one replica on each), and the server."""
    tmp = tmp_path_factory.mktemp("ray")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENLISTEN_", "RAY_"))}
    env |= {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", "NO_PROXY": "127.0.0.1,localhost"}
    gcs = f"127.0.0.1:{free_port()}"
    common = ["--num-cpus=1", "--disable-usage-stats"]
    ray("start", "--head", f"--port={gcs.split(':')[1]}", "--include-dashboard=false", *common, env=env)
    try:
        ray("start", f"--address={gcs}", *common, env=env)
        port = free_port()
        log = tmp / "serve.log"
        env_serve = env | {"OPENLISTEN_CALLBACK_LEASE_S": str(LEASE_S), "OPENLISTEN_SHUTDOWN_GRACE_S": "5"}
        command = [
            str(Path(sys.executable).with_name("openlisten")),
            "serve",
            "--ray",
            f"--ray-address={gcs}",
            "--replicas=2",
            f"--port={port}",
            f"--api-key={API_KEY}",
            f"--database-url={postgres_url_module}",
            "--allow-private-urls",
            "--callback-allowed-host=127.0.0.1",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env_serve, stdout=out, stderr=subprocess.STDOUT)
        server = LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
        try:
            wait_until(
                lambda: _ready(server) and len(replica_pids()) == 2, 180, "two replicas ready\n" + log.read_text()
            )
            yield RayServer(server, process, log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
    finally:
        subprocess.run([str(Path(sys.executable).with_name("ray")), "stop", "--force"], env=env, capture_output=True)


def _ready(server: LiveServer) -> bool:
    try:
        return httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_sdk_smoke_check_passes_through_two_replicas(ray_server: RayServer) -> None:
    statuses = run_smoke(ray_server.server)
    assert set(statuses.values()) == {"PASS"}, statuses


def test_prometheus_finds_every_replica_and_sums_them(ray_server: RayServer) -> None:
    base, headers = ray_server.server.base_url, {"Authorization": f"Token {API_KEY}", "Content-Type": "audio/flac"}
    wait_until(lambda: len(httpx.get(f"{base}/metrics/targets").json()) == 2, 30, "both replicas announced")
    before = _listen_requests(base)
    for _ in range(6):
        assert (
            httpx.post(f"{base}/v1/listen", headers=headers, content=JFK_FLAC.read_bytes(), timeout=60).status_code
            == 200
        )
    after = _listen_requests(base)
    assert sum(after.values()) - sum(before.values()) == 6
    assert len(after) == 2  # two replicas, told apart by their label


def _replica_metrics(base: str) -> Iterator[tuple[dict[str, Any], list[Sample]]]:
    """Each replica's target (from the service discovery) and its samples, scraped as Prometheus would."""
    for group in httpx.get(f"{base}/metrics/targets").json():
        text = httpx.get(f"http://{group['targets'][0]}{group['labels']['__metrics_path__']}").text
        yield group, [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _listen_requests(base: str) -> dict[str, float]:
    """``/v1/listen`` requests answered 200 so far, by replica."""
    counts = {}
    for group, samples in _replica_metrics(base):
        for sample in samples:
            labels = sample.labels
            wanted = sample.name == "openlisten_http_requests_total" and labels["route"] == "/v1/listen"
            if wanted and labels["status"] == "200":
                assert labels["replica"] == group["labels"]["replica"]
                counts[labels["replica"]] = counts.get(labels["replica"], 0.0) + sample.value
        counts.setdefault(group["labels"]["replica"], 0.0)
    return counts


def _replica_with_a_live_session(base: str, timeout_s: float = 30.0) -> int:
    """The process id of a replica with a live session open (its metrics say so, and it is the process
    listening on their port), waiting up to `timeout_s` for one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for group, samples in _replica_metrics(base):
            if any(sample.name == "openlisten_live_sessions_active" and sample.value > 0 for sample in samples):
                port = int(group["targets"][0].rsplit(":", 1)[1])
                for pid in replica_pids():
                    listening = psutil.Process(pid).net_connections()
                    if any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in listening):
                        return pid
        time.sleep(0.5)
    raise AssertionError(f"no replica said it held a live session within {timeout_s} s")


def test_keys_and_tokens_hold_on_every_replica(ray_server: RayServer) -> None:
    """A key made through one replica works on all; a token any replica signs works on all; a revoked key is
    refused by all at once (each of the 2 replicas is asked several times: Ray spreads the requests)."""
    base, admin = ray_server.server.base_url, {"Authorization": f"Token {API_KEY}"}
    made = httpx.post(f"{base}/v1/projects/p/keys", headers=admin, json={"comment": "ray", "scopes": ["member"]})
    assert made.status_code == 200, made.text
    key, key_id = made.json()["key"], made.json()["api_key_id"]
    token = httpx.post(f"{base}/v1/auth/grant", headers={"Authorization": f"Token {key}"}).json()["access_token"]
    for credential in (f"Token {key}", f"Bearer {token}"):
        statuses = {httpx.get(f"{base}/v1/models", headers={"Authorization": credential}).status_code for _ in range(8)}
        assert statuses == {200}, credential
    assert httpx.delete(f"{base}/v1/projects/p/keys/{key_id}", headers=admin).status_code == 200
    for credential in (f"Token {key}", f"Bearer {token}"):
        statuses = {httpx.get(f"{base}/v1/models", headers={"Authorization": credential}).status_code for _ in range(8)}
        assert statuses == {401}, credential


def test_a_replica_killed_mid_flight_loses_no_accepted_job(ray_server: RayServer) -> None:
    """REST calls complete or get a status the SDK retries; the live client sees its connection closed, not
    a hang; Ray starts a new replica; every accepted callback job is delivered with its request id."""
    base = ray_server.server.base_url
    headers = {"Authorization": f"Token {API_KEY}", "Content-Type": "audio/wav"}
    audio = LONG_WAV.read_bytes()
    with callback_receiver() as receiver, concurrent.futures.ThreadPoolExecutor(8) as pool:
        # Two live sessions first (Ray's router places them, on one replica or both).
        live = [pool.submit(asyncio.run, _live_session(ray_server.server))]
        time.sleep(1.0)
        live.append(pool.submit(asyncio.run, _live_session(ray_server.server)))
        accepted = [_accept_callback(base, headers, audio, receiver) for _ in range(4)]
        rest = [pool.submit(_post, base, headers, audio) for _ in range(4)]
        time.sleep(3.0)  # everything is in flight
        victim = _replica_with_a_live_session(base)  # the kill must reach a live session
        os.kill(victim, signal.SIGKILL)

        statuses = [future.result(timeout=300) for future in rest]
        print(f"REST statuses around the kill: {statuses}")
        assert all(status == 200 or status >= 500 for status in statuses), statuses
        sessions = [future.result(timeout=300) for future in live]
        print(f"live sessions (closed by the server, finals): {[(c, len(f)) for c, f in sessions]}")
        assert any(closed for closed, _ in sessions), "no live session was on the killed replica"
        assert all(closed or len(finals) >= 3 for closed, finals in sessions)
        wait_until(lambda: len(set(replica_pids()) - {victim}) == 2, 180, "Ray replaced the killed replica")
        deliveries = receiver.wait_for(len(accepted), timeout_s=240)
        delivered = {d.json()["metadata"]["request_id"] for d in deliveries}
        assert delivered == set(accepted)
        for delivery in deliveries:
            assert "printing" in delivery.json()["results"]["channels"][0]["alternatives"][0]["transcript"].lower()
    # And the cluster serves again, on both replicas.
    assert {_post(base, headers, JFK_FLAC.read_bytes(), "audio/flac") for _ in range(4)} == {200}


def _accept_callback(base: str, headers: dict[str, str], audio: bytes, receiver: Receiver) -> str:
    reply = httpx.post(
        f"{base}/v1/listen", params={"callback": receiver.url}, headers=headers, content=audio, timeout=60
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["request_id"])


def _post(base: str, headers: dict[str, str], audio: bytes, content_type: str = "audio/wav") -> int:
    reply = httpx.post(
        f"{base}/v1/listen", headers=headers | {"Content-Type": content_type}, content=audio, timeout=300
    )
    return reply.status_code


async def _live_session(server: LiveServer) -> tuple[bool, list[str]]:
    """Streams speech at real-time pace for up to a minute; whether the server ended the connection."""
    finals: list[str] = []
    pcm = LONG_WAV.read_bytes()[44:]
    options = {"model": "nova-3", "encoding": "linear16", "sample_rate": "16000"}
    async with async_sdk_client(server) as client, client.listen.v1.connect(**options) as connection:
        ended = asyncio.Event()

        def on_message(message: object) -> None:
            if getattr(message, "is_final", False):
                finals.append(message.channel.alternatives[0].transcript)  # type: ignore[attr-defined]

        connection.on(EventType.MESSAGE, on_message)
        connection.on(EventType.CLOSE, lambda _: ended.set())
        connection.on(EventType.ERROR, lambda _: ended.set())
        listener = asyncio.create_task(connection.start_listening())
        try:
            for start in range(0, min(len(pcm), 40 * 32000), 3200):
                if ended.is_set() or listener.done():
                    return True, finals
                await connection.send_media(pcm[start : start + 3200])
                await asyncio.sleep(0.1)
        except Exception:
            return True, finals  # sending on a connection the server closed
        finally:
            listener.cancel()
    return False, finals
