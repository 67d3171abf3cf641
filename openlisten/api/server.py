"""`run`: uvicorn with a graceful SIGTERM.

uvicorn's own shutdown closes open WebSockets with 1012 at once, so live sessions would lose their last
results. Here the first SIGTERM (or Ctrl-C) drains the app first (`Lifecycle.drain`: new requests get
503, in-flight requests, callback jobs and live sessions get `Settings.shutdown_grace_s` to finish),
and only then lets uvicorn stop. A second signal stops at once.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from openlisten.api.lifecycle import Lifecycle
from openlisten.api.websocket_protocol import WebSocketProtocol
from openlisten.config import Settings
from openlisten.errors import escape_control

__all__ = ["GracefulServer", "RedactCallbackCredentials", "install_log_redaction", "run"]

logger = logging.getLogger(__name__)

#: The user-info part of a ``callback=`` URL in a logged query string, raw or percent-encoded.
_CALLBACK_CREDENTIALS = re.compile(r"(?i)(callback=[a-z][a-z0-9+.-]*(?::|%3A)(?:/|%2F){2})[^&/?#]*?(?:@|%40)")


class RedactCallbackCredentials(logging.Filter):
    """uvicorn's access log prints the query string, and a callback URL may carry basic-auth credentials
    (spec/listen-v1.md §3.3): they are logged as ``***``. Keys and tokens travel in headers, never logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _CALLBACK_CREDENTIALS.sub(r"\1***@", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


class GracefulServer(uvicorn.Server):
    """A uvicorn server that drains `lifecycle` before it shuts down."""

    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle, grace_s: float) -> None:
        super().__init__(config)
        self._lifecycle = lifecycle
        self._grace_s = grace_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Future[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is None or self._drain is not None or self.should_exit:
            super().handle_exit(sig, frame)  # not serving yet, or a second signal: stop now
            return
        # Runs in a signal handler: hand over to the event loop through its thread-safe queue.
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        if self._drain is None:
            self._drain = asyncio.ensure_future(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        try:
            await self._lifecycle.drain(self._grace_s)
        finally:
            self.should_exit = True


def install_log_redaction() -> None:
    """Keep callback credentials out of uvicorn's access log, and control characters out of every log line
    (once per process)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactCallbackCredentials) for f in access.filters):
        access.addFilter(RedactCallbackCredentials())
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "escapes_control", False):
        logging.setLogRecordFactory(_escaping_factory(factory))


def _escaping_factory(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A log record factory whose records carry their string arguments with control characters escaped:
    a query value with CR/LF, logged as an argument, cannot write a line of the client's choosing."""

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if isinstance(record.args, tuple):
            record.args = tuple(escape_control(arg) if isinstance(arg, str) else arg for arg in record.args)
        return record

    make.escapes_control = True  # type: ignore[attr-defined]
    return make


def run(app: FastAPI, settings: Settings) -> None:
    """Serve `app` on `Settings.host`:`Settings.port` until SIGTERM or Ctrl-C, then stop gracefully."""
    # uvicorn's logging, plus OpenListen's own INFO lines (jobs accepted and delivered, draining) beside them.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["openlisten"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=log_config,
        ws=WebSocketProtocol,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s) or None,
    )
    install_log_redaction()
    if settings.data_dir is None:
        logger.warning("no --data-dir: callback jobs, keys and the token secret last only as long as this process")
    GracefulServer(config, app.state.services.lifecycle, settings.shutdown_grace_s).run()
