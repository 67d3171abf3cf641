"""Keys, tokens and callback credentials never reach the logs, at any level, uvicorn's access log included."""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest

from openlisten.api.app import create_app
from openlisten.api.server import install_log_redaction
from openlisten.config import Settings
from tests.callback_receiver import callback_receiver
from tests.conftest import fake_engine, speech
from tests.e2e.conftest import serve_in_thread

SECRET_KEY = "k-3f9a61c0d2e84b7faa5e"
WRONG_KEY = "w-77e0c1b9d4a3f2e1"
PASSWORD = "cb-pass-5d1e9f"


def post(base_url: str, path: str, body: bytes, authorization: str) -> tuple[int, dict[str, str]]:
    """A request through http.client, which logs nothing of its own (the server's logs are under test)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers={"Authorization": authorization})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@pytest.fixture
def logs() -> Iterator[Collect]:
    handler = Collect()
    names = ("", "openlisten", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx")
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    for name, level in saved.items():
        logging.getLogger(name).removeHandler(handler)
        logging.getLogger(name).setLevel(level)


def test_no_credential_is_ever_logged(logs: Collect) -> None:
    settings = Settings(api_keys=[SECRET_KEY], callback_allowed_hosts=["127.0.0.1"], shutdown_grace_s=1)
    app = create_app(engine=fake_engine(settings))
    with callback_receiver() as receiver:
        server, stop = serve_in_thread(settings, app)
        # uvicorn's logging config, applied as the server starts, replaced our handler and level; put them back
        # and install the redaction as `openlisten serve` does after uvicorn has configured logging.
        for name in ("uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).addHandler(logs)
            logging.getLogger(name).setLevel(logging.DEBUG)
        install_log_redaction()
        try:
            base = server.base_url
            key = f"Token {SECRET_KEY}"
            token = post(base, "/v1/auth/grant", b"", key)[1]["access_token"]
            assert post(base, "/v1/listen", speech(0.3), key)[0] == 200
            assert post(base, "/v1/listen", speech(0.3), f"Bearer {token}")[0] == 200
            assert post(base, "/v1/listen", b"x", f"Token {WRONG_KEY}")[0] == 401
            assert post(base, "/v1/listen", b"x", f"Bearer {token}x")[0] == 401
            assert post(base, "/v1/auth/grant", b"", f"Bearer {token}")[0] == 403
            assert post(base, "/v1/listen", b"not audio", key)[0] == 400
            callback = receiver.url.replace("http://", f"http://hook:{PASSWORD}@")
            assert post(base, "/v1/listen?" + urlencode({"callback": callback}), speech(0.3), key)[0] == 200
            delivery = receiver.wait_for(1)[0]
        finally:
            stop()
    assert delivery.headers["authorization"].startswith("Basic ")  # the credentials reached the receiver only
    text = "\n".join(logs.lines)
    assert "POST /v1/listen?callback=http%3A%2F%2F***@127.0.0.1" in text  # the access log, redacted
    for secret in (SECRET_KEY, WRONG_KEY, token, PASSWORD):
        assert secret not in text
