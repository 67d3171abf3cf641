"""Wire shapes of projects and key management, as the SDK's ``manage.v1.projects`` reads and writes them.

Every field of Deepgram's models is optional in the SDK; these send all that apply. A self-hosted server has
one project and one member (the operator), so ``project_id`` is any string and ``member`` is fixed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from openlisten.wire.base import WireModel

__all__ = [
    "ApiKeyBody",
    "CreateKeyRequest",
    "CreateKeyResponse",
    "DeleteKeyResponse",
    "GetKeyItem",
    "GetKeyMember",
    "GetKeyResponse",
    "ListKeysItem",
    "ListKeysResponse",
    "ListProjectsResponse",
    "MemberBody",
    "ProjectBody",
]


class ProjectBody(WireModel):
    project_id: str
    name: str


class ListProjectsResponse(WireModel):
    projects: list[ProjectBody]


class MemberBody(WireModel):
    member_id: str
    email: str


class ApiKeyBody(WireModel):
    api_key_id: str
    comment: str
    scopes: list[str]
    #: RFC 3339.
    created: str


class ListKeysItem(WireModel):
    member: MemberBody
    api_key: ApiKeyBody


class ListKeysResponse(WireModel):
    """``GET /v1/projects/{project_id}/keys`` (``ListProjectKeysV1Response``)."""

    api_keys: list[ListKeysItem]


class GetKeyMember(MemberBody):
    api_key: ApiKeyBody


class GetKeyItem(WireModel):
    member: GetKeyMember


class GetKeyResponse(WireModel):
    """``GET /v1/projects/{project_id}/keys/{key_id}`` (``GetProjectKeyV1Response``)."""

    item: GetKeyItem


class CreateKeyRequest(BaseModel):
    """``POST /v1/projects/{project_id}/keys``: what the SDK's ``keys.create(request={...})`` sends."""

    model_config = ConfigDict(extra="ignore")

    comment: str = Field(max_length=256)
    #: `openlisten.auth.ALL_SCOPES` names, or Deepgram's roles ``member``, ``admin``, ``owner``.
    scopes: list[str] = Field(min_length=1, max_length=16)
    tags: list[str] | None = None
    #: Keys that expire are not supported: a key lives until it is revoked.
    expiration_date: str | None = None
    time_to_live_in_seconds: int | None = None


class CreateKeyResponse(WireModel):
    """The new key, shown only in this answer (``CreateKeyV1Response``)."""

    api_key_id: str
    key: str
    comment: str
    scopes: list[str]
    created: str


class DeleteKeyResponse(WireModel):
    message: str
