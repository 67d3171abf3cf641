"""The live session state machine, scripted: audio, controls, model answers and times in; exact events out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openlisten.engine.packed_decoder import DecodeResult
from openlisten.engine.types import Word
from openlisten.engine.vad import EnergyDetector
from openlisten.live import channel as channel_module
from openlisten.live import session as session_module
from openlisten.live.ahead import AHEAD_TAIL_S
from openlisten.live.events import (
    CancelRequest,
    Close,
    CloseStream,
    Configure,
    ConfigureFailure,
    ConfigureSuccess,
    DecodeRequest,
    Event,
    Finalize,
    InvalidMessage,
    KeepAlive,
    Metadata,
    Results,
    SpeechStarted,
    UtteranceEnd,
)
from openlisten.live.session import IDLE_REASON, LiveSession, SessionState
from tests.live.helpers import RATE, Script, Timeline, options, pcm16, run, session, silence, tone

QUERY = "interim_results=true&vad_events=true&utterance_end_ms=1000&endpointing=300"
#: Two utterances: 0.5–2.9 s and 4.2–5.4 s.
AUDIO = pcm16(silence(0.5), tone(2.4), silence(1.3), tone(1.2), silence(1.0))
SPANS = [(0.5, 2.9), (4.2, 5.4)]
ANSWER_EVERY = 3200  # the model answers every 100 ms of audio


def brief(events: list[Event]) -> list[tuple[object, ...]]:
    """Events as short tuples, to compare whole lists."""
    out: list[tuple[object, ...]] = []
    for event in events:
        if isinstance(event, Results):
            kind = "final" if event.is_final else "interim"
            flags = ("speech_final",) * event.speech_final + ("from_finalize",) * event.from_finalize
            out.append((kind, event.start_s, event.duration_s, event.transcript, *flags))
        elif isinstance(event, SpeechStarted):
            out.append(("SpeechStarted", event.timestamp_s))
        elif isinstance(event, UtteranceEnd):
            out.append(("UtteranceEnd", event.last_word_end_s))
        elif isinstance(event, Metadata):
            out.append(("Metadata", event.duration_s, event.channels))
        elif isinstance(event, Close):
            out.append(("Close", event.code, event.reason))
        else:
            out.append((type(event).__name__,))
    return out


def test_two_utterances_exact_events() -> None:
    events = run(QUERY, AUDIO, SPANS, answer_every=ANSWER_EVERY)
    assert brief(events) == [
        ("SpeechStarted", 0.48),
        ("interim", 0.0, 1.504, "w0 w1 w2"),
        ("interim", 0.0, 2.528, "w0 w1 w2 w3 w4 w5"),
        ("final", 0.0, 3.232, "w0 w1 w2 w3 w4 w5 w6 w7", "speech_final"),
        ("UtteranceEnd", 2.9),
        ("SpeechStarted", 4.192),
        ("interim", 3.232, 1.984, "w8 w9 w10"),
        ("final", 3.232, 2.496, "w8 w9 w10 w11", "speech_final"),
        ("UtteranceEnd", 5.4),
        ("final", 5.728, 0.672, ""),
        ("Metadata", 6.4, 1),
        ("Close", 1000, ""),
    ]
    words = [w for e in events if isinstance(e, Results) and e.is_final for w in e.words]
    assert [(w.word, w.start_s, w.end_s) for w in words[:2]] == [("w0", 0.5, 0.8), ("w1", 0.8, 1.1)]


@pytest.mark.parametrize("piece_bytes", [640, 2, 3333])
def test_same_events_whole_or_in_pieces(piece_bytes: int) -> None:
    whole = run(QUERY, AUDIO, SPANS, answer_every=ANSWER_EVERY)
    pieces = run(QUERY, AUDIO, SPANS, answer_every=ANSWER_EVERY, piece_bytes=piece_bytes)
    assert pieces == whole


def test_same_events_when_the_model_answers_only_at_the_end() -> None:
    whole = run(QUERY, AUDIO, SPANS)
    assert run(QUERY, AUDIO, SPANS, piece_bytes=640) == whole
    # Nothing came back while audio arrived: no interims, and every final in order, each span once.
    finals = [e for e in whole if isinstance(e, Results)]
    assert all(e.is_final for e in finals)
    assert [e.transcript for e in finals] == ["w0 w1 w2 w3 w4 w5 w6 w7", "w8 w9 w10 w11", ""]


def test_finals_tile_the_stream_and_times_only_grow() -> None:
    events = run(QUERY, AUDIO, SPANS, answer_every=ANSWER_EVERY)
    finals = [e for e in events if isinstance(e, Results) and e.is_final]
    assert finals[0].start_s == 0.0
    for before, after in zip(finals, finals[1:], strict=False):
        assert after.start_s == pytest.approx(before.start_s + before.duration_s)
    assert finals[-1].start_s + finals[-1].duration_s == pytest.approx(6.4)
    starts = [w.start_s for e in finals for w in e.words]
    assert starts == sorted(starts)
    for e in finals:
        assert all(e.start_s <= w.start_s <= w.end_s <= e.start_s + e.duration_s + 1e-9 for w in e.words)


def test_without_interim_results_every_results_is_final() -> None:
    events = run("endpointing=300", AUDIO, SPANS, answer_every=ANSWER_EVERY)
    assert brief(events) == [
        ("final", 0.0, 3.232, "w0 w1 w2 w3 w4 w5 w6 w7", "speech_final"),
        ("final", 3.232, 2.496, "w8 w9 w10 w11", "speech_final"),
        ("final", 5.728, 0.672, ""),
        ("Metadata", 6.4, 1),
        ("Close", 1000, ""),
    ]


def test_default_endpointing_ends_an_utterance_at_a_short_pause() -> None:
    audio = pcm16(tone(1.0), silence(0.4), tone(1.0), silence(0.5))
    events = run("", audio, [(0.0, 0.9), (1.4, 2.3)], answer_every=ANSWER_EVERY)
    assert [e.speech_final for e in events if isinstance(e, Results)] == [True, True, False]


def test_endpointing_false_gives_finals_without_speech_final() -> None:
    events = run("endpointing=false", AUDIO, SPANS, answer_every=ANSWER_EVERY)
    finals = [e for e in events if isinstance(e, Results)]
    assert [e.transcript for e in finals] == ["w0 w1 w2 w3 w4 w5 w6 w7", "w8 w9 w10 w11", ""]
    assert not any(e.speech_final for e in finals)


def test_a_long_utterance_becomes_final_while_the_speaker_talks() -> None:
    audio = pcm16(tone(9.0), silence(1.0))
    events = run("interim_results=true", audio, [(0.0, 9.0)], answer_every=ANSWER_EVERY)
    finals = [e for e in events if isinstance(e, Results) and e.is_final and e.transcript]
    assert len(finals) >= 2
    assert not finals[0].speech_final and finals[-1].speech_final
    said = " ".join(e.transcript for e in finals).split()
    assert said == [f"w{i}" for i in range(30)]  # every word exactly once, in order
    # Interims after a confirmed final start where it ended.
    confirmed = finals[0]
    later = [e for e in events if isinstance(e, Results) and e.start_s > confirmed.start_s]
    assert later[0].start_s == pytest.approx(confirmed.start_s + confirmed.duration_s)


def test_decodes_after_confirmed_words_start_near_them_not_at_the_utterance_start() -> None:
    """In continuous speech the confirmed words become context: later decodes do not carry the whole
    utterance again, so under load more of them share an encoder window."""
    script = Script(session("interim_results=true"), Timeline([(0.0, 16.0)]))
    for _ in range(160):
        script.feed(pcm16(tone(0.1))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert finals and not finals[0].speech_final
    confirmed_end = finals[0].start_s + finals[0].duration_s
    later = script.requests[-1]
    assert later.start_s >= confirmed_end - channel_module.CONTEXT_S - 1.0


def test_diarize_numbers_speakers_through_the_session() -> None:
    low, high = 300.0, 900.0  # two "voices" (`pitch_embedding` tells them apart)
    audio = pcm16(tone(1.5, low), silence(1.0), tone(1.5, high), silence(1.0), tone(1.5, low), silence(1.0))
    spans = [(0.0, 1.5), (2.5, 4.0), (5.0, 6.5)]
    events = run("diarize=true&endpointing=300", audio, spans, answer_every=ANSWER_EVERY)
    finals = [e for e in events if isinstance(e, Results) and e.words]
    assert [{w.speaker for w in e.words} for e in finals] == [{0}, {1}, {0}]


def test_diarized_finals_wait_for_their_speakers_and_stay_in_order() -> None:
    # A long utterance becomes final while the speaker talks: those finals wait for their speakers too,
    # and no interim overtakes them.
    audio = pcm16(tone(9.0, 300.0), silence(1.0), tone(2.0, 900.0), silence(1.0))
    events = run("interim_results=true&diarize=true", audio, [(0.0, 9.0), (10.0, 12.0)], answer_every=ANSWER_EVERY)
    results = [e for e in events if isinstance(e, Results)]
    finals = [e for e in results if e.is_final and e.words]
    assert len(finals) >= 3
    assert " ".join(e.transcript for e in finals).split() == [f"w{i}" for i in range(36)]
    assert [w.speaker for e in finals for w in e.words] == [0] * 30 + [1] * 6
    final_end, last_speaker = 0.0, 0
    for event in results:
        assert event.start_s >= final_end - 1e-9
        if event.is_final:
            final_end = event.start_s + event.duration_s
            last_speaker = event.words[-1].speaker if event.words else last_speaker
        else:
            assert {w.speaker for w in event.words} <= {last_speaker}  # interims: the speaker heard last


def test_finalize_flushes_speech_with_from_finalize() -> None:
    script = Script(session("interim_results=true"), Timeline([(0.0, 1.5)]))
    script.feed(pcm16(tone(1.5))).answer().control(Finalize()).answer()
    assert brief(script.said())[-1] == ("final", 0.0, 1.5, "w0 w1 w2 w3 w4", "from_finalize")
    assert script.session.state is SessionState.OPEN


def test_finalize_in_silence_sends_an_empty_final_and_with_nothing_buffered_an_empty_one_too() -> None:
    """Every Finalize is answered: with nothing buffered, by a final of no audio (Deepgram's answer when the
    words went out before it; Pipecat waits for it)."""
    script = Script(session(), Timeline([]))
    script.feed(pcm16(silence(1.0))).control(Finalize()).answer()
    assert brief(script.said()) == [("final", 0.0, 1.0, "", "from_finalize")]
    script.control(Finalize()).answer()
    assert brief(script.said())[1:] == [("final", 1.0, 0.0, "", "from_finalize")]


def test_finalize_just_as_an_endpoint_closed_the_audio_is_answered_after_that_endpoint_s_final() -> None:
    """A voice agent's VAD stops after about as much silence as our endpoint: the Finalize may come with no
    audio after the endpoint's final, still being decoded. Its answer follows that final (found by
    bench/live.py with ``--finalize-delay 0.2``: no answer came, and Pipecat waited for one)."""
    script = Script(session(), Timeline([(0.0, 1.5)]))
    endpoint = 57 * 512  # the end of the 10th silent VAD frame after the tone: 300 ms of silence
    script.feed(pcm16(tone(1.5), silence((endpoint - 24000) / 16000))).control(Finalize()).answer()
    assert brief(script.said()) == [
        ("final", 0.0, 1.824, "w0 w1 w2 w3 w4", "speech_final"),
        ("final", 1.824, 0.0, "", "from_finalize"),
    ]


def test_finalizes_with_no_audio_between_them_share_one_answer() -> None:
    """A client that sends only Finalize while a final is being decoded piles nothing up."""
    script = Script(session(), Timeline([(0.0, 1.5)]))
    script.feed(pcm16(tone(1.5))).control(Finalize())
    for _ in range(1000):
        script.control(Finalize())
    script.answer()
    assert brief(script.said()) == [("final", 0.0, 1.5, "w0 w1 w2 w3 w4", "from_finalize")]
    script.control(Finalize()).control(Finalize())  # nothing in line: each is answered at once
    assert brief(script.said())[1:] == [("final", 1.5, 0.0, "", "from_finalize")] * 2


def test_finalize_of_one_channel_only() -> None:
    script = Script(session("multichannel=true&channels=2"), Timeline([(0.0, 1.0)]))
    stereo = np.stack([tone(1.0), tone(1.0)], axis=1).reshape(-1)
    script.feed(pcm16(stereo)).control(Finalize(channel=1)).answer()
    results = [e for e in script.said() if isinstance(e, Results)]
    assert [(e.channel, e.channels, e.from_finalize) for e in results] == [(1, 2, True)]


def test_speech_goes_on_after_finalize() -> None:
    script = Script(session(), Timeline([(0.0, 1.2), (1.2, 2.4)], word_s=0.3))
    script.feed(pcm16(tone(1.2))).control(Finalize()).feed(pcm16(tone(1.2), silence(0.5))).answer()
    finals = [e for e in script.said() if isinstance(e, Results)]
    assert [(e.start_s, e.duration_s, e.from_finalize, e.speech_final) for e in finals] == [
        (0.0, 1.2, True, False),
        (1.2, 1.52, False, True),
    ]
    assert [e.transcript for e in finals] == ["w0 w1 w2 w3", "w4 w5 w6 w7"]


def test_close_stream_sends_the_last_finals_then_metadata_then_closes() -> None:
    script = Script(session(), Timeline([(0.0, 1.0)]))
    script.feed(pcm16(tone(1.0))).control(CloseStream())
    assert script.said() == []  # the final is being decoded
    script.answer()
    assert brief(script.said()) == [
        ("final", 0.0, 1.0, "w0 w1 w2"),
        ("Metadata", 1.0, 1),
        ("Close", 1000, ""),
    ]
    assert script.session.state is SessionState.CLOSED
    script.feed(pcm16(tone(1.0))).control(KeepAlive())
    assert len(script.said()) == 3  # nothing after the close


def test_an_empty_binary_frame_ends_the_stream() -> None:
    script = Script(session(), Timeline([]))
    script.feed(pcm16(silence(0.5))).feed(b"")
    assert brief(script.said()) == [("final", 0.0, 0.5, ""), ("Metadata", 0.5, 1), ("Close", 1000, "")]


def test_metadata_without_audio() -> None:
    script = Script(session(), Timeline([])).control(CloseStream())
    metadata = script.said()[0]
    assert metadata == Metadata("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0.0, 0)


def test_metadata_counts_the_decoded_channels_and_hashes_the_bytes() -> None:
    import hashlib

    stereo = pcm16(np.zeros(RATE * 2, dtype=np.float32))
    script = Script(session("channels=2"), Timeline([])).feed(stereo).control(CloseStream()).answer()
    metadata = [e for e in script.said() if isinstance(e, Metadata)][0]
    assert metadata == Metadata(hashlib.sha256(stereo).hexdigest(), 1.0, 2)


def test_idle_timeout_closes_with_net0001() -> None:
    script = Script(session(), Timeline([]))
    script.feed(pcm16(silence(0.1))).at(0.0).at(5.0).at(9.9)
    assert script.said() == []
    assert script.session.next_deadline() == 10.0
    script.at(10.0)
    assert script.said() == [Close(1011, IDLE_REASON)]
    assert len(IDLE_REASON.encode()) == 108


def test_any_frame_resets_the_idle_timer() -> None:
    script = Script(session(), Timeline([]))
    for second in range(1, 30, 4):
        script.at(float(second)).control(KeepAlive()).at(float(second))
    script.invalid("nope", "not JSON").at(33.0).at(42.9)
    assert [type(e) for e in script.said()] == [InvalidMessage]
    script.at(43.0)
    assert script.said()[-1] == Close(1011, IDLE_REASON)


def test_undecodable_audio_closes_1008() -> None:
    script = Script(LiveSession(options("").__class__(), detector_factory=EnergyDetector), Timeline([]))
    script.feed(b"this is not audio at all, just some text that goes on")
    (close,) = script.said()
    assert isinstance(close, Close) and close.code == 1008 and close.reason.startswith("DATA-0000: ")
    assert len(close.reason.encode()) <= 123


def test_a_container_where_raw_audio_was_declared_closes_1008() -> None:
    from tests.conftest import wav_bytes

    script = Script(session(), Timeline([]))
    script.feed(wav_bytes(np.zeros(1600, dtype=np.int16), RATE))
    assert brief(script.said())[0][:2] == ("Close", 1008)


def test_a_wav_stream_without_encoding() -> None:
    from tests.conftest import wav_bytes

    samples = (np.concatenate([tone(1.0), silence(0.5)]) * 32767).astype(np.int16)
    wav = wav_bytes(samples, RATE)
    script = Script(LiveSession(options("").__class__(), detector_factory=EnergyDetector), Timeline([(0.0, 0.9)]))
    script.feed(wav, piece_bytes=1000).answer().control(CloseStream()).answer()
    assert [e.transcript for e in script.said() if isinstance(e, Results)][0] == "w0 w1 w2"


def test_invalid_text_is_answered_and_the_stream_stays_open() -> None:
    script = Script(session(), Timeline([]))
    script.invalid('{"type": "Finalise"}', "unknown type")
    assert script.said() == [InvalidMessage("unknown type", '{"type": "Finalise"}')]
    assert script.session.state is SessionState.OPEN


def test_configure() -> None:
    script = Script(session("keyterm=Deepgram"), Timeline([(0.0, 1.0)]))
    script.control(Configure(keyterms=("OpenListen", "Whisper"), features={"punctuate": True}))
    script.control(Configure(features={"teleport": True}))
    assert script.said() == [
        ConfigureSuccess(("OpenListen", "Whisper")),
        ConfigureFailure(
            "CONFIGURE_INTERNAL_ERROR",
            "unknown feature(s): teleport; known: dictation, filler_words, numerals, profanity_filter, punctuate, "
            "smart_format",
        ),
    ]
    script.feed(pcm16(tone(1.0), silence(0.5)))
    assert script.requests[-1].item.hotwords == "OpenListen Whisper"


def test_keyterms_from_the_query_bias_the_decoder() -> None:
    script = Script(session("keyterm=Deepgram&keywords=OpenListen:2"), Timeline([(0.0, 1.0)]))
    script.feed(pcm16(tone(1.0), silence(0.5)))
    assert script.requests[0].item.hotwords == "Deepgram OpenListen"
    assert script.requests[0].item.final and script.requests[0].item.language == "en"


def test_multichannel_results_per_channel() -> None:
    left = np.concatenate([tone(1.0), silence(1.5)])
    right = np.concatenate([silence(1.2), tone(0.9), silence(0.4)])
    stereo = np.stack([left, right], axis=1).reshape(-1)
    script = Script(session("multichannel=true&channels=2&vad_events=true"), Timeline([(0.0, 1.0), (1.2, 2.1)]))
    script.feed(pcm16(stereo)).answer().control(CloseStream()).answer()
    results = [(e.channel, e.channels, e.transcript) for e in script.said() if isinstance(e, Results) and e.transcript]
    assert results == [(0, 2, "w0 w1 w2"), (1, 2, "w3 w4 w5")]
    started = [(e.channel, e.timestamp_s) for e in script.said() if isinstance(e, SpeechStarted)]
    assert started == [(0, 0.0), (1, 1.184)]


def test_stereo_without_multichannel_is_mixed() -> None:
    stereo = np.stack([tone(1.0), silence(1.0)], axis=1).reshape(-1)
    script = Script(session("channels=2"), Timeline([(0.0, 1.0)]))
    script.feed(pcm16(stereo, silence(1.0))).answer()
    assert [(e.channel, e.channels) for e in script.said() if isinstance(e, Results)] == [(0, 1)]


def test_silence_sends_empty_finals_now_and_then() -> None:
    script = Script(session(), Timeline([]))
    script.feed(pcm16(silence(12.0)))
    finals = [e for e in script.said() if isinstance(e, Results)]
    assert [(e.start_s, e.transcript) for e in finals] == [(0.0, ""), (5.012, "")]
    assert all(e.is_final and not e.speech_final for e in finals)


def test_interims_coalesced_away_are_forgotten() -> None:
    script = Script(session("interim_results=true"), Timeline([(0.0, 3.0)]))
    script.feed(pcm16(tone(3.0)))
    interims = [r for r in script.requests if not r.final]
    assert len(interims) == 2
    script.session.cancelled(interims[0].request_id)
    script.outstanding.pop(interims[0].request_id)
    script.answer()
    assert brief(script.said()) == [("interim", 0.0, 2.048, "w0 w1 w2 w3 w4 w5")]


def test_a_late_interim_after_the_endpoint_is_ignored() -> None:
    script = Script(session("interim_results=true"), Timeline([(0.0, 1.5)]))
    script.feed(pcm16(tone(1.5), silence(0.5)))
    kinds = [(r.final, r.request_id) for r in script.requests]
    assert kinds == [(False, 0), (True, 1)]
    # The interim was cancelled when the utterance ended; a result for it anyway changes nothing.
    script.session.deliver(0, Timeline([(0.0, 1.5)]).answer(script.requests[0]))
    script.answer()
    assert brief(script.said()) == [("final", 0.0, 1.824, "w0 w1 w2 w3 w4", "speech_final")]


def test_a_model_failure_closes_1011() -> None:
    script = Script(session(), Timeline([]))
    script.feed(pcm16(tone(1.0), silence(0.5)))
    script.session.failed(script.requests[0].request_id, "the model failed")
    script._collect()
    assert script.said() == [Close(1011, "NET-0000: the model failed")]


def test_closing_waits_for_its_finals_but_not_forever() -> None:
    script = Script(session(), Timeline([(0.0, 1.0)]))
    script.feed(pcm16(tone(1.0))).at(1.0).control(CloseStream()).at(1.5)
    assert script.session.next_deadline() == pytest.approx(1.5 + session_module.CLOSING_TIMEOUT_S)
    script.at(1.5 + session_module.CLOSING_TIMEOUT_S)
    assert script.said() == [Close(1011, "NET-0000: the last results were not ready in time")]


def test_disconnect_is_quiet_and_cancels_the_work_in_flight() -> None:
    live = session()
    live.advance(0.0)
    live.feed_audio(pcm16(tone(1.0), silence(0.5)))
    request = [e for e in live.events() if isinstance(e, DecodeRequest)][0]
    live.disconnect()
    assert live.events() == [CancelRequest(request.request_id)]
    live.deliver(request.request_id, DecodeResult((Word("late", 0.0, 0.1, 0.9),)))
    assert live.events() == [] and live.state is SessionState.CLOSED
    assert live.next_deadline() is None


def test_the_prefix_said_again_is_dropped_but_a_word_missed_before_is_kept() -> None:
    """Words are assigned to finals by text: the last words of the prefix said again, in the context's
    audio, are not new; a word the decoder says after the prefix is new, wherever its time falls."""

    class Echo(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            result = super().answer(request)
            said = request.item.prefix.split()
            echo = (Word(said[-1], 0.0, 0.05, 0.9),) if said else (Word("missed", 0.0, 0.05, 0.9),)
            return DecodeResult((*echo, *result.words))

    script = Script(session(), Echo([(0.0, 1.9)]))
    script.feed(pcm16(tone(1.0))).control(Finalize()).answer().feed(pcm16(tone(0.9), silence(0.5))).answer()
    texts = [e.transcript for e in script.said() if isinstance(e, Results)]
    assert texts == ["missed w0 w1 w2", "w3 w4 w5"]  # w3 was cut by the Finalize: heard whole after it
    second = [r for r in script.requests if r.final][1]
    assert second.item.prefix == "missed w0 w1 w2" and second.start_s < 1.0


def test_decodes_start_with_the_last_seconds_of_speech_before_them() -> None:
    """An utterance is decoded after the last `CONTEXT_S` of speech before it, with the words there forced as
    prefix: from a ``Finalize`` inside speech, and across a pause (counted back from the last word, so the
    pause does not leave a lone word, or none, before it)."""
    script = Script(session(), Timeline([(0.0, 3.0), (4.0, 4.9)]))
    script.feed(pcm16(tone(2.6))).control(Finalize()).answer()
    script.feed(pcm16(tone(0.4), silence(1.0), tone(0.9), silence(0.5))).answer()
    texts = [e.transcript for e in script.said() if isinstance(e, Results) and e.is_final]
    assert texts == ["w0 w1 w2 w3 w4 w5 w6 w7", "w8 w9", "w10 w11 w12"]
    cut, after_pause = [r for r in script.requests if r.final][1:]
    assert cut.item.prefix == "w2 w3 w4 w5 w6 w7" and cut.start_s == pytest.approx(2.6 - channel_module.CONTEXT_S)
    assert after_pause.item.prefix == "w4 w5 w6 w7 w8 w9" and after_pause.start_s == pytest.approx(1.2)  # at w4


def test_punctuation_and_capitals_follow_the_options() -> None:
    class Spoken(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            texts = ["Hello,", "world.", "Twenty", "five"]
            return DecodeResult(tuple(Word(t, 0.25 * i, 0.25 * i + 0.25, 0.9) for i, t in enumerate(texts)))

    for query, expected in [("", "hello world twenty five"), ("punctuate=true", "Hello, world. Twenty five")]:
        script = Script(session(query), Spoken([]))
        script.feed(pcm16(tone(1.0), silence(0.5))).answer()
        (result,) = [e for e in script.said() if isinstance(e, Results)]
        assert result.transcript == expected
        assert [w.word for w in result.words] == ["hello", "world", "twenty", "five"]


def test_results_render_to_the_golden_shape() -> None:
    from openlisten.transcript import ModelInfo
    from openlisten.wire.render_live import LiveContext, render_live_event

    script = Script(session("punctuate=true"), Timeline([(0.0, 1.0)]))
    script.feed(pcm16(tone(1.0), silence(0.5))).answer()
    context = LiveContext("r", "2025-01-15T10:20:30.456Z", ModelInfo("u", "nova-3", "tiny.en", "whisper"))
    message = render_live_event(script.said()[0], context)
    assert message is not None
    body = json.loads(message.model_dump_json(exclude_none=True))
    assert list(body) == [
        "type",
        "channel_index",
        "duration",
        "start",
        "is_final",
        "speech_final",
        "channel",
        "metadata",
        "from_finalize",
    ]
    assert body["metadata"] == {
        "request_id": "r",
        "model_info": {"name": "nova-3", "version": "tiny.en", "arch": "whisper"},
        "model_uuid": "u",
    }


def test_finalize_at_the_end_of_speech_decodes_no_silent_tail() -> None:
    """Finalize as the speaker stops (a voice agent's VAD): the VAD is still in speech, so an utterance opens
    after the flush; when its endpoint shows the speech had ended before it, nothing is decoded for it. (The
    speech ends with a VAD frame here: a frame that straddles the Finalize may hold the end of a word, and
    the utterance after it is decoded.)"""
    script = Script(session(), Timeline([(0.0, 1.216)]))
    script.feed(pcm16(tone(1.216))).control(Finalize()).feed(pcm16(silence(1.0))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert [f.transcript for f in finals] == ["w0 w1 w2 w3", ""]
    assert finals[0].from_finalize and finals[1].speech_final
    assert len([r for r in script.requests if r.final]) == 1


def test_finalize_after_every_few_samples_holds_the_client_back_too() -> None:
    """Each Finalize after new audio puts a final in line: past `MAX_FINALS_IN_LINE` the session is
    backlogged (its driver reads no more frames, text ones included) until their decodes come back."""
    script = Script(session(), Timeline([(0.0, 2.0)]))
    script.feed(pcm16(tone(1.0)))
    for _ in range(session_module.MAX_FINALS_IN_LINE + 1):
        script.feed(pcm16(tone(0.001))).control(Finalize())
    assert script.session.backlogged
    script.answer()
    assert not script.session.backlogged


def test_a_backlog_past_the_limit_holds_the_client_back_and_drains() -> None:
    """Audio sent far faster than real time: the session says it is backlogged (the driver stops reading
    frames) until its decodes come back; meanwhile the idle timer does not run, and no word is lost."""
    spans = [(start + 0.2, start + 4.7) for start in range(0, 150, 6)]
    timeline = Timeline(spans)
    script = Script(session(), timeline)
    script.feed(pcm16(*[piece for _ in spans for piece in (tone(4.8), silence(1.2))]))
    assert script.session.backlogged
    script.at(session_module.IDLE_TIMEOUT_S * 3)
    assert script.session.state is SessionState.OPEN  # waiting on us is not the client idling
    script.answer()
    assert not script.session.backlogged
    script.control(CloseStream()).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert [w.word for e in finals for w in e.words] == [word for word, _, _ in timeline.words]


def test_a_pause_is_decoded_ahead_and_its_final_needs_no_decode_of_its_own() -> None:
    """`AHEAD_TAIL_S` into a pause the utterance's final is decoded ahead, with that much silence after its
    speech (where a word's soft end may be): when the pause turns out to be its end, the final goes out as
    soon as the endpoint is heard."""
    script = Script(session(), Timeline([(0.0, 1.5)]))
    script.feed(pcm16(tone(1.5), silence(AHEAD_TAIL_S - 0.05)))
    assert not [r for r in script.requests if r.ahead]
    script.feed(pcm16(silence(0.1)))
    ahead = [r for r in script.requests if r.ahead]
    assert len(ahead) == 1 and ahead[0].final
    assert ahead[0].start_s + ahead[0].item.duration_s >= 1.5 + AHEAD_TAIL_S
    script.answer()  # back before the endpoint: nothing is final yet
    assert not [e for e in script.said() if isinstance(e, Results)]
    script.feed(pcm16(silence(0.5)))
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert [(f.transcript, f.speech_final) for f in finals] == [("w0 w1 w2 w3 w4", True)]
    assert [r.request_id for r in script.requests if r.final] == [ahead[0].request_id]


def test_speech_after_a_pause_cancels_the_decode_asked_ahead() -> None:
    script = Script(session(), Timeline([(0.0, 1.5), (1.7, 3.0)]))
    script.feed(pcm16(tone(1.5), silence(0.2)))
    first = next(r for r in script.requests if r.ahead)
    script.feed(pcm16(tone(1.3)))  # the pause was shorter than an endpoint
    assert first.request_id not in script.outstanding
    script.feed(pcm16(silence(0.6))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert [f.transcript for f in finals] == ["w0 w1 w2 w3 w4 w5 w6 w7 w8"]
    second = [r for r in script.requests if r.ahead][1]
    assert [r.request_id for r in script.requests if r.final and r is not first] == [second.request_id]


def test_a_final_whose_decode_stopped_early_is_decoded_on_from_its_last_word() -> None:
    """Whisper may end its text at a sentence end with seconds of speech left; those words must not be lost."""

    class StopsEarly(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            result = super().answer(request)
            return DecodeResult(result.words[:4]) if request.final and not request.item.prefix else result

    script = Script(session(), StopsEarly([(0.0, 4.2)]))
    script.feed(pcm16(tone(4.2), silence(0.6))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert [e.transcript for e in finals] == ["w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13"]
    decodes = [r for r in script.requests if r.final]
    assert [r.item.prefix for r in decodes] == ["", "w0 w1 w2 w3"]
    assert decodes[0].start_s == decodes[1].start_s and decodes[0].item.duration_s == decodes[1].item.duration_s


def test_a_final_whose_decode_skipped_its_start_is_decoded_again() -> None:
    """Under load Whisper at times skips the start of a final's audio and stretches its first word over it
    ("Eight. The Press Yard." lost at 16 streams): the final is decoded once more, and keeps every word."""

    class SkipsOnce(Timeline):
        skipped = False

        def answer(self, request: DecodeRequest) -> DecodeResult:
            result = super().answer(request)
            if not request.final or self.skipped:
                return result
            self.skipped = True
            first, *rest = result.words[5:]
            return DecodeResult((Word(first.text, 0.0, first.end_s, 0.1), *rest))  # w5 over w0–w4

    script = Script(session(), SkipsOnce([(0.0, 3.0)]))
    script.feed(pcm16(tone(3.0), silence(0.6))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final and e.transcript]
    assert [e.transcript for e in finals] == [" ".join(f"w{i}" for i in range(10))]
    decodes = [r for r in script.requests if r.final]
    assert len(decodes) == 2 and decodes[0].item.prefix == decodes[1].item.prefix


def test_a_final_that_heard_nothing_after_its_prefix_is_decoded_again_alone() -> None:
    """Whisper may end its text right after a forced prefix that ends a sentence (seen under load, with a
    narrow beam, on both tries): the retry decodes the final's own audio with no prefix, and its words come
    in their own final, at their own times."""

    class StopsAfterPrefix(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            return DecodeResult(()) if request.final and request.item.prefix else super().answer(request)

    script = Script(session(), StopsAfterPrefix([(0.0, 1.5), (2.4, 3.9)]))
    script.feed(pcm16(tone(1.5), silence(0.9), tone(1.5), silence(0.6))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final and e.transcript]
    assert [e.transcript for e in finals] == ["w0 w1 w2 w3 w4", "w5 w6 w7 w8 w9"]
    assert finals[1].words[0].start_s >= 2.4
    retry = [r for r in script.requests if r.final][-1]
    assert retry.item.prefix == "" and retry.start_s == finals[1].start_s


def test_a_final_that_says_the_final_before_it_again_in_its_context_sends_it_once() -> None:
    """Whisper may say the previous final again after the forced prefix, aligned into the context audio,
    before the new words (seen at 8 streams): that replay is not sent a second time."""

    class Replays(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            result = super().answer(request)
            if not (request.final and request.item.prefix):
                return result
            context_end = 1.5 - request.start_s
            replay = tuple(Word(f"w{i}", context_end, context_end, 0.9) for i in range(5))
            return DecodeResult((*replay, *result.words))

    script = Script(session(), Replays([(0.0, 1.5), (2.4, 3.9)]))
    script.feed(pcm16(tone(1.5), silence(0.9), tone(1.5), silence(0.6))).answer()
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final and e.transcript]
    assert [e.transcript for e in finals] == ["w0 w1 w2 w3 w4", "w5 w6 w7 w8 w9"]


@pytest.mark.parametrize(("speech_s", "decodes"), [(2.0, 2), (0.6, 1)])
def test_a_final_that_heard_nothing_of_its_speech_is_decoded_once_more(speech_s: float, decodes: int) -> None:
    class HearsNothing(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            return DecodeResult(()) if request.final else super().answer(request)

    script = Script(session(), HearsNothing([(0.0, speech_s)]))
    script.feed(pcm16(tone(speech_s), silence(0.6))).answer()
    assert len([r for r in script.requests if r.final]) == decodes
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert finals and not any(e.transcript for e in finals)  # nothing invented, and the stream goes on


def test_a_final_is_decoded_on_at_most_twice() -> None:
    class AlwaysStopsEarly(Timeline):
        def answer(self, request: DecodeRequest) -> DecodeResult:
            result = super().answer(request)
            return DecodeResult(result.words[:4]) if request.final else result

    script = Script(session(), AlwaysStopsEarly([(0.0, 6.0)]))
    script.feed(pcm16(tone(6.0), silence(0.6))).answer()
    assert len([r for r in script.requests if r.final]) == 3
    finals = [e for e in script.said() if isinstance(e, Results) and e.is_final]
    assert finals[0].transcript == " ".join(f"w{i}" for i in range(12))


def test_a_final_whose_decode_stopped_before_silence_only_is_not_decoded_again() -> None:
    script = Script(session(), Timeline([(0.0, 1.2)]))
    script.feed(pcm16(tone(1.2), silence(2.0))).answer()
    assert len([r for r in script.requests if r.final]) == 1
