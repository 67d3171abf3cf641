"""WebSocket ``/v1/listen``: live transcription (spec/listen-v1.md §5).

The handshake is checked before ``accept()``: credentials (``Authorization``, or the browsers'
``Sec-WebSocket-Protocol: token, <key>``), the query, the model, the server's state and the live-session
limits. A refusal is a real HTTP error in Deepgram's shape (``send_denial_response``). After that this
module only moves frames: client frames into the `SessionDriver`, the session's events out as JSON text
frames, and its `Close` as the close frame. The transcription itself is ``openlisten.live``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import pydantic
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from openlisten.api.deps import Services
from openlisten.api.errors import denial_response, request_id_of
from openlisten.auth import TRANSCRIBE, Authenticator, Principal
from openlisten.errors import OpenListenError, Unavailable
from openlisten.features.diarize import LIVE_ARCH
from openlisten.live.driver import SessionDriver
from openlisten.live.events import Close, CloseStream, Configure, Control, Finalize, KeepAlive
from openlisten.live.options import LiveOptions
from openlisten.live.service import LiveService
from openlisten.transcript import DiarizeInfo, now_rfc3339
from openlisten.wire.base import WireModel
from openlisten.wire.live import (
    CLIENT_MESSAGE,
    ClientMessage,
    ListenV1CloseStream,
    ListenV1Configure,
    ListenV1Finalize,
    ListenV1KeepAlive,
)
from openlisten.wire.render_live import LiveContext, render_live_event

__all__ = ["GONE", "authenticate_websocket", "router", "serve_session"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

#: What a failed send or receive raises once the client is gone (uvicorn's ClientDisconnected is an OSError).
GONE = (WebSocketDisconnect, RuntimeError, OSError)


@router.websocket("/v1/listen")
async def listen_live(websocket: WebSocket) -> None:
    """Live transcription: audio in binary frames, controls in text frames, Results and events back."""
    services: Services = websocket.app.state.services
    live: LiveService = websocket.app.state.live
    try:
        principal, subprotocol = authenticate_websocket(websocket, services.authenticator)
        if services.lifecycle.draining:
            raise Unavailable("The server is shutting down; retry.")
        options = LiveOptions.from_query(websocket.query_params.multi_items())
        session, spec = live.open(options)
        embedder = await live.embedder(options)
        services.limits.live.acquire(principal.key_id)
    except OpenListenError as exc:
        await websocket.send_denial_response(denial_response(websocket, exc))
        return
    try:
        await websocket.accept(subprotocol=subprotocol)
        context = LiveContext(
            request_id_of(websocket),
            now_rfc3339(),
            spec.info,
            options.listen.extra,
            diarize_info=None if embedder is None else DiarizeInfo(embedder.uuid, LIVE_ARCH),
        )
        driver = SessionDriver(session, live.engine.scheduler, live.engine.decoder(spec), embedder=embedder)
        logger.info("live request %s opened (model %s)", context.request_id, spec.name)
        await serve_session(websocket, driver, services, lambda event: render_live_event(event, context), _feed_text)
        services.metrics.audio_seconds.labels(source="live").inc(session.duration_s)
        logger.info("live request %s ended after %.1f s of audio", context.request_id, session.duration_s)
    finally:
        services.limits.live.release(principal.key_id)


# The same route for a base URL configured with a trailing slash (spec §0.8).
router.add_api_websocket_route("//v1/listen", listen_live)


def authenticate_websocket(websocket: WebSocket, authenticator: Authenticator) -> tuple[Principal, str | None]:
    """The principal, and the subprotocol to select (only one the client offered, spec §5.1)."""
    header = websocket.headers.get("authorization")
    offered = [protocol.strip() for protocol in websocket.scope.get("subprotocols", [])]
    if header is None and len(offered) >= 2 and offered[0].lower() in ("token", "bearer"):
        if not authenticator.required:
            return authenticator.authenticate(None, TRANSCRIBE), offered[0]
        found = authenticator.authenticate_subprotocols(offered, TRANSCRIBE)
        if found is not None:
            return found
    return authenticator.authenticate(header, TRANSCRIBE), None


async def serve_session(
    websocket: WebSocket,
    driver: SessionDriver,
    services: Services,
    render: Callable[[Any], WireModel | None],
    feed_text: Callable[[SessionDriver, str], None],
    first: WireModel | None = None,
) -> None:
    """Move frames until the session closes or the client leaves: client frames into `driver` (text through
    `feed_text`), the session's events out as `render` makes them (after `first`), its `Close` as the close
    frame. A server drain finishes the stream (CloseStream)."""
    receiver = asyncio.create_task(_receive(websocket, driver, feed_text))
    finished = asyncio.Event()

    async def finish_on_drain() -> None:
        driver.feed_control(CloseStream())
        await finished.wait()

    remove_hook = services.lifecycle.on_drain(finish_on_drain)
    try:
        if first is not None:
            await websocket.send_text(first.model_dump_json(exclude_none=True))
        async for event in driver.events():
            if isinstance(event, Close):
                with contextlib.suppress(*GONE):
                    await websocket.close(event.code, event.reason)
                return
            message = render(event)
            if message is None:
                continue
            try:
                await websocket.send_text(message.model_dump_json(exclude_none=True))
            except GONE:
                driver.disconnect()
    except GONE:
        driver.disconnect()
    finally:
        finished.set()
        remove_hook()
        receiver.cancel()
        driver.close()


async def _receive(
    websocket: WebSocket, driver: SessionDriver, feed_text: Callable[[SessionDriver, str], None]
) -> None:
    """Hand every client frame to the driver; tell it when the client is gone."""
    try:
        while True:
            await driver.room_for_audio()
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is not None:
                driver.feed_audio(data)
            else:
                feed_text(driver, message.get("text") or "")
    except GONE:
        pass
    driver.disconnect()


def _feed_text(driver: SessionDriver, text: str) -> None:
    try:
        message = CLIENT_MESSAGE.validate_json(text)
    except pydantic.ValidationError as exc:
        driver.feed_invalid(text, _describe(exc))
        return
    driver.feed_control(_control(message))


def _control(message: ClientMessage) -> Control:
    if isinstance(message, ListenV1Finalize):
        return Finalize(message.channel)
    if isinstance(message, ListenV1CloseStream):
        return CloseStream()
    if isinstance(message, ListenV1Configure):
        keyterms = None if message.keyterms is None else tuple(message.keyterms)
        return Configure(keyterms, dict(message.features or {}))
    assert isinstance(message, ListenV1KeepAlive)
    return KeepAlive()


def _describe(exc: pydantic.ValidationError) -> str:
    """Why a client text message was refused, in a sentence."""
    problem = exc.errors()[0]
    where = ".".join(map(str, problem["loc"]))
    detail = f"{where}: {problem['msg']}" if where else problem["msg"]
    return (
        "could not parse the client text message ("
        + detail
        + "); expected KeepAlive, Finalize, CloseStream or Configure as JSON"
    )
