"""WebSocket ``/v2/listen`` (Flux) through the official SDK (sync and async) and LiveKit's and Pipecat's Flux
clients, against a real server, the real recognizer and the real end-of-turn model."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets
from deepgram import DeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.core.events import EventType
from deepgram.listen.v2.types import (
    ListenV2ConfigureFailure,
    ListenV2ConfigureSuccess,
    ListenV2Connected,
    ListenV2FatalError,
    ListenV2TurnInfo,
)

from openlisten.api.app import create_app
from openlisten.config import Settings
from openlisten.live.service import LiveService
from tests.conftest import EVAL, JFK_TEXT
from tests.e2e.conftest import API_KEY, LiveServer, async_sdk_client, serve_in_thread
from tests.e2e.test_live import RATE, linear16, pause, wer
from tests.e2e.test_live_clients import run_pipecat

pytestmark = pytest.mark.e2e

LJ_WAV = EVAL / "data" / "ljspeech" / "LJ001-0001.wav"
LJ_TEXT = (
    "printing in the only sense with which we are at present concerned differs from most if not from all the arts"
    " and crafts represented in the exhibition"
)
FLUX = {"model": "flux-general-en", "encoding": "linear16", "sample_rate": str(RATE)}


def turn_infos(messages: list[Any]) -> list[ListenV2TurnInfo]:
    return [m for m in messages if isinstance(m, ListenV2TurnInfo)]


def assert_well_formed(messages: list[Any]) -> None:
    """Connected first; sequence ids 0, 1, 2, …; turns alternate strictly; an EndOfTurn repeats the transcript
    of the EagerEndOfTurn before it when no TurnResumed came between."""
    assert isinstance(messages[0], ListenV2Connected)
    assert [m.sequence_id for m in messages] == list(range(len(messages)))
    open_turn: int | None = None
    next_turn = 0
    eager: str | None = None
    for info in turn_infos(messages):
        if info.event == "StartOfTurn":
            assert open_turn is None and info.turn_index == next_turn and info.transcript
            open_turn = info.turn_index
        else:
            assert info.turn_index == open_turn, info
        if info.event == "EagerEndOfTurn":
            eager = info.transcript
        elif info.event == "TurnResumed":
            eager = None
        elif info.event == "EndOfTurn":
            assert info.trigger in ("model", "timeout", "manual")
            if eager is not None:
                assert info.transcript == eager
            open_turn, eager = None, None
            next_turn += 1
        else:
            assert info.trigger is None
        assert [w.word for w in info.words] == info.transcript.split()
    assert open_turn is None, "a turn was left open"


def stream_flux_sync(client: DeepgramClient, pcm: bytes, *, speed: float = 2.0, **params: str) -> list[Any]:
    """Stream `pcm` in 80 ms chunks at `speed` × real time, then CloseStream; every message until the close."""
    messages: list[Any] = []
    closed = threading.Event()
    with client.listen.v2.connect(**(FLUX | params)) as conn:  # type: ignore[arg-type]
        conn.on(EventType.MESSAGE, messages.append)
        conn.on(EventType.CLOSE, lambda _: closed.set())
        threading.Thread(target=conn.start_listening, daemon=True).start()
        step = int(RATE * 0.08) * 2
        started = time.monotonic()
        for k, offset in enumerate(range(0, len(pcm), step)):
            time.sleep(max(0.0, started + k * 0.08 / speed - time.monotonic()))
            conn.send_media(pcm[offset : offset + step])
        conn.send_close_stream()
        assert closed.wait(60), "the server did not close the stream"
    return messages


def test_sync_turns_of_real_speech_end_by_the_model(client: DeepgramClient, jfk_flac: bytes) -> None:
    messages = stream_flux_sync(client, linear16(jfk_flac) + pause(2.0), eager_eot_threshold="0.5")
    assert_well_formed(messages)
    ends = [m for m in turn_infos(messages) if m.event == "EndOfTurn"]
    assert ends and ends[-1].trigger == "model"  # JFK ends his sentence: the model hears it, no timer needed
    assert ends[-1].end_of_turn_confidence >= 0.7
    assert wer(JFK_TEXT, " ".join(end.transcript for end in ends)) <= 0.15
    assert any(m.event == "Update" for m in turn_infos(messages))


def test_async_force_end_turn_and_configure(live_server: LiveServer) -> None:
    async def main() -> list[Any]:
        messages: list[Any] = []
        async with (
            async_sdk_client(live_server) as client,
            client.listen.v2.connect(**(FLUX | {"eot_threshold": "0.9"})) as conn,  # type: ignore[arg-type]
        ):
            conn.on(EventType.MESSAGE, messages.append)
            listener = asyncio.create_task(conn.start_listening())
            await conn.send_configure({"type": "Configure", "thresholds": {"eot_threshold": 0.3}})  # out of range
            await conn.send_configure(
                {"type": "Configure", "thresholds": {"eot_timeout_ms": 8000}, "keyterms": ["table"]}
            )
            pcm = linear16(LJ_WAV.read_bytes())
            for offset in range(0, len(pcm), 2560):
                await conn.send_media(pcm[offset : offset + 2560])
                await asyncio.sleep(0.02)
            await conn.send_media(pause(1.0))
            await asyncio.sleep(2.0)  # the words of the turn are final by now, or ForceEndTurn waits for them
            await conn.send_force_end_turn()
            for _ in range(100):
                if any(m.event == "EndOfTurn" for m in turn_infos(messages)):
                    break
                await asyncio.sleep(0.1)
            await conn.send_close_stream()
            await asyncio.wait_for(listener, 30)
        return messages

    messages = asyncio.run(asyncio.wait_for(main(), 120))
    assert_well_formed(messages)
    failure, success = messages[1], messages[2]
    assert isinstance(failure, ListenV2ConfigureFailure) and "eot_threshold" in (failure.description or "")
    assert isinstance(success, ListenV2ConfigureSuccess)
    assert success.thresholds.eot_timeout_ms == 8000 and success.thresholds.eot_threshold == 0.9
    assert list(success.keyterms or []) == ["table"]
    [end] = [m for m in turn_infos(messages) if m.event == "EndOfTurn"]
    assert end.trigger == "manual"  # a reader's flat ending is far from 0.9 (Smart Turn: 0.24): ForceEndTurn ends it
    assert wer(LJ_TEXT, end.transcript) <= 0.2


def test_a_hesitation_gets_an_eager_end_then_turn_resumed(client: DeepgramClient) -> None:
    """A reader pausing two and a half seconds mid-sentence ("…at present concerned | differs from most…"): with
    only the client ending turns (eot_threshold=1.0) and the lowest eager threshold, the agent gets
    EagerEndOfTurn in the pause, TurnResumed when the reader goes on, and one turn for the whole sentence."""
    pcm = linear16(LJ_WAV.read_bytes())
    cut = int(4.43 * RATE) * 2  # in the pause between "concerned" and "differs"
    hesitating = pcm[:cut] + pause(2.0) + pcm[cut:] + pause(1.0)
    # Real time: the pause's words are final about a second into it (2 CPU cores), well inside it.
    messages = stream_flux_sync(client, hesitating, speed=1.0, eager_eot_threshold="0.3", eot_threshold="1.0")
    assert_well_formed(messages)
    events = [m.event for m in turn_infos(messages) if m.event != "Update"]
    assert events[:3] == ["StartOfTurn", "EagerEndOfTurn", "TurnResumed"], [
        (m.event, m.transcript, m.end_of_turn_confidence, m.trigger) for m in turn_infos(messages)
    ]
    ends = [m for m in turn_infos(messages) if m.event == "EndOfTurn"]
    assert len(ends) == 1 and ends[0].trigger == "manual"  # CloseStream ended it
    assert wer(LJ_TEXT, ends[0].transcript) <= 0.2


def test_flux_general_multi_says_which_language_it_heard(client: DeepgramClient) -> None:
    pcm = linear16(LJ_WAV.read_bytes()) + pause(2.0)
    messages = stream_flux_sync(client, pcm, speed=4.0, model="flux-general-multi", language_hint="en")
    assert_well_formed(messages)
    turns = turn_infos(messages)
    assert turns and all(t.languages == ["en"] and t.languages_hinted == ["en"] for t in turns)
    assert wer(LJ_TEXT, " ".join(t.transcript for t in turns if t.event == "EndOfTurn")) <= 0.2


def test_bad_parameters_are_400_bad_keys_401_and_bad_audio_an_error(
    live_server: LiveServer, sdk_client: Callable[..., DeepgramClient]
) -> None:
    client = sdk_client()
    for params in (
        {"eot_threshold": "0.2"},
        {"model": "nova-3"},
        {"encoding": "linear16", "sample_rate": None},
        {"model": "flux-general-multi", "language_hint": "es"},  # the server's model is English-only
    ):
        query = {k: v for k, v in (FLUX | params).items() if v is not None}
        with pytest.raises(websockets.exceptions.InvalidStatus) as caught, client.listen.v2.connect(**query):  # type: ignore[arg-type]
            pass
        assert caught.value.response.status_code == 400, params
    with (
        pytest.raises(websockets.exceptions.InvalidStatus) as caught,
        sdk_client(api_key="wrong").listen.v2.connect(**FLUX),
    ):  # type: ignore[arg-type]
        pass
    assert caught.value.response.status_code == 401

    async def async_refusal() -> int:
        async with async_sdk_client(live_server, api_key="wrong") as async_client:
            try:
                async with async_client.listen.v2.connect(**FLUX):  # type: ignore[arg-type]
                    pass
            except ApiError as error:
                return int(error.status_code or 0)
        return 0

    assert asyncio.run(async_refusal()) == 401

    messages: list[Any] = []
    with client.listen.v2.connect(model="flux-general-en", encoding="opus", sample_rate=str(RATE)) as conn:  # type: ignore[arg-type]
        conn.send_media(b"This is a text file, not audio. " * 100)
        with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
            for message in conn:
                messages.append(message)
    assert isinstance(messages[-1], ListenV2FatalError) and messages[-1].code == "DATA-0000"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


@pytest.fixture(scope="module")
def idle_server() -> Iterator[LiveServer]:
    settings = Settings(api_keys=[API_KEY])
    app = create_app(settings)
    app.state.live = LiveService(app.state.services.engine, idle_timeout_s=1.5)
    server, stop = serve_in_thread(settings, app)
    yield server
    stop()


def test_idle_streams_close_1011(idle_server: LiveServer, sdk_client: Callable[..., DeepgramClient]) -> None:
    messages: list[Any] = []
    connection = sdk_client(server=idle_server).listen.v2.connect(**FLUX)  # type: ignore[arg-type]
    with connection as conn, pytest.raises(websockets.exceptions.ConnectionClosedError) as caught:
        for message in conn:
            messages.append(message)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1011
    assert isinstance(messages[-1], ListenV2FatalError) and messages[-1].code == "NET-0001"


def test_livekit_flux_plugin(live_server: LiveServer, jfk_flac: bytes, caplog: pytest.LogCaptureFixture) -> None:
    import aiohttp
    from livekit import rtc
    from livekit.agents import stt
    from livekit.plugins import deepgram

    pcm = linear16(jfk_flac) + pause(2.0)
    frame_bytes = RATE // 50 * 2

    async def main() -> list[Any]:
        async with aiohttp.ClientSession() as http:
            recognizer = deepgram.STTv2(
                api_key=API_KEY, base_url=f"{live_server.ws_url}/v2/listen", http_session=http, sample_rate=RATE
            )
            stream = recognizer.stream()

            async def feed() -> None:
                for offset in range(0, len(pcm), frame_bytes):
                    frame = pcm[offset : offset + frame_bytes]
                    samples = len(frame) // 2
                    stream.push_frame(
                        rtc.AudioFrame(data=frame, sample_rate=RATE, num_channels=1, samples_per_channel=samples)
                    )
                    await asyncio.sleep(samples / RATE / 2)
                stream.end_input()

            feeder = asyncio.create_task(feed())
            events = [event async for event in stream]
            await feeder
            await stream.aclose()
            return events

    with caplog.at_level(logging.WARNING):
        events = asyncio.run(asyncio.wait_for(main(), 120))
    kinds = [event.type for event in events if event.type is not stt.SpeechEventType.RECOGNITION_USAGE]
    assert kinds[0] is stt.SpeechEventType.START_OF_SPEECH
    assert kinds[-1] is stt.SpeechEventType.END_OF_SPEECH
    # Every turn the plugin saw: START_OF_SPEECH, interims, one FINAL_TRANSCRIPT, END_OF_SPEECH.
    starts, ends = kinds.count(stt.SpeechEventType.START_OF_SPEECH), kinds.count(stt.SpeechEventType.END_OF_SPEECH)
    assert starts == ends == kinds.count(stt.SpeechEventType.FINAL_TRANSCRIPT)
    finals = [event.alternatives[0] for event in events if event.type is stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert finals and wer(JFK_TEXT, " ".join(final.text for final in finals)) <= 0.15
    assert all(word.start_time <= word.end_time for final in finals for word in final.words)
    client_warnings = [r for r in caplog.records if r.name.startswith("livekit") and r.levelno >= logging.WARNING]
    assert not client_warnings, [r.getMessage() for r in client_warnings]


def test_pipecat_flux_service(live_server: LiveServer, jfk_flac: bytes) -> None:
    """Pipecat's `DeepgramFluxSTTService` (its own WebSocket client, ``url=``): a pipeline's transcription
    frames come from our turns (each turn's text at its EndOfTurn), and the client logs no warning."""
    from pipecat.frames.frames import TranscriptionFrame
    from pipecat.services.deepgram.flux.stt import DeepgramFluxSTTService

    def done(seen: list[Any]) -> bool:  # the last turn ended
        return " ".join(frame.text for frame in seen).lower().rstrip(".!? ").endswith("your country")

    service = DeepgramFluxSTTService(
        api_key=API_KEY,
        url=f"{live_server.ws_url}/v2/listen",
        sample_rate=RATE,
        settings=DeepgramFluxSTTService.Settings(model="flux-general-en"),
    )
    finals, warnings = run_pipecat([service], linear16(jfk_flac) + pause(2.0), (TranscriptionFrame,), done)
    assert finals and wer(JFK_TEXT, " ".join(frame.text for frame in finals)) <= 0.15
    assert not [w for w in warnings if "deepgram" in w.lower() or "flux" in w.lower()], warnings
