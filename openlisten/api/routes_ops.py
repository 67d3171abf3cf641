"""Operations: liveness ``/healthz``, readiness ``/readyz``, Prometheus ``/metrics`` and, for replicas on
Ray, ``/metrics/targets``.

None of them needs a key: probes and scrapers hold no credentials, and none of them reveals one.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from openlisten.api.deps import ServicesDep
from openlisten.api.replica_metrics import FORGET_AFTER_S

__all__ = ["metrics_router", "router"]

router = APIRouter(tags=["operations"])
#: Separate, so `Settings.metrics` can leave it out.
metrics_router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether this replica should get traffic, and why not."""

    ready: bool
    status: Literal["ready", "loading", "model_error", "draining"]
    #: The default model (what ``nova-3`` and the other Deepgram names run).
    model: str
    model_loaded: bool
    #: Why the model could not be loaded, when it could not.
    model_error: str | None = None
    #: Model work waiting in the scheduler.
    scheduler_queue_depth: int
    #: Callback jobs not yet delivered or given up.
    callback_queue_depth: int


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """200 while the process serves HTTP at all."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: loading, model error or draining"}},
    summary="Readiness",
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """200 when the default model is loaded and the server is not shutting down; 503 otherwise."""
    life = services.lifecycle
    status: Literal["ready", "loading", "model_error", "draining"] = "ready"
    if life.draining:
        status = "draining"
    elif life.model_error:
        status = "model_error"
    elif not life.model_ready:
        status = "loading"
    body = Readiness(
        ready=life.ready,
        status=status,
        model=services.settings.model,
        model_loaded=life.model_ready,
        model_error=life.model_error,
        scheduler_queue_depth=services.engine.scheduler.depth,
        callback_queue_depth=await run_in_threadpool(services.store.pending_jobs),
    )
    return JSONResponse(body.model_dump(), status_code=200 if life.ready else 503)


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
    summary="Prometheus metrics",
)
async def metrics(services: ServicesDep) -> Response:
    """Requests, errors, latencies, audio seconds, queue depths, live sessions and callback outcomes."""
    text = await run_in_threadpool(generate_latest, services.metrics.exposed)
    return Response(text, media_type=CONTENT_TYPE_LATEST)


@metrics_router.get("/metrics/targets", summary="Every replica's own metrics, for Prometheus")
async def metrics_targets(services: ServicesDep) -> list[dict[str, object]]:
    """Prometheus HTTP service discovery (``http_sd_configs``): where each replica of ``serve --ray`` serves
    its own metrics, labelled with its id, so that Prometheus scrapes them all and sums across replicas. A
    server that runs alone has no replicas here: scrape its ``/metrics``."""
    seen_since = time.time() - FORGET_AFTER_S
    replicas = await run_in_threadpool(services.store.live_replicas, seen_since)
    targets: list[dict[str, object]] = []
    for replica_id, url in replicas:
        parts = urllib.parse.urlsplit(url)
        targets.append({"targets": [parts.netloc], "labels": {"replica": replica_id, "__metrics_path__": parts.path}})
    return targets
