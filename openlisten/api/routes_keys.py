"""Key management over HTTP, for keys with the ``keys`` scope: Deepgram's ``/v1/projects/{project_id}/keys``,
so the SDK's ``client.manage.v1.projects.keys`` works. The same store as ``openlisten keys``.

Only keys made here or with ``openlisten keys create`` are listed and can be revoked; keys given to the
server (``--api-key``, keys file) are configuration. A key is never shown again after its creation.
"""

from __future__ import annotations

import datetime
import functools
import time

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from openlisten.api.deps import KeysDep, ServicesDep
from openlisten.auth import create_key
from openlisten.errors import UnsupportedFeature
from openlisten.jobs.store import ApiKey
from openlisten.wire.keys import (
    ApiKeyBody,
    CreateKeyRequest,
    CreateKeyResponse,
    DeleteKeyResponse,
    GetKeyItem,
    GetKeyMember,
    GetKeyResponse,
    ListKeysItem,
    ListKeysResponse,
    MemberBody,
)
from openlisten.wire.listen import ErrorBody

__all__ = ["router"]

router = APIRouter(tags=["keys"], responses={status: {"model": ErrorBody} for status in (400, 401, 403, 404)})

#: The one member of a self-hosted server's one project: its operator.
_OPERATOR = MemberBody(member_id="operator", email="")


@router.get("/v1/projects/{project_id}/keys", response_model=ListKeysResponse, summary="List keys")
async def list_keys(project_id: str, services: ServicesDep, _principal: KeysDep) -> ListKeysResponse:
    """The keys that have not been revoked, oldest first."""
    keys = await run_in_threadpool(services.store.list_keys)
    return ListKeysResponse(
        api_keys=[ListKeysItem(member=_OPERATOR, api_key=_body(key)) for key in keys if key.revoked_at is None]
    )


@router.post("/v1/projects/{project_id}/keys", response_model=CreateKeyResponse, summary="Create a key")
async def create(
    project_id: str, body: CreateKeyRequest, services: ServicesDep, principal: KeysDep
) -> CreateKeyResponse:
    """A new key with `scopes` (at most those of the key asking); the answer is the only place the key appears."""
    if body.expiration_date is not None or body.time_to_live_in_seconds is not None:
        raise UnsupportedFeature("keys that expire are not supported by this server; revoke keys instead")
    key, record = await run_in_threadpool(
        functools.partial(create_key, within=principal.scopes), services.store, body.comment, body.scopes
    )
    described = _body(record)
    return CreateKeyResponse(
        api_key_id=record.key_id, key=key, comment=record.name, scopes=described.scopes, created=described.created
    )


@router.get("/v1/projects/{project_id}/keys/{key_id}", response_model=GetKeyResponse, summary="Get a key")
async def get(project_id: str, key_id: str, services: ServicesDep, _principal: KeysDep) -> GetKeyResponse:
    """One key (never the key itself), by id."""
    key = await run_in_threadpool(services.store.get_key, key_id)
    if key is None or key.revoked_at is not None:
        raise HTTPException(404, f"No such key: {key_id!r}")
    member = GetKeyMember(member_id=_OPERATOR.member_id, email=_OPERATOR.email, api_key=_body(key))
    return GetKeyResponse(item=GetKeyItem(member=member))


@router.delete("/v1/projects/{project_id}/keys/{key_id}", response_model=DeleteKeyResponse, summary="Delete a key")
async def delete(project_id: str, key_id: str, services: ServicesDep, _principal: KeysDep) -> DeleteKeyResponse:
    """Revoke a key: it and its temporary tokens stop working at once."""
    if not await run_in_threadpool(services.store.revoke_key, key_id, time.time()):
        raise HTTPException(404, f"No such key: {key_id!r}")
    return DeleteKeyResponse(message="API key deleted")


def _body(key: ApiKey) -> ApiKeyBody:
    created = datetime.datetime.fromtimestamp(key.created_at, datetime.timezone.utc)
    return ApiKeyBody(
        api_key_id=key.key_id,
        comment=key.name,
        scopes=sorted(key.scopes),
        created=created.isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
