"""Transcription in-process, with no server: `transcribe()` returns what ``POST /v1/listen`` would."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path

from openlisten.config import Settings
from openlisten.errors import UnsupportedFeature
from openlisten.options import ListenOptions
from openlisten.sources.url import fetch_audio
from openlisten.transcriber import ProgressCallback, Transcriber
from openlisten.wire.listen import ListenResponse
from openlisten.wire.render import render_response

__all__ = ["default_transcriber", "transcribe"]

_default: Transcriber | None = None
_default_lock = threading.Lock()


def default_transcriber() -> Transcriber:
    """The process-wide transcriber on default `Settings` (models load once, on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Transcriber(Settings())
        return _default


def transcribe(
    source: str | Path | bytes,
    *,
    transcriber: Transcriber | None = None,
    progress: ProgressCallback | None = None,
    **params: object,
) -> ListenResponse:
    """Transcribe a file path, an http(s) URL or encoded audio bytes.

    `params` are `/v1/listen` query parameters with the SDK's Python values, for example
    ``transcribe("call.wav", model="nova-3", smart_format=True, tag=["demo"])``.
    """
    transcriber = transcriber or default_transcriber()
    options = ListenOptions.from_query(_query_items(params))
    if options.callback is not None:
        raise UnsupportedFeature("callback needs the server (openlisten serve); in-process, the result is returned")
    data = _read_source(source, transcriber.settings)
    return render_response(transcriber.transcribe(data, options, progress=progress))


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
