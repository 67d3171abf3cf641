"""`SessionDriver`: the asyncio side of a live session (live/driver.py)."""

from __future__ import annotations

import asyncio

from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.engine.scheduler import Scheduler
from openlisten.live.driver import SessionDriver
from openlisten.live.events import Close, CloseStream, Metadata, Results
from tests.live.helpers import pcm16, session, silence, tone


def test_closing_while_an_event_is_being_sent_loses_nothing() -> None:
    """The client's CloseStream may arrive while the consumer is sending an earlier event: the Metadata and
    Close it causes must still come out (they once were lost, and the client waited forever)."""

    async def scenario() -> list[object]:
        driver = SessionDriver(session("interim_results=true"), Scheduler(), FakePackedDecoder("hello"))
        driver.feed_audio(pcm16(tone(1.0), silence(1.0)))
        seen: list[object] = []
        async for event in driver.events():
            seen.append(event)
            if isinstance(event, Results) and event.is_final:
                driver.feed_control(CloseStream())  # as the receiving task would, during the send
        return seen

    seen = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert isinstance(seen[-2], Metadata) and seen[-1] == Close(1000, "")
