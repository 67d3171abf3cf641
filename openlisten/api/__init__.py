"""The wire layer: FastAPI app, routes, Deepgram wire schemas, errors and auth."""

from openlisten.api.app import create_app

__all__ = ["create_app"]
