"""Prerecorded transcription through the official SDK, the real server and the real model."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable

import jiwer
import numpy as np
import pytest
from deepgram import DeepgramClient
from deepgram.types.listen_v1response import ListenV1Response

from tests.conftest import EVAL, JFK_TEXT, espeak_samples, wav_bytes, words_of
from tests.e2e.conftest import LiveServer, async_sdk_client

pytestmark = pytest.mark.e2e


def transcript_of(response: ListenV1Response, channel: int = 0) -> str:
    return response.results.channels[channel].alternatives[0].transcript


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(" ".join(words_of(reference)), " ".join(words_of(hypothesis))))


def test_transcribe_file_bytes(client: DeepgramClient, jfk_flac: bytes) -> None:
    response = client.listen.v1.media.transcribe_file(request=jfk_flac, model="nova-3", tag=["e2e"], extra="team:qa")

    assert isinstance(response, ListenV1Response)
    metadata = response.metadata
    assert metadata.duration == pytest.approx(11.0, abs=0.05)
    assert metadata.channels == 2  # jfk.flac is a stereo recording
    assert len(response.results.channels) == 1  # mixed: multichannel is off
    assert len(metadata.sha256) == 64
    assert metadata.created.year >= 2025
    assert metadata.models[0] in metadata.model_info
    assert metadata.tags == ["e2e"]
    assert metadata.extra == {"team": "qa"}
    alternative = response.results.channels[0].alternatives[0]
    # Without punctuate or smart_format Deepgram sends plain lower-case words.
    assert alternative.transcript == alternative.transcript.lower()
    assert not any(mark in alternative.transcript for mark in ",.?!")
    assert wer(JFK_TEXT, alternative.transcript) <= 0.1
    assert 0.5 < alternative.confidence <= 1
    words = alternative.words
    assert [w.word for w in words] == words_of(alternative.transcript)
    assert all(w.punctuated_word == w.word for w in words)
    assert all(0 <= w.start <= w.end <= 11.0 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_transcribe_file_chunked_iterator(client: DeepgramClient, jfk_flac: bytes) -> None:
    chunks = iter([jfk_flac[i : i + 8192] for i in range(0, len(jfk_flac), 8192)])
    response = client.listen.v1.media.transcribe_file(request=chunks, model="nova-3")
    assert wer(JFK_TEXT, transcript_of(response)) <= 0.1


def test_transcribe_url(client: DeepgramClient, jfk_flac: bytes, serve_bytes: Callable[..., str]) -> None:
    url = serve_bytes(jfk_flac, "audio/flac")
    response = client.listen.v1.media.transcribe_url(url=url, model="nova-3", punctuate=True)
    assert wer(JFK_TEXT, transcript_of(response)) <= 0.1


def test_async_client_file_and_url(live_server: LiveServer, jfk_flac: bytes, serve_bytes: Callable[..., str]) -> None:
    url = serve_bytes(jfk_flac)

    async def both() -> tuple[ListenV1Response, ListenV1Response]:
        async with async_sdk_client(live_server) as client:
            by_file = await client.listen.v1.media.transcribe_file(request=jfk_flac, model="nova-2")
            by_url = await client.listen.v1.media.transcribe_url(url=url, model="base", smart_format=True)
        return by_file, by_url  # type: ignore[return-value]

    by_file, by_url = asyncio.run(both())
    assert wer(JFK_TEXT, transcript_of(by_file)) <= 0.1
    assert wer(JFK_TEXT, transcript_of(by_url)) <= 0.1


def test_punctuate_capitalizes_and_punctuates(client: DeepgramClient, jfk_flac: bytes) -> None:
    response = client.listen.v1.media.transcribe_file(request=jfk_flac, model="nova-3", punctuate=True)
    alternative = response.results.channels[0].alternatives[0]
    assert alternative.transcript.startswith("And so")
    assert alternative.transcript.rstrip().endswith(".")
    # Commas inside are tiny.en's call: it writes them or not on inputs that differ by 1e-5.
    words = alternative.words
    assert words[0].word == "and" and words[0].punctuated_word == "And"
    assert words[-1].word == "country" and words[-1].punctuated_word == "country."
    assert " ".join(w.punctuated_word for w in words) == alternative.transcript


def test_smart_format_writes_numbers_as_digits(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    audio = speak("The invoice was for two hundred and fifty dollars, due in twenty five days.")
    plain = client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
    formatted = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", smart_format=True)

    # Unformatted output is the spoken form, as Deepgram's is.
    assert "two hundred fifty dollars" in transcript_of(plain)
    assert not any(ch.isdigit() for ch in transcript_of(plain))
    text = transcript_of(formatted)
    assert "$250" in text and "25" in text
    assert text[0].isupper() and text.rstrip().endswith(".")


def test_multichannel_transcribes_each_channel(client: DeepgramClient) -> None:
    left, rate = espeak_samples("The quick brown fox jumps over the lazy dog.", "en-us")
    right, _ = espeak_samples("Please call me back tomorrow morning.", "en-gb")
    frames = max(len(left), len(right)) + rate // 2
    stereo = np.zeros((frames, 2), dtype=np.int16)
    stereo[: len(left), 0] = left
    stereo[: len(right), 1] = right
    audio = wav_bytes(stereo, rate)

    response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3", multichannel=True)

    assert response.metadata.channels == 2
    assert len(response.results.channels) == 2
    first, second = transcript_of(response, 0), transcript_of(response, 1)
    assert wer("the quick brown fox jumps over the lazy dog", first) <= 0.25
    assert wer("please call me back tomorrow morning", second) <= 0.25
    assert "fox" not in second and "tomorrow" not in first

    mixed = client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
    assert len(mixed.results.channels) == 1


def test_raw_linear16(client: DeepgramClient) -> None:
    with wave.open(str(EVAL / "data" / "ljspeech" / "LJ001-0002.wav")) as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    response = client.listen.v1.media.transcribe_file(
        request=pcm,
        model="nova-3",
        encoding="linear16",
        request_options={"additional_query_parameters": {"sample_rate": rate, "channels": 1}},
    )
    assert response.metadata.duration == pytest.approx(len(pcm) / 2 / rate, abs=0.01)
    assert words_of(transcript_of(response)) == ["in", "being", "comparatively", "modern"]


def mulaw_encode(samples: np.ndarray) -> bytes:
    """G.711 mu-law bytes of int16 samples (the reference formula, independent of our decoder)."""
    x = samples.astype(np.int32)
    sign = (x < 0).astype(np.int32) << 7
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def test_raw_mulaw_8khz_phone_audio(client: DeepgramClient) -> None:
    samples, rate = espeak_samples("Thank you for calling, how can I help you today?")
    times = np.arange(0, len(samples) / rate, 1 / 8000)
    phone = np.interp(times, np.arange(len(samples)) / rate, samples).astype(np.int16)
    response = client.listen.v1.media.transcribe_file(
        request=mulaw_encode(phone),
        model="nova-2-phonecall",
        encoding="mulaw",
        request_options={"additional_query_parameters": {"sample_rate": 8000}},
    )
    assert response.metadata.duration == pytest.approx(len(phone) / 8000, abs=0.01)
    assert wer("thank you for calling how can i help you today", transcript_of(response)) <= 0.25


def test_silence_gives_an_empty_transcript(client: DeepgramClient) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=wav_bytes(np.zeros(32000, np.int16), 16000), model="nova-3"
    )
    alternative = response.results.channels[0].alternatives[0]
    assert alternative.transcript == "" and alternative.words == []
    assert response.metadata.duration == pytest.approx(2.0)


def test_embedded_transcribe_matches_the_server(client: DeepgramClient, jfk_flac: bytes) -> None:
    import openlisten

    embedded = openlisten.transcribe(jfk_flac, model="nova-3", punctuate=True)
    served = client.listen.v1.media.transcribe_file(request=jfk_flac, model="nova-3", punctuate=True)
    assert transcript_of(embedded) == transcript_of(served)  # type: ignore[arg-type]


def test_utterances_and_paragraphs(client: DeepgramClient, jfk_flac: bytes) -> None:
    response = client.listen.v1.media.transcribe_file(
        request=jfk_flac, model="nova-3", utterances=True, utt_split=1.0, paragraphs=True
    )
    utterances = response.results.utterances
    assert utterances is not None and len(utterances) >= 2  # JFK pauses after "Americans" and "ask not"
    assert all(u.channel == 0 and u.words and u.id for u in utterances)
    assert " ".join(u.transcript for u in utterances) == transcript_of(response)
    paragraphs = response.results.channels[0].alternatives[0].paragraphs
    assert paragraphs is not None and paragraphs.transcript.startswith("\n")
    assert sum(p.num_words for p in paragraphs.paragraphs) == len(response.results.channels[0].alternatives[0].words)
    assert transcript_of(response)[0].isupper()  # paragraphs switch punctuation on
