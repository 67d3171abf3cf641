"""WebSocket ``/v2/listen``: Flux, turn-taking speech recognition for voice agents (spec/listen-v2.md).

The handshake is v1's (``routes_live.py``): credentials, the query, the server's state and the live
limits, refused with an HTTP error in Deepgram's shape. Then ``Connected``, and frames moved between the
client and a `FluxSession` run by the same `SessionDriver` as v1's sessions; every message carries the
next ``sequence_id``.
"""

from __future__ import annotations

import logging

import pydantic
from fastapi import APIRouter, WebSocket

from openlisten.api.deps import Services
from openlisten.api.errors import denial_response, request_id_of
from openlisten.api.routes_live import authenticate_websocket, serve_session
from openlisten.errors import OpenListenError, Unavailable
from openlisten.live.driver import SessionDriver
from openlisten.live.events import CloseStream, KeepAlive
from openlisten.live.flux import FluxConfigure, FluxControl, ForceEndTurn
from openlisten.live.flux_options import FluxOptions
from openlisten.live.service import LiveService
from openlisten.wire.flux import (
    FLUX_CLIENT_MESSAGE,
    FluxClientMessage,
    ListenV2CloseStream,
    ListenV2Configure,
    ListenV2ForceEndTurn,
)
from openlisten.wire.render_flux import FluxRenderer

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])


@router.websocket("/v2/listen")
async def listen_flux(websocket: WebSocket) -> None:
    """Flux: audio in binary frames, controls in text frames; Connected, then TurnInfo events back."""
    services: Services = websocket.app.state.services
    live: LiveService = websocket.app.state.live
    try:
        principal, subprotocol = authenticate_websocket(websocket, services.authenticator)
        if services.lifecycle.draining:
            raise Unavailable("The server is shutting down; retry.")
        options = FluxOptions.from_query(websocket.query_params.multi_items())
        session, spec = live.open_flux(options)
        end_of_turn = await live.end_of_turn_model()
        services.limits.live.acquire(principal.key_id)
    except OpenListenError as exc:
        await websocket.send_denial_response(denial_response(websocket, exc))
        return
    try:
        await websocket.accept(subprotocol=subprotocol)
        request_id = request_id_of(websocket)
        driver = SessionDriver(session, live.engine.scheduler, live.engine.decoder(spec), end_of_turn=end_of_turn)
        logger.info("flux request %s opened (model %s)", request_id, spec.name)
        renderer = FluxRenderer(request_id)
        await serve_session(websocket, driver, services, renderer.render, _feed_text, first=renderer.connected())
        services.metrics.audio_seconds.labels(source="live").inc(session.duration_s)
        logger.info("flux request %s ended after %.1f s of audio", request_id, session.duration_s)
    finally:
        services.limits.live.release(principal.key_id)


router.add_api_websocket_route("//v2/listen", listen_flux)


def _feed_text(driver: SessionDriver, text: str) -> None:
    try:
        parsed = FLUX_CLIENT_MESSAGE.validate_json(text)
    except pydantic.ValidationError as exc:
        driver.feed_invalid(text, f"could not parse the client message: {exc.errors()[0]['msg']}")
        return
    driver.feed_control(_control(parsed))


def _control(message: FluxClientMessage) -> FluxControl:
    if isinstance(message, ListenV2CloseStream):
        return CloseStream()
    if isinstance(message, ListenV2ForceEndTurn):
        return ForceEndTurn()
    if isinstance(message, ListenV2Configure):
        thresholds = message.thresholds.model_dump(exclude_none=True) if message.thresholds else {}
        keyterms = None if message.keyterms is None else tuple(message.keyterms)
        hints = None if message.language_hints is None else tuple(message.language_hints)
        return FluxConfigure(thresholds, keyterms, message.numerals, hints)
    return KeepAlive()
