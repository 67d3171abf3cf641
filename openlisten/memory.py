"""`release_memory`: hand the memory a finished request freed back to the operating system.

Decoding a long upload makes many frame-sized allocations; once freed, glibc keeps them in its heap, so
the server's resident size stays at the request's peak. ``malloc_trim`` returns the free pages. A no-op
where the C library has no ``malloc_trim`` (musl, macOS).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Iterator

__all__ = ["release_memory", "released_after"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_memory() -> None:
    """Return the free pages of the C heap to the operating system (after a large request)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def released_after(*, large: bool) -> Iterator[None]:
    """Run a block, then `release_memory` if it was `large` (trimming costs milliseconds on a big heap)."""
    try:
        yield
    finally:
        if large:
            release_memory()
