"""Keywords and keyterms (features/vocabulary.py) reach the recognizer as hotwords."""

from __future__ import annotations

from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.features.vocabulary import hotwords
from openlisten.options import ListenOptions
from openlisten.transcriber import Transcriber
from tests.conftest import fake_engine, speech


def test_hotwords_from_keyterms_and_boosted_keywords() -> None:
    assert hotwords(["Big Bird"], [("Systrom", 2.0), ("kansas", -10.0), ("Big Bird", 1.0)]) == "Big Bird Systrom"
    assert hotwords([], []) is None


def test_transcriber_passes_hotwords() -> None:
    fake = FakePackedDecoder()
    transcriber = Transcriber(fake_engine(decoder=fake))
    options = ListenOptions.from_query([("keyterm", "Quetzalcoatl"), ("keywords", "Systrom:2")])
    transcriber.transcribe(speech(), options)
    assert fake.runs[-1][0].hotwords == "Quetzalcoatl Systrom"
