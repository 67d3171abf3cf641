"""Reading bodies that arrive as streams, never past a size cap, and never slower than a minimum rate."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio

from openlisten.errors import PayloadTooLarge, RequestTimeout

__all__ = ["MinimumRate", "read_limited"]


@dataclass(frozen=True)
class MinimumRate:
    """How slowly a body may arrive: after `grace_s`, at least `bytes_per_s` on average since the start."""

    bytes_per_s: float
    grace_s: float

    def deadline(self, started: float, received: int) -> float:
        """When the next byte must have come, for a body that started at `started` with `received` bytes."""
        return started + self.grace_s + received / self.bytes_per_s


async def read_limited(
    chunks: AsyncIterator[bytes],
    *,
    declared_length: str | None,
    max_bytes: int,
    what: str,
    min_rate: MinimumRate | None = None,
) -> bytes:
    """All of `chunks`, refusing with `PayloadTooLarge` as soon as `what` is known to exceed `max_bytes`:
    from its declared ``Content-Length`` before reading, or while reading (chunked bodies have none).
    With `min_rate`, a body that falls behind it is cut off with `RequestTimeout` (408): a client trickling
    bytes cannot hold the connection, and the memory its body takes, for longer than its size warrants."""
    if declared_length and declared_length.isdigit() and int(declared_length) > max_bytes:
        raise PayloadTooLarge(f"{what} is {declared_length} bytes; the limit is {max_bytes}")
    body = bytearray()
    started = time.monotonic()
    iterator = chunks.__aiter__()
    while True:
        try:
            if min_rate is None:
                chunk = await iterator.__anext__()
            else:
                with anyio.fail_after(max(0.0, min_rate.deadline(started, len(body)) - time.monotonic())):
                    chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return bytes(body)
        except TimeoutError as exc:
            assert min_rate is not None
            raise RequestTimeout(
                f"{what} arrived slower than this server's minimum of {min_rate.bytes_per_s:.0f} bytes/s "
                f"({len(body)} bytes in {time.monotonic() - started:.0f} s)"
            ) from exc
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"{what} is larger than the limit of {max_bytes} bytes")
