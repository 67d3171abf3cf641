"""Live transcription through the Deepgram plugins voice agents use: LiveKit Agents' and Pipecat's.

Each client is driven as its users drive it, against a real server and the real model: LiveKit's
`stt.stream()` fed `rtc.AudioFrame`s, then ``end_input()`` (a ``Finalize``, then ``CloseStream``); a Pipecat
pipeline whose Silero VAD makes `DeepgramSTTService` send ``Finalize`` at every pause it hears. Both speak
Deepgram's wire protocol with their own WebSocket clients (aiohttp, and the official SDK's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import JFK_TEXT, words_of
from tests.e2e.conftest import API_KEY, LiveServer
from tests.e2e.test_live import linear16, pause, wer

pytestmark = pytest.mark.e2e

RATE = 16000
#: Audio per frame the clients are given: 20 ms, as a WebRTC track delivers it.
FRAME_BYTES = RATE // 50 * 2
#: How much faster than real time the audio is fed (the clients' VAD and the protocol do not care).
SPEED = 4.0


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[offset : offset + FRAME_BYTES] for offset in range(0, len(pcm), FRAME_BYTES)]


def test_livekit_agents_plugin(live_server: LiveServer, jfk_flac: bytes, caplog: pytest.LogCaptureFixture) -> None:
    import aiohttp
    from livekit import rtc
    from livekit.agents import stt
    from livekit.plugins import deepgram

    pcm = linear16(jfk_flac) + pause(1.0)

    async def main() -> list[Any]:
        async with aiohttp.ClientSession() as http:
            recognizer = deepgram.STT(
                api_key=API_KEY, base_url=f"{live_server.base_url}/v1/listen", http_session=http, sample_rate=RATE
            )
            stream = recognizer.stream()

            async def feed() -> None:
                for frame in frames(pcm):
                    samples = len(frame) // 2
                    stream.push_frame(
                        rtc.AudioFrame(data=frame, sample_rate=RATE, num_channels=1, samples_per_channel=samples)
                    )
                    await asyncio.sleep(samples / RATE / SPEED)
                stream.end_input()  # LiveKit sends Finalize, then CloseStream

            feeder = asyncio.create_task(feed())
            events = [event async for event in stream]
            await feeder
            await stream.aclose()
            return events

    with caplog.at_level(logging.WARNING):
        events = asyncio.run(asyncio.wait_for(main(), 120))
    kinds = [event.type for event in events]
    finals = [event.alternatives[0] for event in events if event.type is stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert kinds[0] is stt.SpeechEventType.START_OF_SPEECH
    assert stt.SpeechEventType.END_OF_SPEECH in kinds  # a speech_final ended the speaker's turn
    assert wer(JFK_TEXT, " ".join(final.text for final in finals)) <= 0.15
    said = [str(word) for final in finals for word in final.words]
    assert len(said) == len(words_of(" ".join(final.text for final in finals)))  # each word once, with its time
    starts = [word.start_time for final in finals for word in final.words]
    assert starts == sorted(starts)
    client_warnings = [r for r in caplog.records if r.name.startswith("livekit") and r.levelno >= logging.WARNING]
    assert not client_warnings, [r.getMessage() for r in client_warnings]


def run_pipecat(
    processors: list[Any], pcm: bytes, kinds: tuple[type, ...], done: Callable[[list[Any]], bool]
) -> tuple[list[Any], list[str]]:
    """Run a Pipecat pipeline of `processors`, fed `pcm` at `SPEED` from its StartFrame on, then silence
    until `done` says so of the frames of `kinds` seen at its end (at most 30 s of it); those frames, and
    the warnings Pipecat logged."""
    from loguru import logger as loguru_logger
    from pipecat.frames.frames import EndFrame, Frame, InputAudioRawFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    seen: list[Frame] = []

    class Collect(FrameProcessor):
        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, kinds):
                seen.append(frame)
            await self.push_frame(frame, direction)

    warnings: list[str] = []
    sink = loguru_logger.add(lambda message: warnings.append(str(message)), level="WARNING")

    async def main() -> None:
        task = PipelineWorker(
            Pipeline([*processors, Collect()]), params=PipelineParams(audio_in_sample_rate=RATE), enable_rtvi=False
        )

        async def feed() -> None:
            await asyncio.sleep(0.5)  # the services connect at the StartFrame
            audio = frames(pcm)
            silence = bytes(FRAME_BYTES)
            for index in range(len(audio) + 30 * 50):  # then silence, as a microphone goes on sending
                if index >= len(audio) and done(seen):
                    break
                frame = audio[index] if index < len(audio) else silence
                await task.queue_frame(InputAudioRawFrame(audio=frame, sample_rate=RATE, num_channels=1))
                await asyncio.sleep(len(frame) / 2 / RATE / SPEED)
            await task.queue_frame(EndFrame())

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(task)
        await asyncio.gather(runner.run(), feed())

    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    finally:
        loguru_logger.remove(sink)
    return seen, warnings


def test_pipecat_pipeline_finalizes_at_its_vad_pauses(live_server: LiveServer, jfk_flac: bytes) -> None:
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.frames.frames import InterimTranscriptionFrame, TranscriptionFrame, VADUserStoppedSpeakingFrame
    from pipecat.processors.audio.vad_processor import VADProcessor
    from pipecat.services.deepgram.stt import DeepgramSTTService

    def done(seen: list[Any]) -> bool:  # the last phrase's final came
        said = words_of(" ".join(frame.text for frame in seen if isinstance(frame, TranscriptionFrame)))
        return said[-2:] == ["your", "country"] and said.count("country") >= 2

    seen, warnings = run_pipecat(
        [
            VADProcessor(vad_analyzer=SileroVADAnalyzer(sample_rate=RATE)),
            DeepgramSTTService(api_key=API_KEY, base_url=live_server.base_url, sample_rate=RATE),
        ],
        linear16(jfk_flac) + pause(2.0),
        (TranscriptionFrame, InterimTranscriptionFrame, VADUserStoppedSpeakingFrame),
        done,
    )
    stops = [frame for frame in seen if isinstance(frame, VADUserStoppedSpeakingFrame)]
    finals = [frame for frame in seen if isinstance(frame, TranscriptionFrame)]
    assert len(stops) >= 2, "JFK pauses between phrases: Pipecat's VAD sent Finalize at each"
    assert any(frame.finalized for frame in finals), "a final answered a Finalize (from_finalize)"
    assert wer(JFK_TEXT, " ".join(frame.text for frame in finals)) <= 0.15
    assert not [w for w in warnings if "deepgram" in w.lower() or "DeepgramSTT" in w], warnings
