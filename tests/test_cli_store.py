"""``openlisten keys`` and ``openlisten jobs`` (click's CliRunner, a temporary data directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from openlisten.auth import Authenticator
from openlisten.cli import main
from openlisten.config import Settings
from openlisten.errors import AuthError
from openlisten.jobs.store import NewJob, open_store


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = str(tmp_path)
    key = run("keys", "create", "--data-dir", data, "--name", "ci bot", "--scope", "transcribe", "--scope", "grant")
    key = key.strip()
    assert len(key) == 40 and all(c in "0123456789abcdef" for c in key)
    auth = Authenticator(Settings(), open_store(tmp_path))
    principal = auth.authenticate(f"Token {key}")
    assert principal.scopes == {"transcribe", "grant"}
    listed = run("keys", "list", "--data-dir", data)
    assert principal.key_id in listed and "grant,transcribe" in listed and "ci bot" in listed
    assert key not in listed
    run("keys", "revoke", "--data-dir", data, principal.key_id)
    with pytest.raises(AuthError):
        auth.authenticate(f"Token {key}")
    assert "revoked" in run("keys", "list", "--data-dir", data)
    again = CliRunner().invoke(main, ["keys", "revoke", "--data-dir", data, principal.key_id])
    assert again.exit_code == 1 and "no active key" in again.output


def test_default_scope_is_transcribe_and_env_names_the_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLISTEN_DATA_DIR", str(tmp_path))
    key = run("keys", "create").strip()
    assert Authenticator(Settings(), open_store(tmp_path)).authenticate(f"Token {key}").scopes == {"transcribe"}


def test_without_a_data_dir_the_commands_say_so() -> None:
    result = CliRunner().invoke(main, ["jobs"])
    assert result.exit_code == 2 and "--data-dir" in result.output


def test_jobs_lists_states_without_credentials(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    for request_id in ("a", "b"):
        url = "https://bob:hunter2@hooks.example.com/cb"
        store.add_job(NewJob(request_id, "key1", (), url, "PUT", audio=b"x"), now=float(ord(request_id)))
    store.claim_job(now=1000.0)
    store.attempt_failed("a", "hooks.example.com answered HTTP 502", retry_at=2000.0, now=1000.0)
    text = run("jobs", "--data-dir", str(tmp_path))
    lines = text.splitlines()
    assert lines[0].startswith("b  queued") and "attempts=0" in lines[0]
    assert lines[1].startswith("a  queued") and "attempts=1" in lines[1]
    assert "HTTP 502" in text and "next attempt" in text
    assert "hunter2" not in text and "PUT https://hooks.example.com/cb" in text
    records = [
        json.loads(line)
        for line in run("jobs", "--data-dir", str(tmp_path), "--json", "--state", "queued").splitlines()
    ]
    assert [r["request_id"] for r in records] == ["b", "a"]
    assert records[1]["attempts"] == 1 and "hunter2" not in records[1]["callback_url"]
    assert run("jobs", "--data-dir", str(tmp_path), "--state", "delivered") == ""
