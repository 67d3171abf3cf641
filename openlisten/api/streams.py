"""Reading bodies that arrive as streams, never past a size cap."""

from __future__ import annotations

from collections.abc import AsyncIterator

from openlisten.errors import PayloadTooLarge

__all__ = ["read_limited"]


async def read_limited(
    chunks: AsyncIterator[bytes], *, declared_length: str | None, max_bytes: int, what: str
) -> bytes:
    """All of `chunks`, refusing with `PayloadTooLarge` as soon as `what` is known to exceed `max_bytes`:
    from its declared ``Content-Length`` before reading, or while reading (chunked bodies have none)."""
    if declared_length and declared_length.isdigit() and int(declared_length) > max_bytes:
        raise PayloadTooLarge(f"{what} is {declared_length} bytes; the limit is {max_bytes}")
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"{what} is larger than the limit of {max_bytes} bytes")
    return bytes(body)
