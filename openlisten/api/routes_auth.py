"""``POST /v1/auth/grant``: short-lived tokens for clients that must not hold a key (spec/listen-v1.md §6.1)."""

from __future__ import annotations

from fastapi import APIRouter

from openlisten.api.deps import GrantDep, ServicesDep
from openlisten.wire.listen import ErrorBody, GrantRequest, GrantResponse

__all__ = ["router"]

router = APIRouter(tags=["auth"])


@router.post(
    "/v1/auth/grant",
    response_model=GrantResponse,
    responses={status: {"model": ErrorBody} for status in (400, 401, 403)},
    summary="Grant a temporary token",
)
async def grant(services: ServicesDep, principal: GrantDep, body: GrantRequest | None = None) -> GrantResponse:
    """A JWT usable as ``Authorization: Bearer <token>`` on ``/v1/listen`` (REST and WebSocket) until it
    expires (default 30 s, at most 3600 s). Needs a key with the ``grant`` scope; tokens cannot grant."""
    ttl = body.ttl_seconds if body else None
    token, expires_in = services.authenticator.grant(principal, ttl)
    return GrantResponse(access_token=token, expires_in=expires_in)
