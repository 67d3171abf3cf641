from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from openlisten.audio import RawFormat
from openlisten.errors import InvalidParameter, UnsupportedEncoding, UnsupportedFeature
from openlisten.live.options import DEFAULT_ENDPOINTING_MS, LiveOptions


def parse(query: str) -> LiveOptions:
    return LiveOptions.from_query(parse_qsl(query, keep_blank_values=True))


def test_defaults() -> None:
    options = parse("model=nova-3")
    assert options.endpointing_ms == DEFAULT_ENDPOINTING_MS == 10
    assert not options.interim_results and not options.vad_events
    assert options.utterance_end_ms is None and options.keyterms == ()
    assert options.raw_format() is None
    assert options.listen.model == "nova-3"


def test_live_parameters_as_the_sdk_sends_them() -> None:
    options = parse(
        "model=nova-3&encoding=linear16&sample_rate=16000&channels=2&multichannel=true&interim_results=true"
        "&endpointing=300&utterance_end_ms=1000&vad_events=true&punctuate=true&smart_format=true&numerals=true"
        "&keyterm=Deepgram&keyterm=Open+Listen&keywords=kubernetes%3A2&keywords=hello&tag=a&extra=k%3Av"
        "&no_delay=true&version=latest&mip_opt_out=false"
    )
    assert options.interim_results and options.vad_events
    assert options.endpointing_ms == 300 and options.utterance_end_ms == 1000
    assert options.keyterms == ("Deepgram", "Open Listen")
    assert options.hotwords() == "Deepgram Open Listen kubernetes hello"
    assert options.hotwords(("Whisper",)) == "Whisper kubernetes hello"
    assert options.raw_format() == RawFormat("linear16", 16000, 2)
    assert options.listen.multichannel and options.listen.tag == ("a",) and dict(options.listen.extra) == {"k": "v"}
    assert options.listen.punctuate and options.listen.smart_format and options.listen.numerals


@pytest.mark.parametrize(("value", "expected"), [("false", None), ("true", 10), ("0", 0), ("500", 500), ("25.0", 25)])
def test_endpointing(value: str, expected: int | None) -> None:
    assert parse(f"endpointing={value}").endpointing_ms == expected


def test_codec_encodings_need_no_sample_rate() -> None:
    assert parse("encoding=opus").raw_format() == RawFormat("opus", 16000, 1)
    assert parse("encoding=mulaw&sample_rate=8000").raw_format() == RawFormat("mulaw", 8000, 1)


@pytest.mark.parametrize(
    "query",
    [
        "encoding=linear16",
        "encoding=mulaw",
        "interim_results=maybe",
        "vad_events=2",
        "endpointing=soon",
        "endpointing=-5",
        "endpointing=12.5",
        "utterance_end_ms=abc",
        "utterance_end_ms=99999999",
        "sample_rate=fast",
        "channels=0",
    ],
)
def test_malformed_values_are_invalid(query: str) -> None:
    with pytest.raises(InvalidParameter):
        parse(query)


@pytest.mark.parametrize("query", ["summarize=true", "measurements=true", "callback=http://x"])
def test_features_a_live_stream_cannot_have_are_refused(query: str) -> None:
    with pytest.raises(UnsupportedFeature):
        parse(query)


def test_diarization_works_live_but_not_diarizer_v2() -> None:
    assert parse("diarize=true").listen.diarization
    with pytest.raises(InvalidParameter):
        parse("diarize_model=v2")


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(UnsupportedEncoding):
        parse("encoding=mp5&sample_rate=16000")
