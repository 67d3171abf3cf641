"""A loopback HTTP server that records callbacks, answering as a test scripts it."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    #: Status for the n-th request (0-based); 200 when it returns None.
    status_for: Callable[[int], int | None] = lambda n: 200
    #: Seconds to wait before answering the n-th request.
    delay_for: Callable[[int], float] = lambda n: 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def record(self, delivery: Delivery) -> int:
        with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
            return len(self.deliveries) - 1

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Delivery]:
        """The first `count` deliveries, waiting for them to arrive."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.deliveries)} of {count} callbacks arrived in {timeout_s} s")
                self._arrived.wait(left)
            return list(self.deliveries[:count])


@contextmanager
def callback_receiver() -> Iterator[Receiver]:
    """Yield a `Receiver` listening on 127.0.0.1 until the block ends."""
    holder: dict[str, Receiver] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            receiver = holder["r"]
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            index = receiver.record(Delivery(self.command, self.path, headers, body, time.monotonic()))
            time.sleep(receiver.delay_for(index))
            status = receiver.status_for(index) or 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_PUT = _handle  # noqa: N815 (http.server's names)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()
