"""`create_app`: the FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from openlisten.api import (
    routes_auth,
    routes_flux,
    routes_keys,
    routes_listen,
    routes_live,
    routes_models,
    routes_ops,
    routes_projects,
)
from openlisten.api.callback_jobs import check_callback_url, job_producer
from openlisten.api.deps import Services
from openlisten.api.errors import document_errors, install_error_handlers
from openlisten.api.lifecycle import Lifecycle
from openlisten.api.limits import Limits
from openlisten.api.metrics import Metrics, MetricsMiddleware
from openlisten.api.middleware import RequestIdMiddleware
from openlisten.api.routes_web import install_playground
from openlisten.auth import Authenticator
from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.errors import OpenListenError
from openlisten.jobs.callbacks import CallbackSender, RetryPolicy
from openlisten.jobs.store import Store, open_store
from openlisten.jobs.worker import CallbackWorker
from openlisten.live.service import LiveService
from openlisten.transcriber import Transcriber

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, store: Store | None = None
) -> FastAPI:
    """An OpenListen server: Deepgram's ``/v1/listen`` API on the configured models.

    `engine` is built on `settings` unless given; `store` replaces the one `Settings.database_url` or
    `Settings.data_dir` names.
    """
    engine = engine or Engine(settings)
    settings = engine.settings
    url = settings.database_url.get_secret_value() if settings.database_url else None
    services = _services(settings, Transcriber(engine), store or open_store(settings.data_dir, url))
    app = FastAPI(title="OpenListen", version="0.1.0", summary="Deepgram-compatible speech-to-text", lifespan=_lifespan)
    app.state.services = services
    app.state.live = LiveService(engine)
    install_error_handlers(app)
    document_errors(app)
    app.add_middleware(RequestIdMiddleware)
    if settings.metrics:
        services.metrics.watch(services)
        app.add_middleware(MetricsMiddleware, metrics=services.metrics)
        app.include_router(routes_ops.metrics_router)
    for router in (
        routes_listen.router,
        routes_live.router,
        routes_flux.router,
        routes_models.router,
        routes_auth.router,
        routes_keys.router,
        routes_projects.router,
        routes_ops.router,
    ):
        app.include_router(router)
    if settings.playground:
        install_playground(app)
    return app


def _services(settings: Settings, transcriber: Transcriber, store: Store) -> Services:
    metrics = Metrics()
    sender = CallbackSender(
        timeout_s=settings.callback_timeout_s, check_url=functools.partial(check_callback_url, settings=settings)
    )
    retry = RetryPolicy(settings.callback_max_attempts, settings.callback_retry_base_s, settings.callback_retry_max_s)
    worker = CallbackWorker(
        store,
        job_producer(transcriber, settings, metrics),
        sender,
        retry=retry,
        concurrency=settings.callback_concurrency,
        lease_s=settings.callback_lease_s,
    )
    services = Services(
        settings=settings,
        transcriber=transcriber,
        authenticator=Authenticator(settings, store),
        store=store,
        worker=worker,
        limits=Limits(settings),
        lifecycle=Lifecycle(),
        metrics=metrics,
    )
    # What a graceful shutdown waits for (live sessions add their own hooks): REST requests in flight,
    # and the callback jobs being worked on.
    services.lifecycle.on_drain(services.limits.requests.wait_idle)
    services.lifecycle.on_drain(lambda: worker.stop(settings.shutdown_grace_s))
    return services


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start: resume callback jobs, load the default model (``/readyz`` says when). Stop: drain (a no-op
    when SIGTERM already drained) and leave unfinished jobs in the store."""
    services: Services = app.state.services
    services.lifecycle.draining = False  # an app can be started again after a shutdown (tests do)
    await services.worker.start()
    warm_up = asyncio.create_task(_load_default_model(services))
    try:
        yield
    finally:
        await services.lifecycle.drain(services.settings.shutdown_grace_s)
        await services.worker.stop(0)
        warm_up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warm_up


async def _load_default_model(services: Services) -> None:
    engine = services.engine
    try:
        await asyncio.to_thread(engine.load, engine.models.resolve("default"))
    except OpenListenError as exc:
        services.lifecycle.model_error = exc.message
        logger.error("the default model could not be loaded: %s", exc.message)
    else:
        services.lifecycle.model_ready = True
