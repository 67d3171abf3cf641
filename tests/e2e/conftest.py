"""A real OpenListen server on a loopback port, with the real model, driven by the official SDK."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from deepgram import AsyncDeepgramClient, DeepgramClient
from deepgram.environment import DeepgramClientEnvironment
from fastapi import FastAPI

from openlisten.api.app import create_app
from openlisten.config import Settings

API_KEY = "test-key-0123456789"
#: Small enough that the oversize test stays cheap.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    ws_url: str

    def environment(self) -> DeepgramClientEnvironment:
        return DeepgramClientEnvironment(
            base=self.base_url, production=self.ws_url, agent=self.ws_url, agent_rest=self.base_url
        )


def serve_in_thread(settings: Settings, app: FastAPI | None = None) -> tuple[LiveServer, Callable[[], None]]:
    """Start uvicorn on 127.0.0.1:0 in a thread (`app`, or a fresh one on `settings`); return where it listens
    and how to stop it. The lifespan runs: it starts the callback worker and loads the default model."""
    app = app or create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"), stop


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    settings = Settings(api_keys=[API_KEY], allow_private_urls=True, max_upload_bytes=MAX_UPLOAD_BYTES)
    server, stop = serve_in_thread(settings)
    yield server
    stop()


@pytest.fixture
def sdk_client(live_server: LiveServer) -> Iterator[Callable[..., DeepgramClient]]:
    """``sdk_client(api_key=..., server=...)``: a sync SDK client whose connections close after the test."""
    pools: list[httpx.Client] = []

    def make(api_key: str = API_KEY, server: LiveServer = live_server, **kwargs: object) -> DeepgramClient:
        pools.append(httpx.Client(timeout=120))
        return DeepgramClient(
            api_key=api_key, environment=server.environment(), max_retries=0, httpx_client=pools[-1], **kwargs
        )

    yield make
    for pool in pools:
        pool.close()


@pytest.fixture
def client(sdk_client: Callable[..., DeepgramClient]) -> DeepgramClient:
    return sdk_client()


@asynccontextmanager
async def async_sdk_client(server: LiveServer, api_key: str = API_KEY) -> AsyncIterator[AsyncDeepgramClient]:
    """An async SDK client whose connections close on exit."""
    async with httpx.AsyncClient(timeout=120) as pool:
        yield AsyncDeepgramClient(api_key=api_key, environment=server.environment(), max_retries=0, httpx_client=pool)


@pytest.fixture
def serve_bytes() -> Iterator[Callable[..., str]]:
    """``serve_bytes(data, content_type)``: a loopback URL that answers GET with `data`."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(data: bytes, content_type: str = "application/octet-stream", status: int = 200) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/audio"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
