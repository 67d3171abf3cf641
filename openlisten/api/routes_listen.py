"""``POST /v1/listen``: prerecorded transcription of a raw body or a ``{"url": ...}`` (spec/listen-v1.md §3)."""

from __future__ import annotations

import pydantic
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from openlisten.api.deps import AuthDep, ServicesDep
from openlisten.api.errors import request_id_of
from openlisten.api.fetch import fetch_audio
from openlisten.api.render import render_response
from openlisten.api.schemas import ErrorBody, ListenResponse, UrlSource
from openlisten.api.streams import read_limited
from openlisten.errors import AudioDecodeError, OpenListenError, RequestError
from openlisten.options import ListenOptions

__all__ = ["router"]

router = APIRouter(tags=["listen"])

#: A ``{"url": ...}`` body is small; anything bigger is not one.
_MAX_JSON_BYTES = 64 * 1024

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": UrlSource.model_json_schema()},
        },
    }
}
_ERRORS_DOC: dict[int | str, dict[str, object]] = {status: {"model": ErrorBody} for status in (400, 401, 413, 429, 500)}


@router.post(
    "/v1/listen",
    response_model=ListenResponse,
    response_model_exclude_none=True,
    openapi_extra=_BODY_DOC,
    responses=_ERRORS_DOC,
    summary="Transcribe prerecorded audio",
)
async def listen(request: Request, services: ServicesDep, _principal: AuthDep) -> ListenResponse:
    """Transcribe the audio in the body, or at the URL of a JSON body, as the query parameters ask."""
    settings = services.settings
    try:
        options = ListenOptions.from_query(request.query_params.multi_items())
    except OpenListenError:
        await _drain(request, settings.max_upload_bytes)
        raise
    if _media_type(request) == "application/json":
        source = _parse_url_source(await _read_body(request, _MAX_JSON_BYTES))
        data = await fetch_audio(
            source.url,
            max_bytes=settings.max_upload_bytes,
            timeout_s=settings.url_timeout_s,
            max_redirects=settings.url_max_redirects,
            allow_private=settings.allow_private_urls,
        )
    else:
        data = await _read_body(request, settings.max_upload_bytes)
    if not data:
        raise AudioDecodeError("failed to process audio: the request body is empty")
    transcript = await run_in_threadpool(
        services.transcriber.transcribe, data, options, request_id=request_id_of(request)
    )
    return render_response(transcript)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, read as a stream (chunked uploads included), at most `max_bytes` long."""
    return await read_limited(
        request.stream(),
        declared_length=request.headers.get("content-length"),
        max_bytes=max_bytes,
        what="the request body",
    )


async def _drain(request: Request, max_bytes: int) -> None:
    """Read and drop the body before an early error, so the client is not cut off mid-upload."""
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > max_bytes:
            return


def _parse_url_source(body: bytes) -> UrlSource:
    try:
        return UrlSource.model_validate_json(body)
    except pydantic.ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(map(str, problem["loc"])) or "body"
        raise RequestError(f'Invalid JSON body: {where}: {problem["msg"]}. Expected {{"url": "https://..."}}') from exc
