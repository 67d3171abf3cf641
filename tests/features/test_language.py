"""Language detection (features/language.py, and the transcriber with a multilingual fake model)."""

from __future__ import annotations

import pytest

from openlisten.config import Settings
from openlisten.engine.fake_packed_decoder import FakePackedDecoder
from openlisten.errors import InvalidParameter
from openlisten.features.language import choose_language
from openlisten.options import ListenOptions
from openlisten.transcriber import Transcriber
from openlisten.transcript import Transcript
from tests.conftest import fake_engine, speech

PROBABILITIES = [("es", 0.6), ("en", 0.3), ("fr", 0.1)]


def test_most_probable_language() -> None:
    assert choose_language(PROBABILITIES) == ("es", 0.6)


def test_allowed_languages_renormalize() -> None:
    code, confidence = choose_language(PROBABILITIES, ["en", "fr-CA"])
    assert code == "en" and confidence == pytest.approx(0.75)


def test_nothing_allowed_matches() -> None:
    assert choose_language(PROBABILITIES, ["de"]) == ("de", 0.0)


def transcribe(query: str, model: str = "small") -> tuple[FakePackedDecoder, Transcript]:
    """`query` on a fake multilingual model that hears Spanish, most of all."""
    fake = FakePackedDecoder("Hola mundo.", languages=PROBABILITIES)
    transcriber = Transcriber(fake_engine(Settings(model=model), fake))
    return fake, transcriber.transcribe(speech(), ListenOptions.from_query(_items(query)))


def _items(query: str) -> list[tuple[str, str]]:
    return [tuple(pair.split("=")) for pair in query.split("&")]  # type: ignore[misc]


def test_multilingual_model_detects_and_decodes_in_that_language() -> None:
    fake, transcript = transcribe("detect_language=true")
    channel = transcript.results[0]
    assert (channel.detected_language, channel.language_confidence) == ("es", 0.6)
    assert fake.runs[-1][0].language == "es"
    assert channel.transcript == "hola mundo"


def test_detection_restricted_to_the_listed_languages() -> None:
    fake, transcript = transcribe("detect_language=en&detect_language=fr")
    assert transcript.results[0].detected_language == "en"
    assert fake.runs[-1][0].language == "en"


def test_english_only_model_reports_english() -> None:
    fake, transcript = transcribe("detect_language=true", model="tiny.en")
    assert transcript.results[0].detected_language == "en"
    assert fake.runs[-1][0].language == "en"


def test_a_language_whisper_does_not_know_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="Whisper knows"):
        transcribe("language=xx")
