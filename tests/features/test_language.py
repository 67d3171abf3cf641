"""Language detection (features/language.py, and the transcriber with a multilingual fake model)."""

from __future__ import annotations

import numpy as np
import pytest

from openlisten.config import Settings
from openlisten.engine.engine import Engine
from openlisten.engine.fake import FakeRecognizer
from openlisten.engine.recognizer import Recognition, RecognitionOptions
from openlisten.errors import InvalidParameter
from openlisten.features.language import choose_language
from openlisten.options import ListenOptions
from openlisten.transcriber import Transcriber
from tests.conftest import wav_bytes

PROBABILITIES = [("es", 0.6), ("en", 0.3), ("fr", 0.1)]


def test_most_probable_language() -> None:
    assert choose_language(PROBABILITIES) == ("es", 0.6)


def test_allowed_languages_renormalize() -> None:
    code, confidence = choose_language(PROBABILITIES, ["en", "fr-CA"])
    assert code == "en" and confidence == pytest.approx(0.75)


def test_nothing_allowed_matches() -> None:
    assert choose_language(PROBABILITIES, ["de"]) == ("de", 0.0)


class MultilingualFake(FakeRecognizer):
    """A fake multilingual model that hears Spanish, most of all."""

    def language_probabilities(self, samples: np.ndarray) -> list[tuple[str, float]]:
        return PROBABILITIES

    def recognize(self, samples: np.ndarray, options: RecognitionOptions) -> Recognition:
        return super().recognize(samples, options)


def transcribe(query: str, model: str = "small") -> tuple[Transcriber, MultilingualFake, object]:
    fake = MultilingualFake("Hola mundo.")
    transcriber = Transcriber(Engine(Settings(model=model), recognizer_for=lambda spec: fake))
    audio = wav_bytes((np.sin(np.arange(16000) / 5) * 8000).astype(np.int16), 16000)
    return transcriber, fake, transcriber.transcribe(audio, ListenOptions.from_query(_items(query)))


def _items(query: str) -> list[tuple[str, str]]:
    return [tuple(pair.split("=")) for pair in query.split("&")]  # type: ignore[misc]


def test_multilingual_model_detects_and_decodes_in_that_language() -> None:
    _, fake, transcript = transcribe("detect_language=true")
    channel = transcript.results[0]  # type: ignore[attr-defined]
    assert (channel.detected_language, channel.language_confidence) == ("es", 0.6)
    assert fake.calls[-1][1].language == "es"


def test_detection_restricted_to_the_listed_languages() -> None:
    _, fake, transcript = transcribe("detect_language=en&detect_language=fr")
    assert transcript.results[0].detected_language == "en"  # type: ignore[attr-defined]
    assert fake.calls[-1][1].language == "en"


def test_english_only_model_reports_english() -> None:
    _, fake, transcript = transcribe("detect_language=true", model="tiny.en")
    assert transcript.results[0].detected_language == "en"  # type: ignore[attr-defined]
    assert fake.calls[-1][1].language == "en"


def test_a_language_whisper_does_not_know_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="Whisper knows"):
        transcribe("language=xx")
