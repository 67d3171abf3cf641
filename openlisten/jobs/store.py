"""The durable store: callback jobs, API keys and server secrets.

`Store` is the interface, a Protocol, so a server database can stand in for the default
`SqliteStore` (one file in the data directory, WAL mode). Every `sqlite3` error is translated here,
where it enters, into `StoreError` (spec/listen-v1.md §7: a 503 the SDK retries).

A job's life (spec/listen-v1.md §3.3)::

    add_job ─► QUEUED ─claim_job─► RUNNING ─delivered─► DELIVERED
                  ▲                   │
                  └──attempt_failed───┤ (attempts left: back to QUEUED at `next_attempt_at`)
                                      └──attempt_failed─► FAILED (no attempts left)

A crash leaves jobs RUNNING; `recover_jobs` at the next start puts them back in the queue, so every
accepted job is delivered at least once, with its original request id.
"""

from __future__ import annotations

import contextlib
import enum
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from openlisten.errors import StoreError

__all__ = [
    "ApiKey",
    "Job",
    "JobState",
    "JobStatus",
    "JobStore",
    "KeyStore",
    "NewJob",
    "SqliteStore",
    "Store",
    "open_store",
]

#: The file `open_store` keeps in the data directory.
DB_FILENAME = "openlisten.db"
#: A job that was in flight this many times when the server died is given up as poison
#: (for example audio that crashes the decoder), instead of crashing every restart.
MAX_CLAIMS = 5
#: How long a write waits for another process (``openlisten keys`` beside a running server).
_BUSY_TIMEOUT_MS = 5000


class JobState(str, enum.Enum):
    """Where a callback job is in its life."""

    #: Accepted; waiting for its transcription or for its next delivery attempt.
    QUEUED = "queued"
    #: A worker is transcribing or delivering it (or was, when the server died).
    RUNNING = "running"
    #: The callback URL answered 2xx.
    DELIVERED = "delivered"
    #: Every delivery attempt failed; it will not be tried again.
    FAILED = "failed"


@dataclass(frozen=True)
class NewJob:
    """A callback job as accepted, before anything ran."""

    #: The id answered to the client; the delivered transcript carries it as ``metadata.request_id``.
    request_id: str
    #: Id of the key that asked (sent as the ``dg-token`` header).
    key_id: str
    #: The request's query parameters, in order (re-parsed into `ListenOptions` when the job runs).
    query: tuple[tuple[str, str], ...]
    callback_url: str
    callback_method: str
    #: The uploaded audio; None when the job has an `audio_url` instead.
    audio: bytes | None = None
    audio_url: str | None = None


@dataclass(frozen=True)
class Job(NewJob):
    """A claimed job, with what earlier runs left."""

    #: The JSON body to deliver, once transcribed (so a retry does not transcribe again).
    result: bytes | None = None
    #: Delivery attempts made so far.
    attempts: int = 0


@dataclass(frozen=True)
class JobStatus:
    """A job as ``openlisten jobs`` lists it: no audio, no transcript."""

    request_id: str
    key_id: str
    state: JobState
    callback_url: str
    callback_method: str
    attempts: int
    created_at: float
    updated_at: float
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True)
class ApiKey:
    """A key made with ``openlisten keys create``; the key itself is never stored, only its digest."""

    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: float
    revoked_at: float | None = None


class JobStore(Protocol):
    """Durable callback jobs. Times are Unix seconds."""

    def add_job(self, job: NewJob, now: float) -> None:
        """Persist an accepted job, durably, before the client hears 200."""

    def claim_job(self, now: float) -> Job | None:
        """The oldest QUEUED job due by `now`, marked RUNNING; None when none is due."""

    def save_result(self, request_id: str, body: bytes) -> None:
        """Keep the transcript to deliver and drop the audio."""

    def delivered(self, request_id: str, now: float) -> None:
        """The callback answered 2xx: DELIVERED, transcript dropped."""

    def attempt_failed(self, request_id: str, error: str, retry_at: float | None, now: float) -> None:
        """A delivery failed: QUEUED again until `retry_at`, or FAILED when `retry_at` is None."""

    def recover_jobs(self) -> int:
        """Put jobs left RUNNING by a dead process back in the queue; how many."""

    def pending_jobs(self) -> int:
        """QUEUED and RUNNING jobs."""

    def next_due_at(self) -> float | None:
        """When the earliest QUEUED job is due; None when there is none."""

    def list_jobs(self, limit: int = 100, state: JobState | None = None) -> list[JobStatus]:
        """The newest jobs first."""


class KeyStore(Protocol):
    """API keys (as digests) and named server secrets."""

    def add_key(self, key: ApiKey, digest: bytes) -> None:
        """Store a new key's record and the SHA-256 digest of the key."""

    def find_key(self, digest: bytes) -> ApiKey | None:
        """The unrevoked key with this digest."""

    def get_key(self, key_id: str) -> ApiKey | None:
        """A key by id, revoked or not."""

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""

    def revoke_key(self, key_id: str, now: float) -> bool:
        """Revoke a key (its tokens stop working too); False when no such unrevoked key exists."""

    def secret(self, name: str) -> bytes:
        """A random 32-byte secret kept under `name`, made on first use (shared by every replica)."""


class Store(JobStore, KeyStore, Protocol):
    """Everything OpenListen keeps across restarts."""

    def close(self) -> None:
        """Release the database."""


def open_store(data_dir: Path | None) -> SqliteStore:
    """The SQLite store in `data_dir` (made private to this user), or an in-memory one when None."""
    if data_dir is None:
        return SqliteStore(":memory:")
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {data_dir}: {exc}") from exc
    return SqliteStore(str(data_dir / DB_FILENAME))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    request_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    query TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    callback_method TEXT NOT NULL,
    audio BLOB,
    audio_url TEXT,
    result BLOB,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claims INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""

_STATUS_COLUMNS = (
    "request_id, key_id, state, callback_url, callback_method, attempts, created_at, updated_at, "
    "next_attempt_at, last_error"
)


class SqliteStore:
    """`Store` on one SQLite file in WAL mode (readers never block the writer; commits are fsynced).

    One connection, shared by threads under a lock: every call is a short transaction, and the big one
    (the audio of a new job) is written once.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._errors():
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            # FULL: a job acknowledged with 200 is on disk even if the machine loses power.
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock, self._errors():
            self._db.close()

    # -- jobs ------------------------------------------------------------------------------------

    def add_job(self, job: NewJob, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO jobs (request_id, key_id, query, callback_url, callback_method, audio, audio_url,"
                " state, created_at, updated_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.request_id,
                    job.key_id,
                    json.dumps(job.query),
                    job.callback_url,
                    job.callback_method,
                    job.audio,
                    job.audio_url,
                    JobState.QUEUED.value,
                    now,
                    now,
                    now,
                ),
            )

    def claim_job(self, now: float) -> Job | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT request_id, key_id, query, callback_url, callback_method, audio, audio_url, result, attempts"
                " FROM jobs WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT 1",
                (JobState.QUEUED.value, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = ?, claims = claims + 1, updated_at = ? WHERE request_id = ?",
                (JobState.RUNNING.value, now, row[0]),
            )
        query = tuple((str(k), str(v)) for k, v in json.loads(row[2]))
        return Job(row[0], row[1], query, row[3], row[4], row[5], row[6], row[7], row[8])

    def save_result(self, request_id: str, body: bytes) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jobs SET result = ?, audio = NULL WHERE request_id = ?", (body, request_id))

    def delivered(self, request_id: str, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, result = NULL, audio = NULL, last_error = NULL,"
                " updated_at = ? WHERE request_id = ?",
                (JobState.DELIVERED.value, now, request_id),
            )

    def attempt_failed(self, request_id: str, error: str, retry_at: float | None, now: float) -> None:
        state = JobState.FAILED if retry_at is None else JobState.QUEUED
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                " updated_at = ? WHERE request_id = ?",
                (state.value, error, now if retry_at is None else retry_at, now, request_id),
            )
            if retry_at is None:
                db.execute("UPDATE jobs SET result = NULL, audio = NULL WHERE request_id = ?", (request_id,))

    def recover_jobs(self) -> int:
        running = JobState.RUNNING.value
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state = ?, last_error = ?, audio = NULL, result = NULL"
                " WHERE state = ? AND claims >= ?",
                (JobState.FAILED.value, f"the server stopped while running it {MAX_CLAIMS} times", running, MAX_CLAIMS),
            )
            return db.execute("UPDATE jobs SET state = ? WHERE state = ?", (JobState.QUEUED.value, running)).rowcount

    def pending_jobs(self) -> int:
        with self._transaction() as db:
            states = (JobState.QUEUED.value, JobState.RUNNING.value)
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE state IN (?, ?)", states).fetchone()[0])

    def next_due_at(self) -> float | None:
        with self._transaction() as db:
            row = db.execute("SELECT MIN(next_attempt_at) FROM jobs WHERE state = ?", (JobState.QUEUED.value,))
            value = row.fetchone()[0]
        return None if value is None else float(value)

    def list_jobs(self, limit: int = 100, state: JobState | None = None) -> list[JobStatus]:
        where, args = ("WHERE state = ?", [state.value]) if state else ("", [])
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT {_STATUS_COLUMNS} FROM jobs {where} ORDER BY created_at DESC LIMIT ?", [*args, limit]
            ).fetchall()
        return [JobStatus(r[0], r[1], JobState(r[2]), *r[3:]) for r in rows]

    # -- keys and secrets ------------------------------------------------------------------------

    def add_key(self, key: ApiKey, digest: bytes) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO api_keys (key_id, digest, name, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
                (key.key_id, digest, key.name, " ".join(sorted(key.scopes)), key.created_at),
            )

    def find_key(self, digest: bytes) -> ApiKey | None:
        return self._one_key("digest = ? AND revoked_at IS NULL", digest)

    def get_key(self, key_id: str) -> ApiKey | None:
        return self._one_key("key_id = ?", key_id)

    def list_keys(self) -> list[ApiKey]:
        with self._transaction() as db:
            rows = db.execute("SELECT key_id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at")
            return [_key(row) for row in rows.fetchall()]

    def revoke_key(self, key_id: str, now: float) -> bool:
        with self._transaction() as db:
            sql = "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL"
            return db.execute(sql, (now, key_id)).rowcount == 1

    def secret(self, name: str) -> bytes:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, secrets.token_bytes(32)))
            return bytes(db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0])

    # -- plumbing --------------------------------------------------------------------------------

    def _one_key(self, where: str, value: object) -> ApiKey | None:
        with self._transaction() as db:
            sql = f"SELECT key_id, name, scopes, created_at, revoked_at FROM api_keys WHERE {where}"
            row = db.execute(sql, (value,)).fetchone()
        return None if row is None else _key(row)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction (so concurrent writers queue instead of failing mid-way)."""
        with self._lock, self._errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"the job store failed: {exc}") from exc


def _key(row: tuple[str, str, str, float, float | None]) -> ApiKey:
    return ApiKey(row[0], row[1], frozenset(row[2].split()), row[3], row[4])
