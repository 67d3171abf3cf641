"""FastAPI dependencies, as `Annotated` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from openlisten.api.auth import Authenticator, Principal
from openlisten.config import Settings
from openlisten.transcriber import Transcriber

__all__ = ["AuthDep", "Services", "ServicesDep"]


@dataclass(frozen=True)
class Services:
    """What the routes share: set once on ``app.state.services`` by `create_app`."""

    settings: Settings
    transcriber: Transcriber
    authenticator: Authenticator


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _authenticate(request: Request) -> Principal:
    return _services(request).authenticator.authenticate(request.headers.get("authorization"))


ServicesDep = Annotated[Services, Depends(_services)]
AuthDep = Annotated[Principal, Depends(_authenticate)]
