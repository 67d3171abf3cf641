"""`SessionDriver`: runs a live session (v1's `LiveSession` or Flux's `FluxSession`) in an asyncio task,
its model work on the shared scheduler.

The driver is the only code that touches a session, always from the event loop's thread: client frames
come in through `feed_*`, model results come back from the scheduler's workers through
``loop.call_soon_threadsafe``, and `events()` yields what the client must be sent, calling the session's
`advance` whenever its next deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from openlisten.engine.packed_decoder import DecodeItem, DecodeResult
from openlisten.engine.scheduler import BatchRunner, Priority, Scheduler
from openlisten.features.diarize import VoiceEmbedder
from openlisten.live.events import CancelRequest, Close, DecodeRequest, EmbedRequest, Expedite
from openlisten.live.flux import EndOfTurnRequest
from openlisten.live.session import SessionState

if TYPE_CHECKING:
    from openlisten.engine.end_of_turn import EndOfTurnModel

__all__ = ["Session", "SessionDriver"]


class Session(Protocol):
    """What a driver runs: a sans-I/O live session."""

    @property
    def state(self) -> SessionState: ...

    @property
    def backlogged(self) -> bool: ...

    def feed_audio(self, data: bytes) -> None: ...

    def feed_control(self, control: Any) -> None: ...

    def feed_invalid(self, text: str, description: str) -> None: ...

    def advance(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def deliver(self, request_id: int, result: Any) -> None: ...

    def cancelled(self, request_id: int) -> None: ...

    def failed(self, request_id: int, message: str) -> None: ...

    def disconnect(self) -> None: ...

    def events(self) -> list[Any]: ...


logger = logging.getLogger(__name__)


class SessionDriver:
    """Feeds a session, runs its model work and times it; yields the events the client must see."""

    def __init__(
        self,
        session: Session,
        scheduler: Scheduler,
        decoder: BatchRunner[DecodeItem, DecodeResult],
        *,
        embedder: VoiceEmbedder | None = None,
        end_of_turn: EndOfTurnModel | None = None,
        name: Hashable = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self._scheduler = scheduler
        self._decoder = decoder
        self._embedder = embedder
        self._end_of_turn = end_of_turn
        #: Tells this session's interims apart from other sessions' when the scheduler coalesces them.
        self._name = name if name is not None else object()
        self._clock = clock
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._futures: dict[int, Future[Any]] = {}
        session.advance(clock())

    # Input, from the task that receives the client's frames.

    def feed_audio(self, data: bytes) -> None:
        """A binary frame."""
        self.session.feed_audio(data)
        self._poke()

    async def room_for_audio(self) -> None:
        """Return once the session can take more audio (`LiveSession.backlogged` is false): the receiving
        task waits here, so a client sending faster than real time is held back by TCP flow control."""
        while self.session.backlogged:
            self._room.clear()
            await self._room.wait()

    def feed_control(self, control: Any) -> None:
        """A parsed text frame."""
        self.session.feed_control(control)
        self._poke()

    def feed_invalid(self, text: str, description: str) -> None:
        """A text frame that is no message we know."""
        self.session.feed_invalid(text, description)
        self._poke()

    def disconnect(self) -> None:
        """The client is gone."""
        self.session.disconnect()
        self._poke()

    # Output.

    async def events(self) -> AsyncIterator[Any]:
        """What to send the client, in order, until the session closes (a `Close` comes last, if any)."""
        while True:
            # Read before draining: while an event is being sent, the client's frames may close the session,
            # and the events that closing adds (Metadata, Close) come out in the next round.
            closed = self.session.state is SessionState.CLOSED
            for event in self._drain():
                yield event
                if isinstance(event, Close):
                    return
            if closed:
                return
            await self._wait()

    def close(self) -> None:
        """Cancel the model work still waiting (the connection is over)."""
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()

    # Steps.

    def _poke(self) -> None:
        self.session.advance(self._clock())
        self._wake.set()
        self._room.set()

    def _drain(self) -> list[Any]:
        """The session's events for the client; its model requests go to the scheduler."""
        out: list[Any] = []
        for event in self.session.events():
            if isinstance(event, DecodeRequest):
                self._submit(event)
            elif isinstance(event, EmbedRequest):
                self._submit_embed(event)
            elif isinstance(event, EndOfTurnRequest):
                self._submit_end_of_turn(event)
            elif isinstance(event, CancelRequest):
                future = self._futures.pop(event.request_id, None)
                if future is not None:
                    future.cancel()
            elif isinstance(event, Expedite):
                future = self._futures.get(event.request_id)
                if future is not None:
                    self._scheduler.expedite(future, Priority.LIVE_FINALIZE if event.urgent else Priority.LIVE_FINAL)
            else:
                out.append(event)
        return out

    def _submit(self, request: DecodeRequest) -> None:
        priority = Priority.LIVE_FINAL if request.final and not request.ahead else Priority.LIVE_INTERIM
        if request.urgent:
            priority = Priority.LIVE_FINALIZE
        key = None if request.final else (self._name, request.channel)
        future = self._scheduler.submit_batch(self._decoder, priority, request.item, coalesce_key=key)
        self._track(request.request_id, future, "final" if request.final else "interim")

    def _submit_embed(self, request: EmbedRequest) -> None:
        embedder = self._embedder
        assert embedder is not None, "a diarizing session needs the driver's embedder"
        clips = request.turns.clips
        future = self._scheduler.submit(Priority.LIVE_FINAL, lambda: np.stack([embedder.embed(c) for c in clips]))
        self._track(request.request_id, future, "speakers")

    def _submit_end_of_turn(self, request: EndOfTurnRequest) -> None:
        model = self._end_of_turn
        assert model is not None, "a Flux session needs the driver's end-of-turn model"
        self._track(request.request_id, model.submit(request.audio), "end of turn")

    def _track(self, request_id: int, future: Future[Any], kind: str) -> None:
        submitted = time.perf_counter()
        self._futures[request_id] = future
        future.add_done_callback(lambda done: self._from_worker(request_id, done, submitted, kind))

    def _from_worker(self, request_id: int, future: Future[Any], submitted: float, kind: str) -> None:
        if logger.isEnabledFor(logging.DEBUG) and not future.cancelled() and future.exception() is None:
            logger.debug(
                "request %d ready %.2f s after it was made (%s)", request_id, time.perf_counter() - submitted, kind
            )
        with contextlib.suppress(RuntimeError):  # the loop is closed: the connection ended long ago
            self._loop.call_soon_threadsafe(self._done, request_id, future)

    def _done(self, request_id: int, future: Future[Any]) -> None:
        if self._futures.pop(request_id, None) is not future:
            return  # cancelled by the session, or the connection is over
        if future.cancelled():
            self.session.cancelled(request_id)
        elif (error := future.exception()) is not None:
            logger.error("live model work failed: %s", error, exc_info=error)
            self.session.failed(request_id, "the model failed to transcribe the audio")
        else:
            self.session.deliver(request_id, future.result())
        self._wake.set()
        self._room.set()

    async def _wait(self) -> None:
        """Until something happens or the session's deadline passes."""
        deadline = self.session.next_deadline()
        timeout = None if deadline is None else max(0.0, deadline - self._clock())
        with contextlib.suppress(asyncio.TimeoutError):  # the builtin TimeoutError only from Python 3.11
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()
        self.session.advance(self._clock())
