"""The whole OpenListen exception tree.

Each class carries the Deepgram ``err_code``, the HTTP status a REST reply uses and the close code a
WebSocket uses, so that ``api/errors.py`` turns any of them into Deepgram's error shape in one place
(spec/listen-v1.md §7)::

    OpenListenError
    ├── RequestError                 400  the client sent something we cannot use
    │   ├── InvalidParameter         400  a known query parameter has a malformed value
    │   ├── UnsupportedEncoding      400  an encoding name we do not decode
    │   ├── AudioDecodeError         400  the bytes are not audio we can decode
    │   ├── URLFetchError            400  a `{"url": ...}` could not be fetched
    │   ├── UnsupportedFeature       400  an option this server does not implement
    │   ├── RequestTimeout           408  the body did not arrive in time, or came too slowly
    │   ├── ClientClosedRequest      499  the client went away before its request was read
    │   └── PayloadTooLarge          413  the body or the fetched file is over the cap
    ├── AuthError                    401  missing or wrong credentials
    │   └── PermissionDenied         403  the key lacks the scope the request needs
    ├── CapacityError                429  over a concurrency limit (the SDK retries it)
    ├── Unavailable                  503  shutting down, or the job store is unreachable (retried)
    │   └── StoreError               503  the job and key store failed
    ├── ProcessingTimeout            504  transcription ran past the request timeout
    └── InternalError                500  our bug; logged with the request_id
"""

from __future__ import annotations

import re

__all__ = [
    "AudioDecodeError",
    "AuthError",
    "CapacityError",
    "ClientClosedRequest",
    "InternalError",
    "InvalidParameter",
    "OpenListenError",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProcessingTimeout",
    "RequestError",
    "RequestTimeout",
    "StoreError",
    "StreamClosed",
    "URLFetchError",
    "Unavailable",
    "UnsupportedEncoding",
    "UnsupportedFeature",
    "escape_control",
]

#: Characters that end or forge a header or a log line: C0 and C1 controls, DEL, Unicode line separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_control(text: str) -> str:
    """`text` with every control character written as its escape (``\\r``, ``\\x00``), so that a value a
    client sent can be echoed in a message, a header or a log line without ending or forging one."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code)
    return named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class OpenListenError(Exception):
    """Base of every error OpenListen raises on purpose."""

    err_code = "INTERNAL_SERVER_ERROR"
    http_status = 500
    #: WebSocket close code (RFC 6455 §7.4.1); 1011 is "internal error".
    close_code = 1011

    def __init__(self, message: str) -> None:
        message = escape_control(message)  # messages quote what clients sent; they reach headers and logs
        super().__init__(message)
        self.message = message


class RequestError(OpenListenError):
    """The client sent something this server cannot use."""

    err_code = "Bad Request"
    http_status = 400
    close_code = 1008


class InvalidParameter(RequestError):
    """A known query parameter has a malformed or unsupported value."""

    err_code = "INVALID_QUERY_PARAMETER"


class UnsupportedEncoding(RequestError):
    """The declared raw `encoding` is not one this server decodes."""

    err_code = "INVALID_QUERY_PARAMETER"


class AudioDecodeError(RequestError):
    """The bytes could not be decoded as audio (corrupt, unsupported, or not audio at all)."""


class URLFetchError(RequestError):
    """The audio URL could not be fetched, or is not allowed."""


class UnsupportedFeature(RequestError):
    """The request asks for a feature this server does not implement."""

    err_code = "UNSUPPORTED_FEATURE"


class PayloadTooLarge(RequestError):
    """The upload or the fetched file is larger than the configured cap."""

    err_code = "PAYLOAD_TOO_LARGE"
    http_status = 413
    close_code = 1009


class RequestTimeout(RequestError):
    """The request body did not arrive within the request timeout."""

    err_code = "REQUEST_TIMEOUT"
    http_status = 408


class ClientClosedRequest(RequestError):
    """The client closed the connection while its body was arriving: nobody is left to answer (nginx's 499)."""

    err_code = "CLIENT_CLOSED_REQUEST"
    http_status = 499


class AuthError(OpenListenError):
    """Missing, malformed or wrong credentials."""

    err_code = "INVALID_AUTH"
    http_status = 401
    close_code = 1008


class PermissionDenied(AuthError):
    """Valid credentials without the scope the request needs (spec/listen-v1.md §6.1)."""

    err_code = "FORBIDDEN"
    http_status = 403


class StreamClosed(OpenListenError):
    """An in-process live stream (`openlisten.stream`) ended with an error: `close_code` is the WebSocket
    close code the server would have sent (1008 bad audio, 1011 idle or internal, …)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"the stream closed: {code} {reason}".rstrip())
        self.close_code = code


class CapacityError(OpenListenError):
    """A concurrency limit is reached; the client may retry later."""

    err_code = "TOO_MANY_REQUESTS"
    http_status = 429
    close_code = 1013


class Unavailable(OpenListenError):
    """The server cannot take the request now (shutting down); a retry, elsewhere or later, can succeed."""

    err_code = "SERVICE_UNAVAILABLE"
    http_status = 503
    #: "Service restart" (RFC 6455 §7.4.1, IANA registry): the client should reconnect.
    close_code = 1012


class StoreError(Unavailable):
    """The job and key store failed (the database is locked, full or unreachable)."""


class ProcessingTimeout(OpenListenError):
    """Transcription ran past the request timeout; long files belong in ``callback`` jobs."""

    err_code = "REQUEST_TIMEOUT"
    http_status = 504


class InternalError(OpenListenError):
    """Something failed inside OpenListen; never the client's fault."""
