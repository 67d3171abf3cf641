"""The durable store: callback jobs, API keys and server secrets.

`Store` is the interface, a Protocol. `open_store` gives the default, `SqliteStore` (one file in the
data directory, WAL mode), or `PostgresStore` when replicas share one database (``--database-url``).
Both run the same SQL (`jobs/sql_store.py`); every database error is translated where it enters into
`StoreError` (spec/listen-v1.md §7: a 503 the SDK retries).

A job's life (spec/listen-v1.md §3.3)::

    add_job ─► QUEUED ─claim_job─► RUNNING ─delivered─► DELIVERED
                  ▲                 │  ▲ │
                  │  lease expired  └──┘ ├──attempt_failed─► QUEUED again at `next_attempt_at`
                  │  (claimed again)     └──attempt_failed─► FAILED (no attempts left)

A claim is a lease: the worker that holds a job renews it while it works (`renew_leases`), and a job
whose lease ran out (its process died) is claimed again by whichever worker looks next, on any replica.
So every accepted job is delivered at least once, with its original request id. A store only one
server uses (SQLite) also ends every lease at start (`recover_jobs`): whatever was running then was
left by a dead process, and need not wait for its lease.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from openlisten.errors import StoreError

if TYPE_CHECKING:
    from openlisten.jobs.sql_store import SqlStore

__all__ = [
    "ApiKey",
    "Job",
    "JobState",
    "JobStatus",
    "JobStore",
    "KeyStore",
    "NewJob",
    "ReplicaRegistry",
    "Store",
    "open_store",
]

#: The file `open_store` keeps in the data directory.
DB_FILENAME = "openlisten.db"
#: A job whose lease ran out this many times without a recorded attempt is given up as poison (for
#: example audio that crashes the decoder), instead of taking down every replica that claims it.
MAX_CLAIMS = 5
#: How long a claim holds a job unless renewed: a minute, renewed every third of it, so a worker
#: stalled by a long transcription keeps its job while a dead one's jobs resume within a minute.
JOB_LEASE_S = 60.0


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

    def claim_job(self, now: float, lease_s: float = JOB_LEASE_S) -> Job | None:
        """The oldest job due by `now` (QUEUED, or RUNNING with its lease run out), marked RUNNING and
        leased until `now + lease_s`; None when none is due."""

    def renew_leases(self, request_ids: Sequence[str], until: float) -> None:
        """Extend the leases of jobs this worker is running."""

    def save_result(self, request_id: str, body: bytes) -> None:
        """Keep the transcript to deliver and drop the audio."""

    def delivered(self, request_id: str, now: float) -> None:
        """The callback answered 2xx: DELIVERED, transcript dropped."""

    def attempt_failed(self, request_id: str, error: str, retry_at: float | None, now: float) -> None:
        """A delivery failed: QUEUED again until `retry_at`, or FAILED when `retry_at` is None."""

    def recover_jobs(self, now: float) -> int:
        """At a server's start: how many jobs a dead process left RUNNING, to be claimed again (at once
        where this server is the store's only user, else when their leases run out)."""

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


class ReplicaRegistry(Protocol):
    """Where each replica's own metrics are served, for Prometheus to find (``/metrics/targets``)."""

    def announce_replica(self, replica_id: str, metrics_url: str, now: float) -> None:
        """Record (or refresh) a replica and the URL of its metrics."""

    def live_replicas(self, seen_since: float) -> list[tuple[str, str]]:
        """Replicas announced since `seen_since`, as (id, metrics URL); older ones are forgotten."""

    def forget_replica(self, replica_id: str) -> None:
        """A replica stopped."""


class Store(JobStore, KeyStore, ReplicaRegistry, Protocol):
    """Everything OpenListen keeps across restarts, and what its replicas share."""

    def close(self) -> None:
        """Release the database."""


def open_store(data_dir: Path | None, database_url: str | None = None) -> SqlStore:
    """The PostgreSQL store at `database_url` when given (``postgresql://…``), else the SQLite store in
    `data_dir` (made private to this user), else an in-memory one."""
    if database_url:
        from openlisten.jobs.postgres_store import PostgresStore

        return PostgresStore(database_url)
    from openlisten.jobs.sqlite_store import SqliteStore

    if data_dir is None:
        return SqliteStore(":memory:")
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {data_dir}: {exc}") from exc
    return SqliteStore(str(data_dir / DB_FILENAME))
