"""``POST /v1/listen``: prerecorded transcription of a raw body or a ``{"url": ...}`` (spec/listen-v1.md §3),
answered with the transcript, or at once with ``{"request_id"}`` when a ``callback`` will get it (§3.3)."""

from __future__ import annotations

import time

import anyio
import pydantic
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from openlisten.api.callback_jobs import check_callback_url, check_queue_room, enqueue_job, fetch_source
from openlisten.api.deps import InFlightDep, Services, ServicesDep, TranscribeDep
from openlisten.api.errors import request_id_of
from openlisten.auth import Principal
from openlisten.config import Settings
from openlisten.errors import (
    AudioDecodeError,
    ClientClosedRequest,
    OpenListenError,
    ProcessingTimeout,
    RequestError,
    RequestTimeout,
)
from openlisten.options import ListenOptions
from openlisten.sources.body_limit import MinimumRate, read_limited
from openlisten.sources.url import check_url_allowed
from openlisten.transcriber import ProgressCallback
from openlisten.wire.listen import ErrorBody, ListenAcceptedResponse, ListenResponse, UrlSource
from openlisten.wire.render import render_response

__all__ = ["router"]

router = APIRouter(tags=["listen"])

#: A ``{"url": ...}`` body is small; anything bigger is not one.
_MAX_JSON_BYTES = 64 * 1024

#: The query parameters the SDK can send (spec/listen-v1.md §3.2), for the OpenAPI document only: the route
#: parses the raw query (repeated keys, ``extra[k]=v``) into `ListenOptions`. Values are strings on the wire;
#: a malformed one, or a feature this server lacks, is a 400; unknown names are ignored.
_QUERY_PARAMETERS = (  # noqa: SIM905 (one word list, not 40 lines)
    "callback callback_method channels custom_intent custom_intent_mode custom_topic custom_topic_mode "
    "detect_entities detect_language diarize diarize_model dictation encoding extra filler_words intents "
    "keyterm keywords language language_hint measurements mip_opt_out model multichannel numerals "
    "paragraphs profanity_filter punctuate redact replace sample_rate search sentiment smart_format "
    "summarize tag topics utt_split utterances version"
).split()

_BODY_DOC = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in _QUERY_PARAMETERS
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": UrlSource.model_json_schema()},
        },
    },
}
_ERRORS_DOC: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 408, 413, 429, 500, 503, 504)
}


@router.post(
    "/v1/listen",
    response_model=ListenResponse | ListenAcceptedResponse,
    response_model_exclude_none=True,
    openapi_extra=_BODY_DOC,
    responses=_ERRORS_DOC,
    summary="Transcribe prerecorded audio",
)
async def listen(
    request: Request, services: ServicesDep, principal: TranscribeDep, _in_flight: InFlightDep
) -> ListenResponse | ListenAcceptedResponse:
    """Transcribe the audio in the body, or at the URL of a JSON body, as the query parameters ask.
    With ``callback``, store the job, answer ``{"request_id"}`` at once and send the transcript there.
    One of the concurrent-request slots is held from when the body has arrived (429 when none is free)."""
    settings = services.settings
    deadline = time.monotonic() + settings.request_timeout_s
    options = await _parse_options(request, services)
    url, data = await _read_source(request, settings, deadline)
    with services.limits.rest.slot(principal.key_id):
        return await _work(request, services, principal, options, url, data, deadline)


async def _work(
    request: Request,
    services: Services,
    principal: Principal,
    options: ListenOptions,
    url: str | None,
    data: bytes | None,
    deadline: float,
) -> ListenResponse | ListenAcceptedResponse:
    """Queue the callback job, or transcribe and answer."""
    settings = services.settings
    if options.callback is not None:
        if url is not None:  # refuse now what the fetch would refuse later
            await check_url_allowed(url, allow_private=settings.allow_private_urls)
        return await enqueue_job(
            services.store,
            services.worker,
            request_id=request_id_of(request),
            principal=principal,
            query=request.query_params.multi_items(),
            options=options,
            audio=data,
            audio_url=url,
        )
    if url is not None:
        data = await fetch_source(url, settings)
        if not data:
            raise AudioDecodeError("failed to process audio: the file at the url is empty")
    assert data is not None
    transcript = await run_in_threadpool(
        services.transcriber.transcribe,
        data,
        options,
        request_id=request_id_of(request),
        progress=_deadline_check(deadline, settings.request_timeout_s),
    )
    services.metrics.audio_seconds.labels("rest").inc(transcript.duration_s)
    return render_response(transcript)


async def _parse_options(request: Request, services: Services) -> ListenOptions:
    """The query as `ListenOptions`, its callback URL checked; on a refusal the body is read and dropped first."""
    try:
        options = ListenOptions.from_query(request.query_params.multi_items())
        if options.callback is not None:
            await check_callback_url(options.callback, services.settings)
            await check_queue_room(services.store, services.settings)
    except OpenListenError:
        await _drain(request, services.settings.max_upload_bytes)
        raise
    return options


async def _read_source(request: Request, settings: Settings, deadline: float) -> tuple[str | None, bytes | None]:
    """``(url, None)`` for a ``{"url": ...}`` body, else ``(None, audio)``."""
    min_rate = None
    if settings.min_upload_bytes_per_s:
        min_rate = MinimumRate(settings.min_upload_bytes_per_s, settings.upload_grace_s)
    if _media_type(request) == "application/json":
        return _parse_url_source(await _read_body(request, _MAX_JSON_BYTES, deadline, min_rate)).url, None
    data = await _read_body(request, settings.max_upload_bytes, deadline, min_rate)
    if not data:
        raise AudioDecodeError("failed to process audio: the request body is empty")
    return None, data


def _deadline_check(deadline: float, timeout_s: float) -> ProgressCallback:
    """Stops a transcription at its next step once the request has run for `timeout_s`."""

    def check(done_s: float, total_s: float) -> None:
        if time.monotonic() > deadline and done_s < total_s:
            raise ProcessingTimeout(
                f"transcription took longer than this server's limit of {timeout_s:.0f} s "
                f"({done_s:.0f} of {total_s:.0f} s done); send long files with callback="
            )

    return check


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_body(request: Request, max_bytes: int, deadline: float, min_rate: MinimumRate | None) -> bytes:
    """The request body, read as a stream (chunked uploads included), at most `max_bytes` long, by `deadline`,
    no slower than `min_rate`."""
    try:
        with anyio.fail_after(max(0.0, deadline - time.monotonic())):
            return await read_limited(
                request.stream(),
                declared_length=request.headers.get("content-length"),
                max_bytes=max_bytes,
                what="the request body",
                min_rate=min_rate,
            )
    except TimeoutError as exc:
        raise RequestTimeout("the request body did not arrive within this server's request timeout") from exc
    except ClientDisconnect as exc:
        raise ClientClosedRequest("the client closed the connection while sending the request body") from exc


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
