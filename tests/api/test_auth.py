from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from openlisten.auth import Authenticator
from openlisten.config import Settings
from openlisten.errors import AuthError


def authenticator(**settings: object) -> Authenticator:
    return Authenticator(Settings(**settings))  # type: ignore[arg-type]


def test_token_scheme_any_case() -> None:
    auth = authenticator(api_keys=["k1", "k2"])
    assert auth.authenticate("Token k1").key_id == auth.authenticate("token k1").key_id
    assert auth.authenticate("TOKEN k2").key_id != auth.authenticate("Token k1").key_id


@pytest.mark.parametrize("header", [None, "", "Token", "Token wrong", "Basic k1", "k1", "Bearer k1"])
def test_bad_credentials(header: str | None) -> None:
    with pytest.raises(AuthError):
        authenticator(api_keys=["k1"]).authenticate(header)


def test_keys_are_not_kept_in_plain_text() -> None:
    auth = authenticator(api_keys=["super-secret-key"])
    assert "super-secret-key" not in repr(vars(auth))


def test_keys_file_with_plain_and_hashed_entries(tmp_path: Path) -> None:
    import hashlib

    keys = tmp_path / "keys"
    keys.write_text(f"# comment\nplain-key\nsha256:{hashlib.sha256(b'hashed-key').hexdigest()}  # ops\n")
    auth = authenticator(api_keys_file=keys)
    auth.authenticate("Token plain-key")
    auth.authenticate("Token hashed-key")
    with pytest.raises(AuthError):
        auth.authenticate("Token sha256")


def test_env_keys_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLISTEN_API_KEYS", "a, b")
    settings = Settings()
    assert [k.get_secret_value() for k in settings.api_keys] == ["a", "b"]
    assert isinstance(settings.api_keys[0], SecretStr)


def test_granted_token_works_as_bearer_until_it_expires() -> None:
    auth = authenticator(api_keys=["k1"], token_secret="s" * 32)
    principal = auth.authenticate("Token k1")
    token, ttl = auth.grant(principal, None)
    assert ttl == 30
    assert auth.authenticate(f"bearer {token}").via_token
    expired = jwt.encode({"sub": principal.key_id, "exp": time.time() - 1}, "s" * 32, algorithm="HS256")
    with pytest.raises(AuthError):
        auth.authenticate(f"Bearer {expired}")


def test_forged_token_is_refused() -> None:
    auth = authenticator(api_keys=["k1"], token_secret="s" * 32)
    principal = auth.authenticate("Token k1")
    forged = jwt.encode({"sub": principal.key_id, "exp": time.time() + 60}, "other" * 8, algorithm="HS256")
    with pytest.raises(AuthError):
        auth.authenticate(f"Bearer {forged}")


def test_token_of_a_removed_key_is_refused() -> None:
    before = authenticator(api_keys=["k1"], token_secret="s" * 32)
    token, _ = before.grant(before.authenticate("Token k1"), 60)
    after = authenticator(api_keys=["k2"], token_secret="s" * 32)
    with pytest.raises(AuthError):
        after.authenticate(f"Bearer {token}")


def test_ttl_is_capped() -> None:
    auth = authenticator(api_keys=["k1"])
    assert auth.grant(auth.authenticate("Token k1"), 10_000)[1] == 3600


def test_browser_subprotocol_auth() -> None:
    auth = authenticator(api_keys=["k1"])
    result = auth.authenticate_subprotocols(["token", "k1"])
    assert result is not None and result[1] == "token"
    assert auth.authenticate_subprotocols(["chat"]) is None
    with pytest.raises(AuthError):
        auth.authenticate_subprotocols(["token", "nope"])


def test_no_auth_mode_accepts_anything() -> None:
    assert authenticator(no_auth=True).authenticate(None).key_id == "anonymous"
