"""`WebSocketProtocol`: uvicorn's websockets protocol, with its handling of refused handshakes fixed.

uvicorn 0.54's sans-I/O protocol has two faults with handshakes that never open:

- A request line or header over websockets' limit (8 KB) makes websockets write a 414 or 431 reply, but
  uvicorn's parser-error path assumes an open connection: it fails on an assertion, sends nothing, and
  leaves the socket open (anyone, no key needed, could hold sockets that way).
- A handshake the app refuses with an HTTP response (``send_denial_response``, how every 401, 403, 429
  and 400 of ``/v1/listen`` is sent) is logged as "ASGI callable returned without completing handshake"
  at ERROR, though it is the expected way to refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent

__all__ = ["WebSocketProtocol"]


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol: a handshake that fails to parse gets its 4xx and the socket
    closes; a refused handshake counts as complete."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.handshake_exc is not None and not self.handshake_initiated and not self.transport.is_closing():
            # The handshake request did not parse: websockets has written its 414, 431 (or nothing, for a
            # request that is no HTTP at all); send that and hang up.
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            self.handshake_complete = True  # refused with an HTTP response: the handshake is over
