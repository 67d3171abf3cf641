"""Keys from the store with scopes, and temporary tokens: expiry, forgery, revocation, restarts (spec §6.1)."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from openlisten.api.app import create_app
from openlisten.api.auth import GRANT, KEYS, TRANSCRIBE, Authenticator, create_key
from openlisten.config import Settings
from openlisten.engine.fake import FakeRecognizer
from openlisten.errors import AuthError, PermissionDenied
from openlisten.jobs.store import SqliteStore, open_store
from openlisten.transcriber import Transcriber
from tests.api.test_routes import AUTH, KEY, tone

FORBIDDEN = {"err_code": "FORBIDDEN", "err_msg": "Insufficient permissions."}


def app_on(data_dir: Path, **settings: object) -> TestClient:
    config = Settings(**({"api_keys": [KEY], "data_dir": data_dir} | settings))  # type: ignore[arg-type]
    fake = FakeRecognizer()
    return TestClient(create_app(config, transcriber=Transcriber(config, recognizer_for=lambda spec: fake)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"bearer {token}"}


def token_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return open_store(tmp_path)


def listen(http: TestClient, headers: dict[str, str]) -> int:
    return http.post("/v1/listen", content=tone(0.3), headers=headers).status_code


def test_scopes_decide_what_a_key_may_do(tmp_path: Path, store: SqliteStore) -> None:
    transcriber_key, _ = create_key(store, "app", [TRANSCRIBE])
    granter_key, _ = create_key(store, "token service", [GRANT])
    http = app_on(tmp_path)
    assert listen(http, token_key(transcriber_key)) == 200
    refused = http.post("/v1/auth/grant", headers=token_key(transcriber_key))
    assert refused.status_code == 403 and refused.json().items() >= FORBIDDEN.items()
    assert listen(http, token_key(granter_key)) == 403
    token = http.post("/v1/auth/grant", headers=token_key(granter_key)).json()["access_token"]
    assert listen(http, bearer(token)) == 200  # a token may transcribe whatever its key may do
    assert http.post("/v1/auth/grant", headers=bearer(token)).status_code == 403
    assert http.get("/v1/models", headers=token_key(granter_key)).status_code == 200


def test_keys_given_to_the_server_hold_every_scope(tmp_path: Path) -> None:
    http = app_on(tmp_path)
    assert listen(http, AUTH) == 200
    assert http.post("/v1/auth/grant", headers=AUTH).status_code == 200
    assert Authenticator(Settings(api_keys=[KEY])).authenticate(AUTH["Authorization"]).scopes == {
        TRANSCRIBE,
        GRANT,
        KEYS,
    }


def test_revoking_a_key_ends_it_and_its_tokens_at_once(tmp_path: Path, store: SqliteStore) -> None:
    key, record = create_key(store, "", [TRANSCRIBE, GRANT])
    http = app_on(tmp_path)
    token = http.post("/v1/auth/grant", headers=token_key(key), json={"ttl_seconds": 600}).json()["access_token"]
    assert listen(http, bearer(token)) == 200
    assert store.revoke_key(record.key_id, time.time())  # as `openlisten keys revoke` does, beside the server
    assert listen(http, token_key(key)) == 401
    assert listen(http, bearer(token)) == 401


def test_tokens_survive_a_restart_with_the_same_data_dir(tmp_path: Path) -> None:
    token = app_on(tmp_path).post("/v1/auth/grant", headers=AUTH).json()["access_token"]
    assert listen(app_on(tmp_path), bearer(token)) == 200
    assert listen(app_on(tmp_path / "elsewhere"), bearer(token)) == 401
    # An explicit secret wins over the stored one.
    explicit = app_on(tmp_path, token_secret="s" * 32)
    assert listen(explicit, bearer(token)) == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": -1},  # expired
        {"exp": 600, "secret": "not-the-secret-" * 3},  # forged: signed with another secret
        {"exp": 600, "sub": "someone-else"},  # names no key
        {"exp": 600, "sub": "anonymous"},  # a token from a --no-auth run
        {"exp": 600, "alg": "none"},  # unsigned
        {},  # no expiry at all
    ],
)
def test_bad_tokens_are_401(tmp_path: Path, claims: dict[str, object]) -> None:
    http = app_on(tmp_path, token_secret="s" * 32)
    key_id = Authenticator(Settings(api_keys=[KEY])).authenticate(AUTH["Authorization"]).key_id
    payload: dict[str, object] = {"sub": claims.get("sub", key_id)}
    if "exp" in claims:
        payload["exp"] = time.time() + float(claims["exp"])  # type: ignore[arg-type]
    algorithm = str(claims.get("alg", "HS256"))
    secret = str(claims.get("secret", "s" * 32)) if algorithm != "none" else None
    token = jwt.encode(payload, secret, algorithm=algorithm)  # type: ignore[arg-type]
    response = http.post("/v1/listen", content=tone(0.3), headers=bearer(token))
    assert response.status_code == 401 and response.json()["err_code"] == "INVALID_AUTH"


def test_a_token_expires(tmp_path: Path) -> None:
    http = app_on(tmp_path)
    token = http.post("/v1/auth/grant", headers=AUTH, json={"ttl_seconds": 1}).json()["access_token"]
    assert listen(http, bearer(token)) == 200
    time.sleep(1.1)
    assert listen(http, bearer(token)) == 401


def test_authenticate_with_a_scope_for_the_websocket_handshake(store: SqliteStore) -> None:
    key, _ = create_key(store, "", [GRANT])
    auth = Authenticator(Settings(), store)
    assert auth.authenticate(f"Token {key}", GRANT).key_id
    with pytest.raises(PermissionDenied):
        auth.authenticate(f"token {key}", TRANSCRIBE)
    with pytest.raises(PermissionDenied):
        auth.authenticate_subprotocols(["token", key], TRANSCRIBE)
    token, _ = auth.grant(auth.authenticate(f"Token {key}"), 60)
    assert auth.authenticate(f"Bearer {token}", TRANSCRIBE).via_token
    with pytest.raises(AuthError):
        auth.authenticate(f"Token {token}", TRANSCRIBE)  # a token is not a key


def test_create_key_refuses_unknown_scopes(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="scopes"):
        create_key(store, "", ["admin"])
    with pytest.raises(ValueError, match="scopes"):
        create_key(store, "", [])
