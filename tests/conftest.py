"""Shared fixtures: a clean environment, espeak-ng speech, real speech from ../shared/eval-public, and an engine
with a scripted decoder for tests of the plumbing."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.engine.fake_packed_decoder import FakePackedDecoder

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval-public"
JFK_FLAC = EVAL / "data" / "whisper" / "jfk.flac"
JFK_TEXT = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OPENLISTEN_* setting leaks into a test; loopback never goes through a proxy."""
    for name in list(os.environ):
        if name.startswith("OPENLISTEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,::1")


#: espeak-ng voices (with a pitch, 0-99) that the speaker encoder tells apart: each pair 0.47-0.51 apart on
#: average, at least 0.36, over the diarization tests' sentences. Most espeak-ng voices are closer than real voices
#: are (m7 and klatt, f2 and f3, en-us and en-gb: 0.2-0.35, under `SPEAKER_DISTANCE`), so the tests cannot take
#: any voices, nor a fourth one of these (bench/diarize.py measures 4 real voices).
VOICES = (("en+f3", 90), ("en+edward", 20), ("en+anika", 70))


def espeak_samples(text: str, voice: str = "en-us", speed_wpm: int = 150, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speech for `text` from espeak-ng: int16 mono samples and their rate."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (apt-get install espeak-ng; .ci/run does this)")
    wav = subprocess.run(
        [
            "espeak-ng",
            "-v",
            voice,
            "-s",
            str(speed_wpm),
            *(("-p", str(pitch)) if pitch is not None else ()),
            "--stdout",
            text,
        ],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    return samples, rate


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A 16-bit PCM WAV of int16 `samples`, shape (frames,) or (frames, channels)."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(frames.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames.astype("<i2").tobytes())
    return buffer.getvalue()


@functools.cache
def _hello_world() -> tuple[np.ndarray, int]:
    return espeak_samples("hello world")


def speech(seconds: float = 1.0, channels: int = 1, *, repeated: bool = False) -> bytes:
    """A WAV of `seconds`: espeak-ng saying "hello world" (cut short, or followed by silence; `repeated`: again
    and again), in every one of `channels` channels. The voice detector hears it as speech, which a tone is not."""
    samples, rate = _hello_world()
    frames = int(seconds * rate)
    said = np.tile(samples, frames // len(samples) + 1) if repeated else samples
    mono = np.concatenate([said, np.zeros(max(0, frames - len(said)), np.int16)])[:frames]
    return wav_bytes(np.repeat(mono[:, None], channels, axis=1), rate)


def fake_engine(settings: Settings | None = None, decoder: FakePackedDecoder | None = None) -> Engine:
    """An engine whose every model decodes with `decoder` (by default one saying "Hello, world."): recordings
    and live streams take their real paths to it (voice detection, chunking, the scheduler), without a model."""
    decoder = decoder or FakePackedDecoder("Hello, world.")
    return Engine(settings, decoder_for=lambda spec: decoder)


@pytest.fixture(scope="session")
def speak() -> Callable[..., bytes]:
    """``speak("text")``: a WAV of espeak-ng saying it, with a little silence around it."""
    cache: dict[tuple[str, str], bytes] = {}

    def make(text: str, voice: str = "en-us") -> bytes:
        if (text, voice) not in cache:
            samples, rate = espeak_samples(text, voice)
            pad = np.zeros(rate // 4, dtype=np.int16)
            cache[text, voice] = wav_bytes(np.concatenate([pad, samples, pad]), rate)
        return cache[text, voice]

    return make


@pytest.fixture(scope="session")
def jfk_flac() -> bytes:
    """11 s of real speech: JFK's "ask not what your country can do for you"."""
    return JFK_FLAC.read_bytes()


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return "".join(c if c.isalnum() or c in " '" else " " for c in text.lower()).split()


#: The PostgreSQL database the store tests use; `.ci/run` installs the server and makes this role and database.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://openlisten:openlisten@127.0.0.1:5432/openlisten_test")


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL of the test database whose connections see only a new, empty schema (dropped afterwards)."""
    import urllib.parse
    import uuid

    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at TEST_DATABASE_URL ({exc}); .ci/run installs and starts it")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            options = urllib.parse.quote(f"-csearch_path={schema}")
            yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options={options}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_url_module() -> Iterator[str]:
    with postgres_schema() as url:
        yield url
