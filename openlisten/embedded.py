"""Transcription in-process, with no server: `transcribe()` returns what ``POST /v1/listen`` would,
`stream()` yields what WebSocket ``/v1/listen`` would send, and `stream_turns()` what ``/v2/listen`` (Flux)
would."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.errors import StreamClosed, UnsupportedFeature
from openlisten.live.driver import SessionDriver
from openlisten.live.events import Close, CloseStream
from openlisten.live.flux_options import FluxOptions
from openlisten.live.options import LiveOptions
from openlisten.live.service import LiveService
from openlisten.options import ListenOptions
from openlisten.sources.url import fetch_audio
from openlisten.transcriber import ProgressCallback, Transcriber
from openlisten.transcript import now_rfc3339
from openlisten.wire.base import WireModel
from openlisten.wire.listen import ListenResponse
from openlisten.wire.live import ServerMessage
from openlisten.wire.render import render_response
from openlisten.wire.render_flux import FluxRenderer
from openlisten.wire.render_live import LiveContext, render_live_event

__all__ = ["default_engine", "stream", "stream_turns", "transcribe"]

_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The process-wide engine on default `Settings` (models load once, on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine(Settings())
        return _default


def transcribe(
    source: str | Path | bytes,
    *,
    engine: Engine | None = None,
    progress: ProgressCallback | None = None,
    **params: object,
) -> ListenResponse:
    """Transcribe a file path, an http(s) URL or encoded audio bytes.

    `params` are `/v1/listen` query parameters with the SDK's Python values, for example
    ``transcribe("call.wav", model="nova-3", smart_format=True, tag=["demo"])``. `engine` runs it (one built
    on other `Settings`, say); by default the process-wide one.
    """
    transcriber = Transcriber(engine or default_engine())
    options = ListenOptions.from_query(_query_items(params))
    if options.callback is not None:
        raise UnsupportedFeature("callback needs the server (openlisten serve); in-process, the result is returned")
    data = _read_source(source, transcriber.settings)
    return render_response(transcriber.transcribe(data, options, progress=progress))


async def stream(
    audio: AsyncIterable[bytes], *, engine: Engine | None = None, **params: object
) -> AsyncIterator[ServerMessage]:
    """Transcribe live audio: the messages WebSocket ``/v1/listen`` would send (Results, SpeechStarted,
    UtteranceEnd, Metadata), as they come.

    `audio` is what a client sends as binary frames, for example 16 kHz linear16 in 100 ms pieces with
    ``encoding="linear16", sample_rate=16000``; the stream ends (last finals, then Metadata) when it does.
    `params` are the live query parameters with the SDK's Python values. A stream the session closes with
    an error (bad audio, idle) raises `StreamClosed`, carrying the WebSocket close code.
    """
    service = LiveService(engine or default_engine())
    options = LiveOptions.from_query(_query_items(params))
    session, spec = service.open(options)
    await asyncio.to_thread(service.engine.load, spec)  # before the audio's clock starts
    driver = SessionDriver(session, service.engine.scheduler, service.engine.decoder(spec))
    context = LiveContext(str(uuid.uuid4()), now_rfc3339(), spec.info, options.listen.extra)
    async for event in _drive(driver, audio):
        message = render_live_event(event, context)
        if message is not None:
            yield message


async def stream_turns(
    audio: AsyncIterable[bytes], *, engine: Engine | None = None, **params: object
) -> AsyncIterator[WireModel]:
    """Live audio as Flux (WebSocket ``/v2/listen``) would answer it: Connected, then TurnInfo messages
    (StartOfTurn, Update, EagerEndOfTurn, TurnResumed, EndOfTurn) as the speaker's turns go.

    `params` are ``/v2/listen``'s query parameters (``model`` defaults to ``flux-general-en``), for example
    ``encoding="linear16", sample_rate=16000, eot_threshold=0.8``. Errors raise `StreamClosed`, as `stream`.
    """
    service = LiveService(engine or default_engine())
    options = FluxOptions.from_query(_query_items({"model": "flux-general-en"} | params))
    session, spec = service.open_flux(options)
    end_of_turn = await service.end_of_turn_model()
    await asyncio.to_thread(service.engine.load, spec)
    driver = SessionDriver(session, service.engine.scheduler, service.engine.decoder(spec), end_of_turn=end_of_turn)
    renderer = FluxRenderer(str(uuid.uuid4()))
    yield renderer.connected()
    async for event in _drive(driver, audio):
        message = renderer.render(event)
        if message is not None:
            yield message


async def _drive(driver: SessionDriver, audio: AsyncIterable[bytes]) -> AsyncIterator[Any]:
    """Feed `audio` to the driver's session, then CloseStream; its events until it closes (an error close
    raises `StreamClosed`)."""

    async def send() -> None:
        async for piece in audio:
            driver.feed_audio(piece)
        driver.feed_control(CloseStream())

    sender = asyncio.ensure_future(send())
    try:
        async for event in driver.events():
            if isinstance(event, Close):
                if event.code != 1000:
                    raise StreamClosed(event.code, event.reason)
                break
            yield event
        if sender.done():
            sender.result()  # the audio source's own error, if it failed
    finally:
        driver.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


def _read_source(source: str | Path | bytes, settings: Settings) -> bytes:
    if isinstance(source, bytes):
        return source
    text = str(source)
    if text.startswith(("http://", "https://")):
        # In-process the caller is the operator, so the private-address guard of the server does not apply.
        return asyncio.run(
            fetch_audio(
                text,
                max_bytes=settings.max_upload_bytes,
                timeout_s=settings.url_timeout_s,
                max_redirects=settings.url_max_redirects,
                allow_private=True,
            )
        )
    return Path(text).read_bytes()


def _query_items(params: Mapping[str, object]) -> list[tuple[str, str]]:
    """Encode Python values as the SDK puts them on the wire (spec/listen-v1.md §2.2)."""
    items: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            items.extend((key, f"{k}:{v}") for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            items.extend((key, _scalar(v)) for v in value)
        else:
            items.append((key, _scalar(value)))
    return items


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
