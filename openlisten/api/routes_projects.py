"""``GET /v1/projects`` and ``GET /v1/projects/{project_id}``: the server's one project, in Deepgram's shape.

A self-hosted server has a single project; every key belongs to it. Clients ask for projects to check a key
before they do anything else (``deepctl`` does), so any valid key or token gets the list, and a bad one 401.
"""

from __future__ import annotations

from fastapi import APIRouter

from openlisten.api.deps import AuthDep
from openlisten.wire.keys import ListProjectsResponse, ProjectBody
from openlisten.wire.listen import ErrorBody

__all__ = ["PROJECT_ID", "router"]

router = APIRouter(tags=["projects"], responses={401: {"model": ErrorBody}})

#: The id the one project is listed under; key management takes any project id as this one.
PROJECT_ID = "openlisten"
_NAME = "OpenListen"


@router.get("/v1/projects", response_model=ListProjectsResponse, summary="List projects")
async def list_projects(_principal: AuthDep) -> ListProjectsResponse:
    """The one project of this server."""
    return ListProjectsResponse(projects=[ProjectBody(project_id=PROJECT_ID, name=_NAME)])


@router.get("/v1/projects/{project_id}", response_model=ProjectBody, summary="Get a project")
async def get_project(project_id: str, _principal: AuthDep) -> ProjectBody:
    """The one project, under whatever id the client knows it by (key management takes any)."""
    return ProjectBody(project_id=project_id, name=_NAME)
