"""Keywords and keyterms (features/vocabulary.py) reach the recognizer as hotwords."""

from __future__ import annotations

import numpy as np

from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.engine.fake import FakeRecognizer
from openlisten.features.vocabulary import hotwords
from openlisten.options import ListenOptions
from openlisten.transcriber import Transcriber
from tests.conftest import wav_bytes


def test_hotwords_from_keyterms_and_boosted_keywords() -> None:
    assert hotwords(["Big Bird"], [("Systrom", 2.0), ("kansas", -10.0), ("Big Bird", 1.0)]) == "Big Bird Systrom"
    assert hotwords([], []) is None


def test_transcriber_passes_hotwords() -> None:
    fake = FakeRecognizer()
    transcriber = Transcriber(Engine(Settings(), recognizer_for=lambda spec: fake))
    audio = wav_bytes((np.sin(np.arange(16000) / 5) * 8000).astype(np.int16), 16000)
    options = ListenOptions.from_query([("keyterm", "Quetzalcoatl"), ("keywords", "Systrom:2")])
    transcriber.transcribe(audio, options)
    assert fake.calls[-1][1].hotwords == "Quetzalcoatl Systrom"
