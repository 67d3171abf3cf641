"""The one place exceptions become Deepgram error bodies (spec/listen-v1.md §7)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from openlisten.api.schemas import ErrorBody
from openlisten.errors import CapacityError, OpenListenError

__all__ = ["error_response", "install_error_handlers", "request_id_of"]

logger = logging.getLogger(__name__)

#: Seconds a client should wait before retrying a 429 (the SDK honours Retry-After).
RETRY_AFTER_S = 1

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


def request_id_of(request: Request) -> str:
    """The request's id, set by `RequestIdMiddleware`."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_response(request: Request, status: int, err_code: str, err_msg: str) -> JSONResponse:
    """A Deepgram legacy error body with the request's id."""
    body = ErrorBody(err_code=err_code, err_msg=err_msg, request_id=request_id_of(request))
    headers = {"dg-error": err_msg[:200].encode("ascii", "replace").decode()}
    if status == 429:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into Deepgram's error shape."""

    async def on_openlisten_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OpenListenError)
        if exc.http_status >= 500:
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
        return error_response(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "Bad Request"), exc.detail)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("request %s failed unexpectedly", request_id_of(request))
        return error_response(request, 500, "INTERNAL_SERVER_ERROR", "Internal server error.")

    app.add_exception_handler(OpenListenError, on_openlisten_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
