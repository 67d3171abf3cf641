"""Any client bytes, text and timing give events, or a close with a Deepgram code; never an exception (v1
sessions and Flux sessions alike)."""

from __future__ import annotations

import contextlib

import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openlisten.engine.packed_decoder import DecodeResult
from openlisten.engine.types import Word
from openlisten.engine.vad import EnergyDetector
from openlisten.live.events import (
    Close,
    CloseStream,
    Configure,
    DecodeRequest,
    Finalize,
    KeepAlive,
)
from openlisten.live.flux import EndOfTurnRequest, FluxConfigure, FluxSession, ForceEndTurn
from openlisten.live.flux_options import FluxOptions
from openlisten.live.options import LiveOptions
from openlisten.live.session import LiveSession
from openlisten.live.turns import TurnEvent
from openlisten.wire.flux import FLUX_CLIENT_MESSAGE
from openlisten.wire.live import CLIENT_MESSAGE
from tests.live.helpers import pcm16, silence, tone

CONTROLS = st.sampled_from(
    [KeepAlive(), Finalize(), Finalize(channel=0), Finalize(channel=3), CloseStream(), Configure(keyterms=("a",))]
)
AUDIO = st.one_of(
    st.binary(max_size=3000),
    st.sampled_from([pcm16(tone(0.7)), pcm16(silence(0.4)), pcm16(tone(0.3), silence(0.4)), b"RIFF", b"OggS"]),
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("audio"), AUDIO),
        st.tuples(st.just("control"), CONTROLS),
        st.tuples(st.just("text"), st.text(max_size=50)),
        st.tuples(st.just("time"), st.floats(min_value=0, max_value=30)),
        st.tuples(st.just("answer"), st.lists(st.floats(min_value=-1, max_value=5), max_size=4)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.sampled_from(
        [
            [("encoding", "linear16"), ("sample_rate", "16000"), ("interim_results", "true")],
            [("encoding", "mulaw"), ("sample_rate", "8000"), ("channels", "2"), ("multichannel", "true")],
            [("vad_events", "true"), ("utterance_end_ms", "1000")],
        ]
    ),
    steps=STEPS,
)
def test_sessions_never_raise(query: list[tuple[str, str]], steps: list[tuple[str, object]]) -> None:
    session = LiveSession(LiveOptions.from_query(query), detector_factory=EnergyDetector)
    now = 0.0
    session.advance(now)
    pending: list[DecodeRequest] = []
    closes: list[Close] = []
    for kind, value in steps:
        if kind == "audio":
            session.feed_audio(value)  # type: ignore[arg-type]
        elif kind == "control":
            session.feed_control(value)  # type: ignore[arg-type]
        elif kind == "text":
            session.feed_invalid(str(value), "fuzz")
        elif kind == "time":
            now += float(value)  # type: ignore[arg-type]
            session.advance(now)
        else:
            times = value  # type: ignore[assignment]
            for request in pending:
                words = tuple(Word(f"w{i}", t, t + 0.2, 0.9) for i, t in enumerate(times))  # type: ignore[arg-type]
                session.deliver(request.request_id, DecodeResult(words))
            pending = []
        for event in session.events():
            if isinstance(event, DecodeRequest):
                pending.append(event)
            elif isinstance(event, Close):
                closes.append(event)
    assert len(closes) <= 1
    assert all(close.code in (1000, 1008, 1011) and len(close.reason.encode()) <= 123 for close in closes)


@given(st.text(max_size=200))
def test_client_text_parses_or_fails_validation(text: str) -> None:
    with contextlib.suppress(pydantic.ValidationError):
        CLIENT_MESSAGE.validate_json(text)


FLUX_CONTROLS = st.sampled_from(
    [
        KeepAlive(),
        CloseStream(),
        ForceEndTurn(),
        FluxConfigure({"eot_threshold": 0.8}),
        FluxConfigure({"eot_threshold": 0.1}),  # out of range
        FluxConfigure({"eager_eot_threshold": 0.5}, keyterms=("a",), numerals=True),
    ]
)
FLUX_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("audio"), AUDIO),
        st.tuples(st.just("control"), FLUX_CONTROLS),
        st.tuples(st.just("text"), st.text(max_size=50)),
        st.tuples(st.just("time"), st.floats(min_value=0, max_value=30)),
        st.tuples(st.just("answer"), st.lists(st.floats(min_value=-1, max_value=5), max_size=4)),
        st.tuples(st.just("judge"), st.floats(min_value=0, max_value=1)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=FLUX_STEPS)
def test_flux_sessions_never_raise_and_turns_alternate(steps: list[tuple[str, object]]) -> None:
    """Any bytes, controls, text, timing and model answers: no exception, at most one close with a Deepgram
    code, and turns that alternate strictly (StartOfTurn … EndOfTurn)."""
    options = FluxOptions.from_query([("model", "flux-general-en"), ("encoding", "linear16"), ("sample_rate", "16000")])
    session = FluxSession(options.live, options.thresholds, detector_factory=EnergyDetector)
    now = 0.0
    session.advance(now)
    decodes: list[DecodeRequest] = []
    judgements: list[EndOfTurnRequest] = []
    said: list[object] = []
    for kind, value in steps:
        if kind == "audio":
            session.feed_audio(value)  # type: ignore[arg-type]
        elif kind == "control":
            session.feed_control(value)  # type: ignore[arg-type]
        elif kind == "text":
            session.feed_invalid(str(value), "fuzz")
        elif kind == "time":
            now += float(value)  # type: ignore[arg-type]
            session.advance(now)
        elif kind == "judge":
            for request in judgements:
                session.deliver(request.request_id, float(value))  # type: ignore[arg-type]
            judgements = []
        else:
            for request in decodes:
                times = value  # type: ignore[assignment]
                words = tuple(Word(f"w{i}", t, t + 0.2, 0.9) for i, t in enumerate(times))  # type: ignore[arg-type]
                session.deliver(request.request_id, DecodeResult(words))
            decodes = []
        for event in session.events():
            if isinstance(event, DecodeRequest):
                decodes.append(event)
            elif isinstance(event, EndOfTurnRequest):
                assert event.audio.size <= 10 * 16000
                judgements.append(event)
            else:
                said.append(event)
    closes = [event for event in said if isinstance(event, Close)]
    assert len(closes) <= 1 and (not closes or said[-1] is closes[0])
    assert all(close.code in (1000, 1008, 1011) and len(close.reason.encode()) <= 123 for close in closes)
    open_turn = False
    for event in said:
        if isinstance(event, TurnEvent):
            assert event.event != "StartOfTurn" or not open_turn
            assert event.event == "StartOfTurn" or open_turn
            open_turn = event.event != "EndOfTurn"


@given(st.text(max_size=200))
def test_flux_client_text_parses_or_fails_validation(text: str) -> None:
    with contextlib.suppress(pydantic.ValidationError):
        FLUX_CLIENT_MESSAGE.validate_json(text)
