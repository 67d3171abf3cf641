from __future__ import annotations

import concurrent.futures
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openlisten.errors import StoreError
from openlisten.jobs.postgres_store import PostgresStore
from openlisten.jobs.sql_store import SqlStore
from openlisten.jobs.sqlite_store import SqliteStore
from openlisten.jobs.store import MAX_CLAIMS, ApiKey, JobState, NewJob, open_store


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


@pytest.fixture(params=["sqlite", "postgres"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], SqlStore]:
    """Opens the same store again, as a restarted server (SQLite) or another replica (PostgreSQL) would."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return lambda: open_store(None, url)
    return lambda: open_store(tmp_path / "data")


@pytest.fixture
def store(reopen: Callable[[], SqlStore]) -> Iterator[SqlStore]:
    opened = reopen()
    yield opened
    opened.close()


def test_file_store_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    assert isinstance(store, SqliteStore)
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_database_url_opens_postgres(postgres_url: str) -> None:
    store = open_store(Path("/nonexistent"), postgres_url)
    assert isinstance(store, PostgresStore)
    store.close()


def test_a_job_from_acceptance_to_delivery(store: SqlStore) -> None:
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


def test_out_of_attempts_is_failed(store: SqlStore) -> None:
    store.add_job(new_job(), now=1.0)
    assert store.claim_job(now=1.0)
    store.attempt_failed("r1", "connection refused", retry_at=None, now=2.0)
    assert store.list_jobs(state=JobState.FAILED)[0].last_error == "connection refused"
    assert store.claim_job(now=1e12) is None


def test_jobs_left_running_by_a_dead_server_are_resumed(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    first.add_job(new_job("a"), now=1.0)
    first.add_job(new_job("b", audio=None, audio_url="https://h/a.wav"), now=2.0)
    assert first.claim_job(now=5.0) is not None  # "a" is in flight when the process dies
    del first
    second = open_store(tmp_path)
    assert second.recover_jobs(now=6.0) == 1  # SQLite has one server: "a" was its own, its lease ends now
    claimed = [second.claim_job(now=6.0), second.claim_job(now=6.0)]
    assert [(j.request_id, j.audio_url) for j in claimed if j] == [("a", None), ("b", "https://h/a.wav")]


def test_a_replica_resumes_a_dead_replicas_job_when_its_lease_runs_out(reopen: Callable[[], SqlStore]) -> None:
    first, second = reopen(), reopen()
    first.add_job(new_job("a"), now=1.0)
    first.add_job(new_job("b"), now=2.0)
    assert (job := first.claim_job(now=5.0, lease_s=30.0)) is not None and job.request_id == "a"
    assert (job := second.claim_job(now=5.0, lease_s=30.0)) is not None and job.request_id == "b"
    assert second.claim_job(now=20.0) is None  # both leased
    first.renew_leases(["a"], until=50.0)  # "a"'s worker is alive; "b"'s dies
    assert second.next_due_at() == 35.0
    assert (job := first.claim_job(now=35.0, lease_s=30.0)) is not None and job.request_id == "b"
    assert job.audio == b"RIFF..."
    assert first.claim_job(now=49.0) is None
    first.delivered("b", now=40.0)
    first.renew_leases(["b"], until=1e9)  # a finished job is not leased again
    assert [s.state for s in second.list_jobs()] == [JobState.DELIVERED, JobState.RUNNING]
    first.close()
    second.close()


def test_concurrent_claims_never_take_the_same_job(reopen: Callable[[], SqlStore]) -> None:
    stores = [reopen() for _ in range(4)]
    for index in range(40):
        stores[0].add_job(new_job(f"r{index:02d}"), now=float(index))

    def claim_all(store: SqlStore) -> list[str]:
        taken = []
        while (job := store.claim_job(now=100.0)) is not None:
            taken.append(job.request_id)
        return taken

    with concurrent.futures.ThreadPoolExecutor(len(stores)) as pool:
        claimed = [rid for taken in pool.map(claim_all, stores) for rid in taken]
    assert sorted(claimed) == [f"r{index:02d}" for index in range(40)]
    for store in stores:
        store.close()


def test_a_job_that_keeps_killing_the_server_is_given_up(store: SqlStore) -> None:
    store.add_job(new_job(), now=1.0)
    for claim in range(MAX_CLAIMS):
        assert store.claim_job(now=10.0 * (claim + 1), lease_s=5.0) is not None  # claimed; its lease runs out
    assert store.claim_job(now=10.0 * (MAX_CLAIMS + 1)) is None
    [status] = store.list_jobs()
    assert status.state is JobState.FAILED and "stopped while running it" in (status.last_error or "")


def test_keys_by_digest_and_revocation(store: SqlStore) -> None:
    key = ApiKey("id1", "ci", frozenset({"transcribe", "grant"}), created_at=1.0)
    store.add_key(key, b"d" * 32)
    assert store.find_key(b"d" * 32) == key
    assert store.find_key(b"x" * 32) is None
    assert store.revoke_key("id1", now=2.0) and not store.revoke_key("id1", now=3.0)
    assert store.find_key(b"d" * 32) is None
    assert store.get_key("id1") == ApiKey("id1", "ci", frozenset({"transcribe", "grant"}), 1.0, revoked_at=2.0)
    assert [k.key_id for k in store.list_keys()] == ["id1"]


def test_secrets_are_made_once_and_kept(reopen: Callable[[], SqlStore]) -> None:
    first, second = reopen(), reopen()
    secret = first.secret("token-signing")
    assert len(secret) == 32
    assert second.secret("token-signing") == secret
    assert second.secret("other") != secret
    first.close()
    second.close()


def test_database_errors_become_store_errors(store: SqlStore) -> None:
    store.add_job(new_job(), now=1.0)
    with pytest.raises(StoreError):
        store.add_job(new_job(), now=1.0)  # the same request id twice
    assert store.pending_jobs() == 1  # and the store still works


def test_sqlite_errors_become_store_errors(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    store.add_job(new_job(), now=1.0)
    with pytest.raises(StoreError):
        store.add_job(new_job(), now=1.0)  # the same request id twice
    store.close()
    with pytest.raises(StoreError):
        store.pending_jobs()
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError):
        open_store(tmp_path / "file" / "data")


def test_an_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="job store failed") as caught:
        open_store(None, "postgresql://someone:hunter2@127.0.0.1:1/nothing?connect_timeout=2")
    assert "hunter2" not in str(caught.value)


def test_a_sqlite_file_from_before_leases_is_upgraded(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "openlisten.db")
    old.execute(
        "CREATE TABLE jobs (request_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, query TEXT NOT NULL,"
        " callback_url TEXT NOT NULL, callback_method TEXT NOT NULL, audio BLOB, audio_url TEXT, result BLOB,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, claims INTEGER NOT NULL DEFAULT 0,"
        " created_at REAL NOT NULL, updated_at REAL NOT NULL, next_attempt_at REAL NOT NULL, last_error TEXT)"
    )
    old.execute(
        "INSERT INTO jobs VALUES ('r1', 'k', '[]', 'https://h/cb', 'POST', x'00', NULL, NULL, 'queued', 0, 0,"
        " 1, 1, 1, NULL)"
    )
    old.commit()
    old.close()
    store = open_store(tmp_path)
    assert (job := store.claim_job(now=2.0)) is not None and job.request_id == "r1"


def test_in_memory_store_works_without_a_data_dir() -> None:
    store = open_store(None)
    store.add_job(new_job(), now=1.0)
    assert store.pending_jobs() == 1


def test_replicas_are_announced_and_forgotten(reopen: Callable[[], SqlStore]) -> None:
    first, second = reopen(), reopen()
    first.announce_replica("a", "http://10.0.0.1:9000/metrics", now=10.0)
    second.announce_replica("b", "http://10.0.0.2:9000/metrics", now=10.0)
    first.announce_replica("a", "http://10.0.0.1:9001/metrics", now=20.0)  # refreshed, moved
    assert second.live_replicas(seen_since=5.0) == [
        ("a", "http://10.0.0.1:9001/metrics"),
        ("b", "http://10.0.0.2:9000/metrics"),
    ]
    assert first.live_replicas(seen_since=15.0) == [("a", "http://10.0.0.1:9001/metrics")]  # b went silent
    first.forget_replica("a")
    assert second.live_replicas(seen_since=0.0) == []
    first.close()
    second.close()
