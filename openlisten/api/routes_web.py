"""The browser playground (issue 6): ``GET /`` and its two assets under ``/playground/``.

The page itself calls the public API like any other client (``POST /v1/listen``, ``POST /v1/auth/grant``,
WebSocket ``/v1/listen``), with the key the user types in, so serving it needs no credentials. The files
live in ``openlisten/web/`` and install with the package; nothing is built or fetched at run time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["WEB_DIR", "install_playground"]

#: The page, its script and its stylesheet.
WEB_DIR = Path(__file__).resolve().parent.parent / "web"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def playground() -> FileResponse:
    """The playground page."""
    return FileResponse(WEB_DIR / "index.html", media_type="text/html")


def install_playground(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/playground/``; every other path keeps its 404s."""
    app.include_router(router)
    app.mount("/playground", StaticFiles(directory=WEB_DIR), name="playground")
