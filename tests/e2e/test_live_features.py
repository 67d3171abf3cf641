"""Transcript features on live finals, through the official SDK, the real server and tiny.en.

espeak-ng speech streamed faster than real time (the features, not the timing, are under test), with pauses
long enough that each phrase ends in its own final.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from deepgram import DeepgramClient
from deepgram.listen.v1.types import ListenV1Results
from scipy.signal import resample_poly

from openlisten.config import Settings
from tests.conftest import VOICES, espeak_samples, words_of
from tests.e2e.conftest import API_KEY, serve_in_thread
from tests.e2e.test_features import LINES
from tests.e2e.test_live import RATE, Heard, assert_well_ordered, linear16, pause, stream_sync

pytestmark = pytest.mark.e2e


def said(*phrases: bytes, gap_s: float = 1.2) -> bytes:
    """16 kHz linear16 of the phrases (WAV files) one after another, with a pause after each."""
    return b"".join(linear16(phrase) + pause(gap_s) for phrase in phrases)


def spoken_finals(heard: Heard) -> list[tuple[str, list[object]]]:
    """(transcript, words) of each final that has words."""
    finals = [m.channel.alternatives[0] for m in heard.finals()]
    return [(a.transcript, list(a.words)) for a in finals if a.words]


def test_formatting_replace_and_profanity_on_live_finals(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    heard = stream_sync(
        client,
        said(speak("there are twenty five people here"), speak("oh shit it is the new project manager")),
        speed=4.0,
        smart_format=True,
        profanity_filter=True,
        replace=["project manager:PM"],
        interim_results=True,
    )
    assert_well_ordered(heard)
    first, second = spoken_finals(heard)
    assert first[0] == "There are 25 people here."
    assert "****" in second[0] and "shit" not in second[0] and second[0].endswith("PM.")
    assert "PM" in [w.word for w in second[1]]


def test_redaction_counts_placeholders_through_the_session(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    mine = speak("my social security number is one two three, four five, six seven eight nine.")
    hers = speak("my social security number is nine eight seven, six five, four three two one.")
    heard = stream_sync(client, said(mine, hers), speed=4.0, redact="ssn", punctuate=True, interim_results=True)
    assert_well_ordered(heard)
    first, second = spoken_finals(heard)
    # Whisper's words around the number vary with how decodes were packed ("Social security…", a digit
    # lost); the numbering and the redaction do not.
    assert first[0].rstrip(".").endswith("ecurity number is [SSN_1]")
    assert second[0].rstrip(".").endswith("ecurity number is [SSN_2]")
    assert [w.word for w in second[1]][-1] == "[SSN_2]"
    digits = {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    for message in heard.of(ListenV1Results):  # interims too: no digit of a number ever leaves the server
        assert not digits & set(words_of(message.channel.alternatives[0].transcript))


def test_search_hits_on_live_finals(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    heard = stream_sync(
        client,
        said(speak("instagram was founded by kevin systrom and mike krieger")),
        speed=4.0,
        search=["systrom", "banana"],
    )
    assert_well_ordered(heard)
    (final,) = [m for m in heard.finals() if m.channel.alternatives[0].words]
    systrom, banana = final.channel.search  # the older SDK schema's channel.search, kept as an extra field
    assert [systrom["query"], banana["query"]] == ["systrom", "banana"]
    assert systrom["hits"][0]["confidence"] >= 0.75 and banana["hits"] == []
    assert final.start <= systrom["hits"][0]["start"] < systrom["hits"][0]["end"] <= final.start + final.duration


def test_streams_with_and_without_keyterms_at_once(client: DeepgramClient, speak: Callable[..., bytes]) -> None:
    """Decodes of concurrent streams share rounds; a keyterm changes one stream's prompt, not the others'."""
    pcm = said(speak("we deploy the service on kubernetes every night"), speak("the build is green again"))
    heard: dict[str, Heard] = {}

    def run(name: str, **params: Any) -> None:
        heard[name] = stream_sync(client, pcm, speed=2.0, interim_results=True, **params)

    threads = [
        threading.Thread(target=run, args=("keyterm",), kwargs={"keyterm": ["Kubernetes"]}),
        threading.Thread(target=run, args=("plain",)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for name in ("keyterm", "plain"):
        assert_well_ordered(heard[name])
        words = words_of(" ".join(text for text, _ in spoken_finals(heard[name])))
        assert {"deploy", "service", "again"} <= set(words), (name, words)


def test_two_decode_workers_serve_streams_and_a_recording_at_once(
    sdk_client: Callable[..., DeepgramClient], speak: Callable[..., bytes]
) -> None:
    """``decode_workers=2`` (the default): two rounds run at once on two replicas of the model, results come
    back in any order, and every stream and the recording still get their words."""
    server, stop = serve_in_thread(Settings(api_keys=[API_KEY], decode_workers=2))
    client = sdk_client(server=server)
    pcm = said(speak("we deploy the service on kubernetes every night"), speak("the build is green again"))
    heard: dict[str, Heard] = {}
    recorded: list[str] = []

    def run(name: str) -> None:
        heard[name] = stream_sync(client, pcm, speed=2.0, interim_results=True)

    def record() -> None:
        audio = speak("we deploy the service on kubernetes every night")
        response = client.listen.v1.media.transcribe_file(request=audio, model="nova-3")
        recorded.append(response.results.channels[0].alternatives[0].transcript)  # type: ignore[union-attr]

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    threads.append(threading.Thread(target=record))
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        stop()
    for name in ("first", "second"):
        assert_well_ordered(heard[name])
        words = words_of(" ".join(text for text, _ in spoken_finals(heard[name])))
        assert {"deploy", "service", "again"} <= set(words), (name, words)
    assert {"deploy", "service"} <= set(words_of(recorded[0])), recorded


def conversation(voices: tuple[tuple[str, int], ...]) -> tuple[bytes, list[tuple[float, int]]]:
    """Each voice says a line, then the first voice again, as 16 kHz linear16 with pauses between turns;
    and the (start in seconds, voice) of each turn."""
    chunks, turns, at = [], [], 0
    lines = [*zip(range(len(voices)), LINES, strict=False), (0, "i will present the numbers first")]
    for voice, line in lines:
        samples, voice_rate = espeak_samples(line, *voices[voice])
        turns.append((at / RATE, voice))
        chunks += [resample_poly(samples.astype(np.float32), RATE, voice_rate), np.zeros(int(1.2 * RATE))]
        at += len(chunks[-2]) + len(chunks[-1])
    return np.concatenate(chunks).astype("<i2").tobytes(), turns


@pytest.mark.parametrize("speakers", [2, 3])
def test_diarize_keeps_speaker_numbers_through_the_session(client: DeepgramClient, speakers: int) -> None:
    audio, turns = conversation(VOICES[:speakers])
    heard = stream_sync(client, audio, speed=4.0, diarize=True, interim_results=True)
    assert_well_ordered(heard)
    # How the finals cut the conversation depends on how fast the machine decodes; each word's speaker
    # does not: it is the voice of the turn the word was said in (by its end: the first word of a piece may
    # start early, stretched over the pause before it), numbered in order of appearance.
    words = [w for _, final_words in spoken_finals(heard) for w in final_words]
    said_by = [[voice for start, voice in turns if start < w.end][-1] for w in words]
    assert [w.speaker for w in words] == said_by, [(w.word, w.start, w.end, w.speaker) for w in words]
    finals = [(m.start, m.duration, [(w.word, w.end) for w in m.channel.alternatives[0].words]) for m in heard.finals()]
    assert set(said_by) == set(range(speakers)), (turns, finals)
    # Interims may be dropped under load (not asserted to exist); those that come carry a known speaker.
    interim_words = [w for m in heard.of(ListenV1Results) if not m.is_final for w in m.channel.alternatives[0].words]
    assert all(w.speaker in range(speakers) for w in interim_words)
    final = heard.finals()[0]
    assert final.metadata.diarize_info is not None and final.metadata.diarize_info.arch
