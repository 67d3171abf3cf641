"""The Flux session, scripted: synthetic speech, a recognizer that knows the words' times, an end-of-turn
model that answers as the test says; exact turn events out, fed whole and in small pieces."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from openlisten.engine.vad import EnergyDetector
from openlisten.errors import InvalidParameter
from openlisten.live.events import CancelRequest, Close, CloseStream, ConfigureFailure, DecodeRequest, Expedite
from openlisten.live.flux import (
    EndOfTurnRequest,
    FatalError,
    FluxConfigure,
    FluxConfigureSuccess,
    FluxSession,
    FluxWarning,
    ForceEndTurn,
)
from openlisten.live.flux_options import FluxOptions, LanguageHints
from openlisten.live.turns import TurnEvent, TurnThresholds
from tests.live.helpers import RATE, Timeline, pcm16, silence, tone

#: Two turns: 0.5–2.9 s, then 4.5–5.7 s; a 1.6 s pause and a 2.3 s one after.
AUDIO = pcm16(silence(0.5), tone(2.4), silence(1.6), tone(1.2), silence(2.3))
SPANS = [(0.5, 2.9), (4.5, 5.7)]


def flux(query: str = "", languages: LanguageHints | None = None) -> FluxSession:
    from urllib.parse import parse_qsl

    base = [("model", "flux-general-en"), ("encoding", "linear16"), ("sample_rate", "16000")]
    options = FluxOptions.from_query(base + parse_qsl(query))
    return FluxSession(options.live, options.thresholds, languages=languages, detector_factory=EnergyDetector)


class FluxScript:
    """Feeds a Flux session; answers decodes with `Timeline` and each end-of-turn request with `judge`."""

    def __init__(self, session: FluxSession, judge: Callable[[EndOfTurnRequest], float]) -> None:
        self.session = session
        self.recognizer = Timeline(SPANS)
        self.judge = judge
        self.events: list[object] = []
        self.judged: list[EndOfTurnRequest] = []
        self.outstanding: dict[int, object] = {}
        session.advance(0.0)

    def feed(self, data: bytes, piece_bytes: int = 3200) -> FluxScript:
        """Audio in pieces, the model answering after each (as if it kept up)."""
        for offset in range(0, len(data), piece_bytes):
            self.session.feed_audio(data[offset : offset + piece_bytes])
            self._collect()
            self.answer()
        return self

    def control(self, control: object) -> FluxScript:
        self.session.feed_control(control)  # type: ignore[arg-type]
        self._collect()
        return self.answer()

    def answer(self) -> FluxScript:
        while self.outstanding:
            request_id = max(self.outstanding) if min(self.outstanding) < 0 else min(self.outstanding)
            request = self.outstanding.pop(request_id)
            if isinstance(request, EndOfTurnRequest):
                self.judged.append(request)
                self.session.deliver(request_id, self.judge(request))
            else:
                assert isinstance(request, DecodeRequest)
                self.session.deliver(request_id, self.recognizer.answer(request))
            self._collect()
        return self

    def turns(self, updates: bool = True) -> list[tuple[object, ...]]:
        return [
            (e.event, e.turn_index, e.transcript, e.trigger)
            for e in self.events
            if isinstance(e, TurnEvent) and (updates or e.event != "Update")
        ]

    def _collect(self) -> None:
        for event in self.session.events():
            if isinstance(event, DecodeRequest | EndOfTurnRequest):
                self.outstanding[event.request_id] = event
            elif isinstance(event, CancelRequest):
                self.outstanding.pop(event.request_id, None)
            elif not isinstance(event, Expedite):
                self.events.append(event)


def test_two_turns_each_ended_by_the_model_at_its_pause() -> None:
    script = FluxScript(flux(), judge=lambda request: 0.9).feed(AUDIO)
    assert script.turns(updates=False) == [
        ("StartOfTurn", 0, "W0 w1 w2", None),
        ("EndOfTurn", 0, "W0 w1 w2 w3 w4 w5 w6 w7", "model"),  # judged sure 0.3 s into the pause, ended at 0.6 s
        ("StartOfTurn", 1, "w8 w9 w10", None),
        ("EndOfTurn", 1, "w8 w9 w10 w11", "model"),
    ]
    # Between them, an Update at least every 0.25 s of audio, with the transcript so far.
    infos = [e for e in script.events if isinstance(e, TurnEvent)]
    for before, after in zip(infos, infos[1:], strict=False):
        if before.event != "EndOfTurn":
            assert after.audio_window_end - before.audio_window_end <= 0.25 + 0.1 + 1e-9, (before, after)
    texts = [e.transcript for e in infos if e.turn_index == 0]
    assert "W0 w1 w2 w3 w4 w5" in texts  # the interim heard while the speaker talked
    # The model heard each turn's own audio (from just before its first word) up to just after its last.
    assert [round(len(r.audio) / RATE, 1) for r in script.judged] == [2.9, 1.7]
    end = next(e for e in infos if e.event == "EndOfTurn")
    assert end.audio_window_start == 0.5 and end.end_of_turn_confidence >= 0.9


@pytest.mark.parametrize("piece_bytes", [640, 2, 3333])
def test_same_turns_whole_or_in_pieces(piece_bytes: int) -> None:
    # The turns do not depend on how the audio is cut (the Updates between them come per message).
    whole = FluxScript(flux(), judge=lambda request: 0.9).feed(AUDIO).turns(updates=False)
    assert FluxScript(flux(), judge=lambda request: 0.9).feed(AUDIO, piece_bytes).turns(updates=False) == whole


def test_a_pause_the_model_hears_as_unfinished_needs_more_silence() -> None:
    script = FluxScript(flux(), judge=lambda request: 0.0).feed(AUDIO)
    events = script.turns()
    # 1.6 s of silence after an unfinished phrase is not enough (1.8 s is): one turn holds both stretches.
    assert [e for e in events if e[0] != "Update"] == [
        ("StartOfTurn", 0, "W0 w1 w2", None),
        ("EndOfTurn", 0, "W0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11", "model"),
    ]


def test_eot_timeout_ms_ends_what_the_confidence_does_not() -> None:
    script = FluxScript(flux("eot_threshold=1.0&eot_timeout_ms=2000"), judge=lambda request: 0.0).feed(AUDIO)
    assert [e[0::3] for e in script.turns() if e[0] != "Update"] == [("StartOfTurn", None), ("EndOfTurn", "timeout")]


def test_eager_end_of_turn_then_turn_resumed() -> None:
    script = FluxScript(flux("eager_eot_threshold=0.4&eot_threshold=0.9"), judge=lambda request: 0.45).feed(AUDIO)
    kinds = [e[0] for e in script.turns() if e[0] != "Update"]
    assert kinds == ["StartOfTurn", "EagerEndOfTurn", "TurnResumed", "EagerEndOfTurn"]
    script.control(CloseStream())
    assert script.turns()[-1][0] == "EndOfTurn" and isinstance(script.events[-1], Close)


def test_force_end_turn_waits_for_the_words_then_ends_the_turn() -> None:
    script = FluxScript(flux("eot_threshold=1.0"), judge=lambda request: 0.99)
    script.feed(pcm16(silence(0.5), tone(1.5)))  # still speaking
    script.control(ForceEndTurn())
    events = script.turns()
    assert events[-1] == ("EndOfTurn", 0, "W0 w1 w2 w3 w4", "manual")
    script.control(ForceEndTurn())  # between turns: nothing
    assert script.turns() == events


def test_configure_changes_thresholds_and_keyterms_and_refuses_bad_values() -> None:
    script = FluxScript(flux(), judge=lambda request: 0.6)
    script.control(FluxConfigure({"eot_threshold": 0.5, "eot_timeout_ms": 1000}))
    script.control(FluxConfigure({"eager_eot_threshold": 0.8}))  # above eot_threshold
    script.control(FluxConfigure({}, keyterms=("OpenListen",), numerals=True))
    success, failure, keyterms = script.events
    assert isinstance(success, FluxConfigureSuccess) and success.thresholds == TurnThresholds(0.5, None, 1000)
    assert isinstance(failure, ConfigureFailure) and "eager_eot_threshold" in failure.description
    assert isinstance(keyterms, FluxConfigureSuccess) and (keyterms.keyterms, keyterms.numerals) == (
        ("OpenListen",),
        True,
    )
    script.feed(AUDIO)
    assert [e[3] for e in script.turns() if e[0] == "EndOfTurn"] == ["model", "model"]  # 0.6 ≥ 0.5 now


def test_unknown_text_is_a_warning_and_bad_audio_a_fatal_error() -> None:
    script = FluxScript(flux(), judge=lambda request: 0.9)
    script.session.feed_invalid("{}", "could not parse the client message")
    script.session.feed_audio(b"\x00")  # half a sample is fine…
    script._collect()
    assert isinstance(script.events[0], FluxWarning)
    bad = flux("encoding=opus")
    bad.feed_audio(b"not opus at all" * 100)
    events = bad.events()
    assert isinstance(events[0], FatalError) and events[0].code == "DATA-0000"
    assert isinstance(events[1], Close) and events[1].code == 1008


def test_the_close_is_the_last_event_even_with_turn_updates_pending() -> None:
    """Found by the fuzz: words heard just before an idle close came out as an Update after the Close."""
    session = flux()
    session.advance(0.0)
    session.feed_audio(pcm16(tone(1.5)))
    requests = [e for e in session.events() if isinstance(e, DecodeRequest)]
    assert requests
    session.deliver(requests[0].request_id, Timeline([(0.0, 1.5)]).answer(requests[0]))  # the turn's words…
    session.advance(1.0)
    session.advance(60.0)  # …then nothing from the client: idle close
    events = session.events()
    closes = [i for i, e in enumerate(events) if isinstance(e, Close)]
    assert closes == [len(events) - 1] and events[-1].code == 1011  # type: ignore[attr-defined]
    assert any(isinstance(e, TurnEvent) for e in events[: closes[0]])
    session.deliver(requests[0].request_id, Timeline([(0.0, 1.5)]).answer(requests[0]))
    assert session.events() == []


@pytest.mark.parametrize(
    "query",
    [
        "eot_threshold=0.3",
        "eot_threshold=x",
        "eager_eot_threshold=0.8&eot_threshold=0.6",
        "eot_timeout_ms=100",
        "encoding=linear16",  # no sample rate
        "language_hint=english",
        "language_hint=es",  # flux-general-en
    ],
)
def test_bad_parameters_are_refused_at_the_handshake(query: str) -> None:
    from urllib.parse import parse_qsl

    with pytest.raises(InvalidParameter):
        FluxOptions.from_query([("model", "flux-general-en"), *parse_qsl(query)])


def test_language_hints_are_codes_each_once_in_order() -> None:
    query = [
        ("model", "flux-general-multi"),
        ("language_hint", "ES"),
        ("language_hint", "pt-BR"),
        ("language_hint", "es"),
    ]
    assert FluxOptions.from_query(query).language_hints == ("es", "pt-br")
    assert FluxOptions.from_query([("model", "flux-general-en"), ("language_hint", "en")]).language_hints == ("en",)
    with pytest.raises(InvalidParameter, match="English-only"):
        LanguageHints(english_only=True, multi=True).checked(["en", "es"])
    assert LanguageHints(english_only=False, multi=True).checked(["en", "es"]) == ("en", "es")
    with pytest.raises(InvalidParameter, match="Whisper knows"):
        LanguageHints(english_only=False, multi=True).checked(["xx"])


def test_a_multilingual_stream_decodes_in_its_first_hint_and_says_so_in_every_turn() -> None:
    languages = LanguageHints(hints=("es", "en"), english_only=False, multi=True)
    script = FluxScript(flux(languages=languages), judge=lambda request: 0.9)
    script.session.feed_audio(pcm16(tone(2.5)))
    decodes = [e for e in script.session.events() if isinstance(e, DecodeRequest)]
    assert decodes and {d.item.language for d in decodes} == {"es"}
    script.feed(AUDIO)
    turns = [e for e in script.events if isinstance(e, TurnEvent)]
    assert turns and all(t.languages == ("es",) and t.languages_hinted == ("es", "en") for t in turns)


def test_configure_changes_language_hints_and_refuses_what_the_model_cannot_hear() -> None:
    english = FluxScript(flux(languages=LanguageHints(multi=True)), judge=lambda request: 0.9)
    english.control(FluxConfigure(language_hints=("fr",)))
    english.control(FluxConfigure(language_hints=("EN",)))
    english.control(FluxConfigure(language_hints=("not a code",)))
    refused, accepted, malformed = english.events
    assert isinstance(refused, ConfigureFailure) and refused.code == "INVALID_LANGUAGE_HINTS"
    assert isinstance(accepted, FluxConfigureSuccess) and accepted.language_hints == ("en",)
    assert isinstance(malformed, ConfigureFailure) and "language code" in malformed.description

    multilingual = FluxScript(flux(languages=LanguageHints(english_only=False, multi=True)), judge=lambda r: 0.9)
    multilingual.control(FluxConfigure({}, keyterms=("Zaragoza",), language_hints=("es",)))
    success = multilingual.events[-1]
    assert isinstance(success, FluxConfigureSuccess) and success.language_hints == ("es",)
    multilingual.session.feed_audio(pcm16(tone(2.5)))
    decodes = [e for e in multilingual.session.events() if isinstance(e, DecodeRequest)]
    assert decodes and {d.item.language for d in decodes} == {"es"}


def test_flux_general_en_reports_no_languages() -> None:
    script = FluxScript(flux(), judge=lambda request: 0.9).feed(AUDIO)
    turns = [e for e in script.events if isinstance(e, TurnEvent)]
    assert turns and all(t.languages is None and t.languages_hinted is None for t in turns)
    script.control(FluxConfigure({"eot_threshold": 0.8}))
    assert isinstance(script.events[-1], FluxConfigureSuccess) and script.events[-1].language_hints is None


def test_audio_for_the_model_is_bounded() -> None:
    script = FluxScript(flux(), judge=lambda request: 0.0)
    script.feed(pcm16(tone(30.0), silence(1.0)), piece_bytes=32000)
    assert all(len(r.audio) <= 10 * RATE for r in script.judged)
    assert np.isfinite(sum(float(np.abs(r.audio).sum()) for r in script.judged))
