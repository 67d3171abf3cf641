"""Keys from the store with scopes, and temporary tokens: expiry, forgery, revocation, restarts (spec §6.1)."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from openlisten.api.app import create_app
from openlisten.auth import GRANT, KEYS, TRANSCRIBE, Authenticator, create_key
from openlisten.config import Settings
from openlisten.errors import AuthError, InvalidParameter, PermissionDenied
from openlisten.jobs.sql_store import SqlStore
from openlisten.jobs.store import open_store
from tests.api.test_routes import AUTH, KEY
from tests.conftest import fake_engine, speech

FORBIDDEN = {"err_code": "FORBIDDEN", "err_msg": "Insufficient permissions."}


def app_on(data_dir: Path, **settings: object) -> TestClient:
    config = Settings(**({"api_keys": [KEY], "data_dir": data_dir} | settings))  # type: ignore[arg-type]
    return TestClient(create_app(engine=fake_engine(config)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"bearer {token}"}


def token_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    return open_store(tmp_path)


def listen(http: TestClient, headers: dict[str, str]) -> int:
    return http.post("/v1/listen", content=speech(0.3), headers=headers).status_code


def test_scopes_decide_what_a_key_may_do(tmp_path: Path, store: SqlStore) -> None:
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


def test_revoking_a_key_ends_it_and_its_tokens_at_once(tmp_path: Path, store: SqlStore) -> None:
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
    response = http.post("/v1/listen", content=speech(0.3), headers=bearer(token))
    assert response.status_code == 401 and response.json()["err_code"] == "INVALID_AUTH"


def test_a_token_expires(tmp_path: Path) -> None:
    http = app_on(tmp_path)
    token = http.post("/v1/auth/grant", headers=AUTH, json={"ttl_seconds": 1}).json()["access_token"]
    assert listen(http, bearer(token)) == 200
    time.sleep(1.1)
    assert listen(http, bearer(token)) == 401


def test_authenticate_with_a_scope_for_the_websocket_handshake(store: SqlStore) -> None:
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


def test_create_key_scopes_and_deepgram_roles(store: SqlStore) -> None:
    with pytest.raises(InvalidParameter, match="scopes"):
        create_key(store, "", ["usage:write"])
    with pytest.raises(InvalidParameter, match="scopes"):
        create_key(store, "", [])
    assert create_key(store, "", ["member"])[1].scopes == {TRANSCRIBE, GRANT}
    assert create_key(store, "", ["admin"])[1].scopes == {TRANSCRIBE, GRANT, KEYS}


def test_a_key_creates_keys_with_no_more_than_its_scopes(store: SqlStore) -> None:
    with pytest.raises(PermissionDenied, match="lacks grant, transcribe"):
        create_key(store, "", ["owner"], within=frozenset({KEYS}))
    assert create_key(store, "", ["keys"], within=frozenset({KEYS}))[1].scopes == {KEYS}


# The SDK passes a timeout to every request; the TestClient warns that it ignores it.
@pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")
def test_key_management_through_the_sdk(tmp_path: Path) -> None:
    """``client.manage.v1.projects.keys`` against the app: create, list, get, use, delete."""
    from deepgram import DeepgramClient
    from deepgram.environment import DeepgramClientEnvironment

    http = app_on(tmp_path)
    env = DeepgramClientEnvironment(
        base="http://testserver", production="ws://x", agent="ws://x", agent_rest="http://x"
    )
    admin = DeepgramClient(api_key=KEY, environment=env, httpx_client=http, max_retries=0)  # type: ignore[arg-type]
    keys = admin.manage.v1.projects.keys
    created = keys.create("local", request={"comment": "web app", "scopes": ["member"]})
    assert created.key and created.api_key_id and set(created.scopes or []) == {GRANT, TRANSCRIBE}
    assert listen(http, token_key(created.key)) == 200
    listed = keys.list("local")
    assert [(k.api_key.api_key_id, k.api_key.comment) for k in listed.api_keys or [] if k.api_key] == [
        (created.api_key_id, "web app")
    ]
    assert created.key not in http.get("/v1/projects/local/keys", headers=AUTH).text
    got = keys.get("local", created.api_key_id)
    assert got.item and got.item.member and got.item.member.api_key
    assert got.item.member.api_key.api_key_id == created.api_key_id
    assert keys.delete("local", created.api_key_id).message == "API key deleted"
    assert listen(http, token_key(created.key)) == 401
    assert http.get(f"/v1/projects/local/keys/{created.api_key_id}", headers=AUTH).status_code == 404
    assert http.delete(f"/v1/projects/local/keys/{created.api_key_id}", headers=AUTH).status_code == 404


def test_managing_keys_needs_the_keys_scope(tmp_path: Path, store: SqlStore) -> None:
    member, _ = create_key(store, "", ["member"])
    http = app_on(tmp_path)
    token = http.post("/v1/auth/grant", headers=AUTH).json()["access_token"]
    for headers in (token_key(member), bearer(token)):
        response = http.get("/v1/projects/p/keys", headers=headers)
        assert response.status_code == 403 and response.json().items() >= FORBIDDEN.items()
    expiring = http.post(
        "/v1/projects/p/keys",
        json={"comment": "", "scopes": ["transcribe"], "time_to_live_in_seconds": 60},
        headers=AUTH,
    )
    assert expiring.status_code == 400 and expiring.json()["err_code"] == "UNSUPPORTED_FEATURE"
    unknown = http.post("/v1/projects/p/keys", json={"comment": "", "scopes": ["usage:write"]}, headers=AUTH)
    assert unknown.status_code == 400 and "scopes" in unknown.json()["err_msg"]
