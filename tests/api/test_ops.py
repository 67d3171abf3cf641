"""``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from openlisten.api.app import create_app
from openlisten.api.replica_metrics import ReplicaMetrics
from openlisten.config import Settings
from tests.api.test_routes import AUTH, KEY
from tests.conftest import fake_engine, speech


def app_with(**settings: object) -> TestClient:
    config = Settings(**({"api_keys": [KEY], "shutdown_grace_s": 1} | settings))  # type: ignore[arg-type]
    return TestClient(create_app(engine=fake_engine(config)))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_health_needs_no_key_and_ready_follows_the_model() -> None:
    http = app_with()
    assert http.get("/healthz").json() == {"status": "ok"}
    loading = http.get("/readyz")  # no lifespan yet: the model was never loaded
    assert loading.status_code == 503 and loading.json()["status"] == "loading"
    with http:
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() | {"scheduler_queue_depth": 0} == {
            "ready": True,
            "status": "ready",
            "model": "tiny.en",
            "model_loaded": True,
            "model_error": None,
            "scheduler_queue_depth": 0,
            "callback_queue_depth": 0,
        }


def test_a_model_that_cannot_load_is_not_ready(tmp_path: Path) -> None:
    config = Settings(api_keys=[KEY], model=str(tmp_path / "nope"))
    with TestClient(create_app(config)) as http:
        deadline = time.monotonic() + 60  # the failed load is reported whenever the loading thread gets to it
        while (body := http.get("/readyz").json())["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert body["status"] == "model_error" and "could not load model" in body["model_error"]


def test_draining_is_not_ready_and_refuses_new_requests() -> None:
    with app_with() as http:
        services = http.app.state.services  # type: ignore[attr-defined]
        http.portal.call(services.lifecycle.drain, 1.0)  # type: ignore[union-attr]
        assert http.get("/readyz").json()["status"] == "draining"
        refused = http.post("/v1/listen", content=speech(), headers=AUTH)
        assert refused.status_code == 503 and refused.json()["err_code"] == "SERVICE_UNAVAILABLE"


def test_drain_runs_hooks_and_cuts_off_what_overstays() -> None:
    from openlisten.api.lifecycle import Lifecycle

    finished: list[str] = []

    async def quick() -> None:
        finished.append("quick")

    async def slow() -> None:
        await asyncio.sleep(10)
        finished.append("slow")

    async def go() -> None:
        life = Lifecycle()
        life.on_drain(quick)
        life.on_drain(slow)
        remove = life.on_drain(slow)
        remove()
        await life.drain(0.2)
        assert life.draining and not life.ready

    asyncio.run(go())
    assert finished == ["quick"]


def test_metrics_count_requests_errors_and_audio() -> None:
    with app_with() as http:
        assert http.post("/v1/listen", content=speech(2.0), headers=AUTH).status_code == 200
        assert http.post("/v1/listen", content=speech(), headers={"Authorization": "Token wrong"}).status_code == 401
        assert http.get("/v1/models/nope", headers=AUTH).status_code == 404
        response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    listen = ("method", "POST"), ("route", "/v1/listen")
    assert found["openlisten_http_requests_total", (*listen, ("status", "200"))] == 1
    assert found["openlisten_http_requests_total", (*listen, ("status", "401"))] == 1
    errors = "openlisten_http_errors_total"
    assert found[errors, (("err_code", "INVALID_AUTH"), ("route", "/v1/listen"), ("status", "401"))] == 1
    assert found[errors, (("err_code", "NOT_FOUND"), ("route", "/v1/models/{model_id}"), ("status", "404"))] == 1
    assert found["openlisten_http_request_duration_seconds_count", listen] == 2
    assert found["openlisten_audio_seconds_total", (("source", "rest"),)] == pytest.approx(2.0)
    for gauge in (
        "openlisten_scheduler_queue_depth",
        "openlisten_live_sessions_active",
        "openlisten_http_requests_in_progress",
        "openlisten_callback_queue_depth",
        "openlisten_callback_jobs_running",
    ):
        assert found[gauge, ()] == 0
    assert found["openlisten_model_ready", ()] == 1
    assert found["openlisten_callback_attempts_total", (("outcome", "failed"),)] == 0
    assert KEY not in response.text and "wrong" not in response.text


def test_metrics_can_be_turned_off() -> None:
    with app_with(metrics=False) as http:
        assert http.get("/metrics").status_code == 404


def test_a_405_allows_every_method_of_the_path() -> None:
    http = app_with()
    response = http.delete("/v1/projects/p/keys", headers=AUTH)
    assert response.status_code == 405 and response.json()["err_code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET, POST"  # two routes share the path (schemathesis found it)


def test_a_replica_serves_its_own_labelled_metrics_and_is_listed_as_a_target() -> None:
    """What each replica of ``serve --ray`` does (tests/e2e/test_ray_serve.py runs it on Ray)."""
    http = app_with()
    services = http.app.state.services  # type: ignore[attr-defined]
    assert http.get("/metrics/targets").json() == []  # a server alone: no replicas
    replica = ReplicaMetrics(services, "r-1", "127.0.0.1")
    replica.start()
    try:
        [target] = http.get("/metrics/targets").json()
        assert target["labels"] == {"replica": "r-1", "__metrics_path__": "/metrics"}
        own = httpx.get(f"http://{target['targets'][0]}/metrics").text
        through_the_app = http.get("/metrics").text
        for text in (own, through_the_app):
            labels = [dict(key) for _, key in samples(text)]
            assert labels and all(label.get("replica") == "r-1" for label in labels)
    finally:
        replica.stop()
    assert http.get("/metrics/targets").json() == []
