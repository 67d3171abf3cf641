"""The HTTP layer: the FastAPI app, its routes, error handlers, limits, metrics and the uvicorn server.

Everything below it (wire shapes, auth, sources, the transcriber, live sessions) works without FastAPI.
"""

from openlisten.api.app import create_app

__all__ = ["create_app"]
