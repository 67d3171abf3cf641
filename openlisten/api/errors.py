"""The one place exceptions become Deepgram error bodies (spec/listen-v1.md §7)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.routing import Match

from openlisten.errors import CapacityError, OpenListenError, Unavailable, escape_control
from openlisten.wire.listen import ErrorBody

__all__ = ["denial_response", "document_errors", "error_response", "install_error_handlers", "request_id_of"]

logger = logging.getLogger(__name__)

#: Seconds a client should wait before retrying a 429 (the SDK honours Retry-After).
RETRY_AFTER_S = 1

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


def request_id_of(request: HTTPConnection) -> str:
    """The request's id, set by `RequestIdMiddleware`."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_response(request: HTTPConnection, status: int, err_code: str, err_msg: str) -> JSONResponse:
    """A Deepgram legacy error body with the request's id; `err_msg` may quote the client, so its control
    characters are escaped (a CR/LF in ``dg-error`` would end the header, or make uvicorn drop the reply)."""
    err_msg = escape_control(err_msg)
    body = ErrorBody(err_code=err_code, err_msg=err_msg, request_id=request_id_of(request))
    request.scope.setdefault("state", {})["err_code"] = err_code  # for the metrics (api/metrics.py)
    headers = {"dg-error": err_msg[:200].encode("ascii", "replace").decode()}
    if status == 429:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def denial_response(websocket: HTTPConnection, exc: OpenListenError) -> JSONResponse:
    """The HTTP reply that refuses a WebSocket handshake, in Deepgram's error shape with ``dg-error``
    (spec/listen-v1.md §5.1); send it with ``websocket.send_denial_response``."""
    if exc.http_status >= 500:
        logger.error("live request %s refused (%s): %s", request_id_of(websocket), exc.http_status, exc.message)
    else:
        logger.info("live request %s refused (%s): %s", request_id_of(websocket), exc.http_status, exc.message)
    return error_response(websocket, exc.http_status, exc.err_code, exc.message)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into Deepgram's error shape."""

    async def on_openlisten_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OpenListenError)
        if exc.http_status >= 500 and type(exc) is not Unavailable:  # draining's 503 is expected, not a failure
            logger.error("request %s failed: %s", request_id_of(request), exc.message)
        else:
            logger.info("request %s refused (%s): %s", request_id_of(request), exc.http_status, exc.message)
        message = exc.message
        if isinstance(exc, CapacityError):
            message = exc.message or "Too many requests."
        return error_response(request, exc.http_status, exc.err_code, message)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        return error_response(request, 400, "Bad Request", f"Invalid request: {details}")

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        response = error_response(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "Bad Request"), exc.detail)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # every method the path takes, not only those of the first route that matched
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("request %s failed unexpectedly", request_id_of(request))
        return error_response(request, 500, "INTERNAL_SERVER_ERROR", "Internal server error.")

    app.add_exception_handler(OpenListenError, on_openlisten_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document say what the handlers above do: FastAPI documents validation errors as 422
    ``HTTPValidationError``, but every error of a ``/v1`` route, those included, is Deepgram's error body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        error = {"$ref": "#/components/schemas/ErrorBody"}
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                if path.startswith("/v1/"):
                    description = "Any other error, in Deepgram's shape (spec/listen-v1.md §7)"
                    responses["default"] = {
                        "description": description,
                        "content": {"application/json": {"schema": error}},
                    }
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route takes on the request's path: Starlette answers a 405 from the first route that
    matched the path, whose ``Allow`` lists only its own methods (RFC 9110 §15.5.6 wants all of them)."""
    routes = request.app.router.routes
    allowed = []
    for method in ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed
