"""Callback jobs as the wire layer sees them (spec/listen-v1.md §3.3): which callback URLs are allowed,
accepting a job, and the JSON body a job delivers.

The body is exactly what the synchronous call would have answered: the ``ListenV1Response``, or, when
the audio cannot be transcribed, the Deepgram error body with the same ``request_id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

from openlisten.api.metrics import Metrics
from openlisten.auth import Principal
from openlisten.config import Settings
from openlisten.errors import AudioDecodeError, CapacityError, InvalidParameter, RequestError, URLFetchError
from openlisten.jobs.store import Job, JobStore, NewJob
from openlisten.jobs.worker import CallbackWorker, Produce
from openlisten.options import ListenOptions
from openlisten.sources.url import check_url_allowed, fetch_audio
from openlisten.transcriber import Transcriber
from openlisten.wire.listen import ErrorBody, ListenAcceptedResponse
from openlisten.wire.render import render_response

__all__ = ["check_callback_url", "check_queue_room", "enqueue_job", "fetch_source", "job_producer"]

logger = logging.getLogger(__name__)


async def check_callback_url(url: str, settings: Settings) -> None:
    """Raise `InvalidParameter` unless `url` may receive callbacks: a listed host when
    `Settings.callback_allowed_hosts` is set (private addresses allowed), else the URL-fetch address rule."""
    allowed = settings.callback_allowed_hosts
    try:
        await check_url_allowed(url, allow_private=True)  # an http(s) URL with a host and a valid port
        if (urlsplit(url).hostname or "").endswith("."):  # matched as "host" by the rules, unreachable when sent
            raise InvalidParameter("invalid callback: write the host without its trailing dot")
        if allowed:
            if not _host_listed(urlsplit(url).hostname or "", allowed):
                raise InvalidParameter("callback host is not in this server's callback allowlist")
        elif not settings.allow_private_urls:
            await check_url_allowed(url, allow_private=False)
    except URLFetchError as exc:
        raise InvalidParameter(f"invalid callback: {exc.message}") from exc


def _host_listed(host: str, allowed: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == entry or (entry.startswith("*.") and host.endswith(entry[1:])) for entry in allowed)


async def check_queue_room(store: JobStore, settings: Settings) -> None:
    """Raise `CapacityError` (429) when `Settings.max_queued_callbacks` jobs are already waiting."""
    if await run_in_threadpool(store.pending_jobs) >= settings.max_queued_callbacks:
        raise CapacityError("Too many callback jobs are waiting on this server; retry later.")


async def enqueue_job(
    store: JobStore,
    worker: CallbackWorker,
    *,
    request_id: str,
    principal: Principal,
    query: Iterable[tuple[str, str]],
    options: ListenOptions,
    audio: bytes | None,
    audio_url: str | None,
) -> ListenAcceptedResponse:
    """Persist the job (audio or URL included) durably, wake the worker, and answer ``{"request_id"}``."""
    assert options.callback is not None
    job = NewJob(
        request_id=request_id,
        key_id=principal.key_id,
        query=tuple(query),
        callback_url=options.callback,
        callback_method=options.callback_method,
        audio=audio,
        audio_url=audio_url,
    )
    await run_in_threadpool(store.add_job, job, time.time())
    worker.notify()
    logger.info("request %s accepted as a callback job", request_id)
    return ListenAcceptedResponse(request_id=request_id)


def job_producer(transcriber: Transcriber, settings: Settings, metrics: Metrics) -> Produce:
    """What the worker runs for each job: fetch (URL jobs), transcribe, render."""

    async def produce(job: Job) -> bytes:
        try:
            options = ListenOptions.from_query(job.query)
            data = job.audio if job.audio is not None else await fetch_source(job.audio_url or "", settings)
            if not data:
                raise AudioDecodeError("failed to process audio: the request body is empty")
            transcript = await run_in_threadpool(transcriber.transcribe, data, options, request_id=job.request_id)
        except RequestError as exc:  # the client's audio or options: deliver the error, as a sync call would answer
            logger.info("callback job %s cannot be transcribed (%s): %s", job.request_id, exc.http_status, exc.message)
            body = ErrorBody(err_code=exc.err_code, err_msg=exc.message, request_id=job.request_id)
            return body.model_dump_json().encode()
        metrics.audio_seconds.labels("callback").inc(transcript.duration_s)
        return render_response(transcript).model_dump_json(exclude_none=True).encode()

    return produce


async def fetch_source(url: str, settings: Settings) -> bytes:
    """The audio at `url`, within the server's URL-fetch limits and address rule."""
    return await fetch_audio(
        url,
        max_bytes=settings.max_upload_bytes,
        timeout_s=settings.url_timeout_s,
        max_redirects=settings.url_max_redirects,
        allow_private=settings.allow_private_urls,
    )
