"""Readiness and graceful shutdown.

`Lifecycle.drain` runs when the server is asked to stop (SIGTERM; see `api/server.py`): new requests
get 503 (the SDK retries, ideally onto another replica) and every registered drain hook runs at once,
all within one grace period. Hooks are how in-flight work finishes: REST requests complete, the
callback worker stops claiming and lets its running jobs end (whatever is left resumes at the next
start), and each live session flushes its final results and closes. A live session registers its hook
when it opens and removes it when it closes::

    remove = services.lifecycle.on_drain(session_finish)   # async callable: finals, Metadata, close
    try:
        ...
    finally:
        remove()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["DrainHook", "Lifecycle"]

logger = logging.getLogger(__name__)

#: Finishes a piece of in-flight work when the server drains; it is cancelled when the grace runs out.
DrainHook = Callable[[], Awaitable[None]]


class Lifecycle:
    """Whether the server is ready, whether it is draining, and what must finish before it stops."""

    def __init__(self) -> None:
        #: The default model is loaded (set by the app's startup).
        self.model_ready = False
        #: Why the model could not be loaded, when it could not.
        self.model_error: str | None = None
        #: Shutdown has begun: refuse new work.
        self.draining = False
        self._hooks: dict[int, DrainHook] = {}
        self._next_id = 0

    @property
    def ready(self) -> bool:
        """Ready for traffic: the model is loaded and the server is not draining."""
        return self.model_ready and not self.draining

    def on_drain(self, hook: DrainHook) -> Callable[[], None]:
        """Run `hook` when the server drains; returns the function that unregisters it."""
        hook_id = self._next_id
        self._next_id += 1
        self._hooks[hook_id] = hook
        return lambda: self._hooks.pop(hook_id, None) and None

    async def drain(self, grace_s: float) -> None:
        """Refuse new work and run every hook at once, cancelling what is still running after `grace_s`."""
        if self.draining:
            return
        self.draining = True
        tasks = [asyncio.ensure_future(hook()) for hook in list(self._hooks.values())]
        logger.info("draining: waiting up to %.0f s for %d piece(s) of in-flight work", grace_s, len(tasks))
        if not tasks:
            return
        done, pending = await asyncio.wait(tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error("a drain hook failed", exc_info=task.exception())
        if pending:
            logger.warning("grace period over: %d piece(s) of work cut short", len(pending))
