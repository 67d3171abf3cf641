"""FastAPI dependencies, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from openlisten.api.lifecycle import Lifecycle
from openlisten.api.limits import Limits
from openlisten.api.metrics import Metrics
from openlisten.auth import GRANT, KEYS, TRANSCRIBE, Authenticator, Principal
from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.errors import Unavailable
from openlisten.jobs.store import Store
from openlisten.jobs.worker import CallbackWorker
from openlisten.transcriber import Transcriber

__all__ = ["AuthDep", "GrantDep", "InFlightDep", "KeysDep", "Services", "ServicesDep", "TranscribeDep"]


@dataclass(frozen=True)
class Services:
    """What the routes share: set once on ``app.state.services`` by `create_app`."""

    settings: Settings
    transcriber: Transcriber
    authenticator: Authenticator
    #: Callback jobs, keys and secrets.
    store: Store
    worker: CallbackWorker
    limits: Limits
    lifecycle: Lifecycle
    metrics: Metrics

    @property
    def engine(self) -> Engine:
        """The models, scheduler and decoders, shared with live sessions."""
        return self.transcriber.engine


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _authenticate(request: Request) -> Principal:
    return _services(request).authenticator.authenticate(request.headers.get("authorization"))


def _scoped(scope: str) -> Callable[[Request], Principal]:
    def authenticate(request: Request) -> Principal:
        return _services(request).authenticator.authenticate(request.headers.get("authorization"), scope)

    return authenticate


ServicesDep = Annotated[Services, Depends(_services)]
#: Any valid key or token.
AuthDep = Annotated[Principal, Depends(_authenticate)]
#: A key or token with the transcribe scope (403 without it).
TranscribeDep = Annotated[Principal, Depends(_scoped(TRANSCRIBE))]
#: A key with the grant scope.
GrantDep = Annotated[Principal, Depends(_scoped(GRANT))]
#: A key with the keys scope (tokens never have it).
KeysDep = Annotated[Principal, Depends(_scoped(KEYS))]


async def _in_flight(request: Request, principal: TranscribeDep) -> AsyncIterator[None]:
    services = _services(request)
    if services.lifecycle.draining:
        raise Unavailable("The server is shutting down; retry.")
    with services.limits.requests.slot(principal.key_id):
        yield


#: The request counts as in flight (a graceful shutdown waits for it); 503 while the server drains. The
#: route takes one of the concurrent-request slots itself, once the body has arrived.
InFlightDep = Annotated[None, Depends(_in_flight)]
