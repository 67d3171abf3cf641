"""The faster-whisper parts OpenListen relies on, checked against the installed version: an upgrade that
moves one fails here, by name, before it fails somewhere in a decode."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
import pytest
import tomllib
from packaging.specifiers import SpecifierSet

from openlisten.audio import decode_audio
from openlisten.config import Settings
from openlisten.engine import whisper_internals
from openlisten.engine.models import ModelManager

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_version_is_one_the_parts_were_checked_on() -> None:
    assert version("faster-whisper") in SpecifierSet(whisper_internals.SUPPORTED)
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"faster-whisper{whisper_internals.SUPPORTED}" in [r.replace(" ", "") for r in requirements]


@pytest.fixture(scope="module")
def model() -> Any:
    models = ModelManager(Settings())
    return models.load(models.resolve("nova-3"))


def test_model_parts(model: Any, jfk_flac: bytes) -> None:
    whisper = whisper_internals.ctranslate2_model(model)
    assert whisper.is_multilingual is False and whisper_internals.max_length(model) == 448
    tokenizer = whisper_internals.tokenizer(model, "en")
    assert tokenizer.decode(tokenizer.encode(" ask not")) == " ask not"
    assert tokenizer.timestamp_begin > tokenizer.eot > max(tokenizer.encode(" ask not"))
    suppressed = whisper_internals.suppressed_tokens(tokenizer)
    assert tokenizer.sot in suppressed and tokenizer.no_timestamps not in suppressed

    samples = decode_audio(jfk_flac).mixed()
    window = np.zeros(30 * 16000, dtype=np.float32)
    window[: len(samples)] = samples
    features = whisper_internals.log_mel(model, window, 3000)
    assert features.shape == (80, 3000)
    storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
    encoded = np.asarray(whisper.encode(storage, to_cpu=True))
    assert encoded.shape[:2] == (1, 1500)

    text = tokenizer.encode(" And so my fellow Americans, ask not")
    (alignment,) = whisper_internals.align(model, tokenizer, [text], ctranslate2.StorageView.from_array(encoded), 3000)
    whisper_internals.merge_punctuations(alignment, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、")
    assert [w["word"].strip() for w in alignment][:5] == ["And", "so", "my", "fellow", "Americans,"]
    assert all(0 <= w["start"] <= w["end"] <= 11 and 0 <= w["probability"] <= 1 for w in alignment)


def test_text_and_vad_parts() -> None:
    assert (
        whisper_internals.compression_ratio("one " * 40)
        > 2.4
        > whisper_internals.compression_ratio("the quick brown fox jumps over the lazy dog")
    )
    session = whisper_internals.silero_session()
    assert {i.name for i in session.get_inputs()} == {"input", "h", "c"}
    silence = np.zeros(16000, dtype=np.float32)
    assert whisper_internals.speech_timestamps(silence, min_silence_ms=300, pad_ms=60, max_speech_s=30.0) == []
    assert whisper_internals.mel_filters(16000, 400, 40).shape == (40, 201)


def test_language_codes() -> None:
    codes = whisper_internals.language_codes()
    assert {"en", "es", "fr", "de", "zh"} <= codes and len(codes) >= 99
