"""Routes in-process with the TestClient and a scripted decoder: the plumbing, not the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from deepgram.types.list_models_v1response import ListModelsV1Response
from deepgram.types.listen_v1response import ListenV1Response
from fastapi.testclient import TestClient

from openlisten.api.app import create_app
from openlisten.config import Settings
from tests.conftest import fake_engine, speech, wav_bytes

KEY = "unit-key"
AUTH = {"Authorization": f"Token {KEY}"}
EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "spec" / "fixtures" / "examples"


@pytest.fixture
def http() -> TestClient:
    settings = Settings(api_keys=[KEY], max_upload_bytes=1_000_000)
    return TestClient(create_app(engine=fake_engine(settings)))


def test_response_passes_the_sdks_strict_model(http: TestClient) -> None:
    response = http.post("/v1/listen?model=nova-3&punctuate=true&tag=t1", content=speech(), headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    ListenV1Response.model_validate(body, strict=False)
    assert "request_id" not in body  # spec §0.1: only inside metadata
    assert body["metadata"]["request_id"] == response.headers["dg-request-id"]
    assert body["metadata"]["transaction_key"] == "deprecated"
    assert body["metadata"]["tags"] == ["t1"]
    assert "extra" not in body["metadata"]
    words = body["results"]["channels"][0]["alternatives"][0]["words"]
    assert [w["punctuated_word"] for w in words] == ["Hello,", "world."]
    assert [w["word"] for w in words] == ["hello", "world"]
    assert set(words[0]) == {"word", "start", "end", "confidence", "punctuated_word"}


def test_same_keys_as_the_golden_minimal_response(http: TestClient) -> None:
    golden = json.loads((EXAMPLES / "rest-response-minimal.json").read_text())
    body = http.post("/v1/listen", content=wav_bytes(np.zeros(16000, np.int16), 16000), headers=AUTH).json()
    assert set(body["metadata"]) == set(golden["metadata"])
    assert body["results"] == golden["results"]


def test_multichannel_gives_one_entry_per_channel(http: TestClient) -> None:
    body = http.post("/v1/listen?multichannel=true", content=speech(channels=3), headers=AUTH).json()
    assert body["metadata"]["channels"] == 3
    assert [c["alternatives"][0]["transcript"] for c in body["results"]["channels"]] == ["hello world"] * 3


def test_language_other_than_english_is_refused_for_an_english_model(http: TestClient) -> None:
    response = http.post("/v1/listen?language=fr", content=speech(), headers=AUTH)
    assert response.status_code == 400
    assert "English-only" in response.json()["err_msg"]


def test_detect_language_reports_english(http: TestClient) -> None:
    channel = http.post("/v1/listen?detect_language=true", content=speech(), headers=AUTH).json()["results"][
        "channels"
    ][0]
    assert channel["detected_language"] == "en" and channel["language_confidence"] == 1.0


def test_models_list_parses_as_the_sdk_model(http: TestClient) -> None:
    response = http.get("/v1/models", headers=AUTH)
    models = ListModelsV1Response.model_validate(response.json())
    names = [m.name for m in models.stt or []]
    assert names[:2] == ["nova-3", "nova-2"] and "whisper" in names
    one = http.get("/v1/models/nova-3", headers=AUTH)
    assert one.json()["name"] == "nova-3"
    missing = http.get("/v1/models/nope", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["err_code"] == "NOT_FOUND"


def test_grant_then_bearer(http: TestClient) -> None:
    grant = http.post("/v1/auth/grant", json={"ttl_seconds": 60}, headers=AUTH)
    assert grant.status_code == 200 and grant.json()["expires_in"] == 60
    token = grant.json()["access_token"]
    response = http.post("/v1/listen", content=speech(), headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200
    assert http.post("/v1/auth/grant", json={"ttl_seconds": 0}, headers=AUTH).status_code == 400
    # A token cannot grant tokens (it would outlive itself): 403, Deepgram's permissions error (spec §6.1).
    regrant = http.post("/v1/auth/grant", headers={"Authorization": f"Bearer {token}"})
    assert regrant.status_code == 403
    assert regrant.json()["err_code"] == "FORBIDDEN" and regrant.json()["err_msg"] == "Insufficient permissions."


def test_unknown_route_and_method_use_the_error_shape(http: TestClient) -> None:
    assert set(http.get("/v2/nothing").json()) == {"err_code", "err_msg", "request_id"}
    assert http.get("/v1/listen", headers=AUTH).status_code == 405


def test_errors_after_errors_keep_serving(http: TestClient) -> None:
    for body in (b"", b"garbage" * 100, b"RIFF"):
        assert http.post("/v1/listen", content=body, headers=AUTH).status_code == 400
    assert http.post("/v1/listen", content=speech(), headers=AUTH).status_code == 200


def test_oversize_content_length_is_413(http: TestClient) -> None:
    response = http.post("/v1/listen", content=bytes(1_000_001), headers=AUTH)
    assert response.status_code == 413 and response.json()["err_code"] == "PAYLOAD_TOO_LARGE"


def test_openapi_schema_is_served(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    assert "/v1/listen" in schema["paths"]


def test_audio_longer_than_the_limit_is_413() -> None:
    settings = Settings(api_keys=[KEY], max_audio_duration_s=5)
    http = TestClient(create_app(engine=fake_engine(settings)))
    long_silence = wav_bytes(np.zeros(16000 * 6, np.int16), 16000)
    response = http.post("/v1/listen", content=long_silence, headers=AUTH)
    assert response.status_code == 413 and "5 s" in response.json()["err_msg"]
    raw = http.post("/v1/listen?encoding=linear16&sample_rate=8000", content=bytes(8000 * 2 * 6), headers=AUTH)
    assert raw.status_code == 413
    assert http.post("/v1/listen", content=speech(4.0), headers=AUTH).status_code == 200
