"""Call-center audio through the official SDK: a caller reading out card, social security, phone, account
and order numbers (tests/e2e/call_center.py), at 16 kHz and as 8 kHz mu-law. Whatever tiny.en makes of
the digits, a redacted transcript never lets three of them through, REST or live; and the same audio
gives the same text every time."""

from __future__ import annotations

import re

import pytest
from deepgram import DeepgramClient

from openlisten.audio.raw import parse_wav_header
from tests.e2e.call_center import CALLS, Call, leaked_digits, render
from tests.e2e.test_live import ListenV1Results, stream_sync

#: Two voices, one at 16 kHz and one on a phone line (the benchmark runs all four).
RENDERINGS = [("en-us", False), ("en-gb", True)]


@pytest.mark.parametrize("call", CALLS, ids=[call.name for call in CALLS])
def test_redaction_lets_no_digits_through(client: DeepgramClient, call: Call) -> None:
    for (voice, telephone), formatting in zip(RENDERINGS, ({"smart_format": True}, {}), strict=True):
        audio = render(call, voice, telephone)
        response = client.listen.v1.media.transcribe_file(
            request=audio, model="nova-3", redact=call.redact, **formatting
        )
        alternative = response.results.channels[0].alternatives[0]
        every_form = [alternative.transcript, " ".join(w.punctuated_word or w.word for w in alternative.words)]
        for text in every_form:
            assert not leaked_digits(text), (voice, telephone, formatting, text)


def test_the_same_audio_gives_the_same_digits(client: DeepgramClient) -> None:
    """Decoding is deterministic, repeated digits included (no sampling at a higher temperature)."""
    audio = render(CALLS[0], "en-gb", telephone=False)
    texts = {
        client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
        .results.channels[0]
        .alternatives[0]
        .transcript
        for _ in range(3)
    }
    assert len(texts) == 1, texts


def test_numerals_write_digit_strings_as_digits(client: DeepgramClient) -> None:
    audio = render(next(call for call in CALLS if call.name == "ssn"), "en-us", telephone=False)
    plain = client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
    numerals = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", numerals=True)
    assert "minus" not in plain.results.channels[0].alternatives[0].transcript
    assert re.search(r"\d{6,}", numerals.results.channels[0].alternatives[0].transcript)


@pytest.mark.parametrize("name", ["visa", "amex", "ssn"])
def test_live_redaction_lets_no_digits_through(client: DeepgramClient, name: str) -> None:
    call = next(call for call in CALLS if call.name == name)
    wav = render(call, "en-us", telephone=True)
    header = parse_wav_header(wav)
    assert header is not None
    mulaw = wav[header.data_offset :] + bytes([0xFF]) * 8000
    heard = stream_sync(client, mulaw, speed=4.0, rate=8000, sample_bytes=1, encoding="mulaw",
                        redact=call.redact, interim_results=True)  # fmt: skip
    assert not heard.errors and heard.finals()
    for result in heard.of(ListenV1Results):  # interims too: no piece of a number before its final
        text = result.channel.alternatives[0].transcript
        assert not leaked_digits(text), text
