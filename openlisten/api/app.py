"""`create_app`: the FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from openlisten.api import routes_auth, routes_listen, routes_models
from openlisten.api.auth import Authenticator
from openlisten.api.deps import Services
from openlisten.api.errors import install_error_handlers
from openlisten.api.middleware import RequestIdMiddleware
from openlisten.config import Settings
from openlisten.transcriber import Transcriber

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, transcriber: Transcriber | None = None) -> FastAPI:
    """An OpenListen server: Deepgram's ``/v1/listen`` API on the configured models."""
    settings = settings or Settings()
    app = FastAPI(title="OpenListen", version="0.1.0", summary="Deepgram-compatible speech-to-text")
    app.state.services = Services(
        settings=settings,
        transcriber=transcriber or Transcriber(settings),
        authenticator=Authenticator(settings),
    )
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    for router in (routes_listen.router, routes_models.router, routes_auth.router):
        app.include_router(router)
    return app
