from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openlisten.errors import StoreError
from openlisten.jobs.store import MAX_CLAIMS, ApiKey, JobState, NewJob, SqliteStore, open_store


def new_job(request_id: str = "r1", **changes: object) -> NewJob:
    fields: dict[str, object] = {
        "request_id": request_id,
        "key_id": "k1",
        "query": (("model", "nova-3"), ("callback", "https://h/cb")),
        "callback_url": "https://h/cb",
        "callback_method": "POST",
        "audio": b"RIFF...",
    }
    fields.update(changes)
    return NewJob(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return open_store(tmp_path / "data")


def test_file_store_is_private_and_in_wal_mode(tmp_path: Path, store: SqliteStore) -> None:
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_job_from_acceptance_to_delivery(store: SqliteStore) -> None:
    store.add_job(new_job(), now=100.0)
    assert store.pending_jobs() == 1 and store.next_due_at() == 100.0
    assert store.claim_job(now=99.0) is None  # not due yet
    job = store.claim_job(now=100.0)
    assert job is not None and job.audio == b"RIFF..." and job.result is None and job.attempts == 0
    assert job.query == (("model", "nova-3"), ("callback", "https://h/cb"))
    assert store.claim_job(now=100.0) is None  # running jobs are not claimed twice
    store.save_result("r1", b'{"metadata": {}}')
    store.attempt_failed("r1", "HTTP 500", retry_at=110.0, now=101.0)
    [status] = store.list_jobs()
    assert (status.state, status.attempts, status.last_error) == (JobState.QUEUED, 1, "HTTP 500")
    again = store.claim_job(now=110.0)
    assert again is not None and again.result == b'{"metadata": {}}' and again.audio is None and again.attempts == 1
    store.delivered("r1", now=111.0)
    [status] = store.list_jobs()
    assert (status.state, status.attempts, status.last_error) == (JobState.DELIVERED, 2, None)
    assert store.pending_jobs() == 0 and store.next_due_at() is None


def test_out_of_attempts_is_failed(store: SqliteStore) -> None:
    store.add_job(new_job(), now=1.0)
    assert store.claim_job(now=1.0)
    store.attempt_failed("r1", "connection refused", retry_at=None, now=2.0)
    assert store.list_jobs(state=JobState.FAILED)[0].last_error == "connection refused"
    assert store.claim_job(now=1e12) is None


def test_jobs_left_running_survive_a_reopen(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    first.add_job(new_job("a"), now=1.0)
    first.add_job(new_job("b", audio=None, audio_url="https://h/a.wav"), now=2.0)
    assert first.claim_job(now=5.0) is not None  # "a" is in flight when the process dies
    del first
    second = open_store(tmp_path)
    assert second.recover_jobs() == 1
    claimed = [second.claim_job(now=5.0), second.claim_job(now=5.0)]
    assert [(j.request_id, j.audio_url) for j in claimed if j] == [("a", None), ("b", "https://h/a.wav")]


def test_a_job_that_keeps_killing_the_server_is_given_up(store: SqliteStore) -> None:
    store.add_job(new_job(), now=1.0)
    for _ in range(MAX_CLAIMS):
        assert store.claim_job(now=1.0) is not None
        store.recover_jobs()
    [status] = store.list_jobs()
    assert status.state is JobState.FAILED and "stopped while running it" in (status.last_error or "")


def test_keys_by_digest_and_revocation(store: SqliteStore) -> None:
    key = ApiKey("id1", "ci", frozenset({"transcribe", "grant"}), created_at=1.0)
    store.add_key(key, b"d" * 32)
    assert store.find_key(b"d" * 32) == key
    assert store.find_key(b"x" * 32) is None
    assert store.revoke_key("id1", now=2.0) and not store.revoke_key("id1", now=3.0)
    assert store.find_key(b"d" * 32) is None
    assert store.get_key("id1") == ApiKey("id1", "ci", frozenset({"transcribe", "grant"}), 1.0, revoked_at=2.0)
    assert [k.key_id for k in store.list_keys()] == ["id1"]


def test_secrets_are_made_once_and_kept(tmp_path: Path) -> None:
    secret = open_store(tmp_path).secret("token-signing")
    assert len(secret) == 32
    assert open_store(tmp_path).secret("token-signing") == secret
    assert open_store(tmp_path).secret("other") != secret


def test_sqlite_errors_become_store_errors(tmp_path: Path, store: SqliteStore) -> None:
    store.add_job(new_job(), now=1.0)
    with pytest.raises(StoreError):
        store.add_job(new_job(), now=1.0)  # the same request id twice
    store.close()
    with pytest.raises(StoreError):
        store.pending_jobs()
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError):
        open_store(tmp_path / "file" / "data")


def test_in_memory_store_works_without_a_data_dir() -> None:
    store = open_store(None)
    store.add_job(new_job(), now=1.0)
    assert store.pending_jobs() == 1
