"""`SqlStore`: the `Store` written once in SQL that SQLite and PostgreSQL both run.

A subclass gives the connection: `_transaction` (one transaction, its errors translated into
`StoreError`), the column types, and how a claim locks the row it takes. Statements use ``?``
placeholders; a driver that wants others translates them.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from openlisten.jobs.store import JOB_LEASE_S, MAX_CLAIMS, ApiKey, Job, JobState, JobStatus, NewJob

__all__ = ["Cursor", "Database", "SqlStore", "schema"]


class Cursor(Protocol):
    """What the store reads back from a statement (DB-API)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Database(Protocol):
    """A connection inside one transaction."""

    def execute(self, sql: str, params: Any = (), /) -> Cursor: ...


def schema(*, blob: str, real: str) -> list[str]:
    """The tables, with the database's names for bytes and floating-point columns."""
    return [
        f"""CREATE TABLE IF NOT EXISTS jobs (
            request_id TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            query TEXT NOT NULL,
            callback_url TEXT NOT NULL,
            callback_method TEXT NOT NULL,
            audio {blob},
            audio_url TEXT,
            result {blob},
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claims INTEGER NOT NULL DEFAULT 0,
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL,
            next_attempt_at {real} NOT NULL,
            lease_until {real} NOT NULL DEFAULT 0,
            last_error TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_attempt_at)",
        f"""CREATE TABLE IF NOT EXISTS api_keys (
            key_id TEXT PRIMARY KEY,
            digest {blob} NOT NULL UNIQUE,
            name TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at {real} NOT NULL,
            revoked_at {real}
        )""",
        f"CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value {blob} NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS replicas (
            replica_id TEXT PRIMARY KEY,
            metrics_url TEXT NOT NULL,
            seen_at {real} NOT NULL
        )""",
    ]


_JOB_COLUMNS = "request_id, key_id, query, callback_url, callback_method, audio, audio_url, result, attempts"
_STATUS_COLUMNS = (
    "request_id, key_id, state, callback_url, callback_method, attempts, created_at, updated_at, "
    "next_attempt_at, last_error"
)
_KEY_COLUMNS = "key_id, name, scopes, created_at, revoked_at"
_QUEUED, _RUNNING = JobState.QUEUED.value, JobState.RUNNING.value


class SqlStore:
    """`Store` over any database a subclass connects to."""

    #: Appended to the claim's SELECT: how it keeps two workers from taking the same row.
    _CLAIM_LOCK = ""
    #: One server uses this store: at its start, jobs still RUNNING were left by its dead predecessor.
    _sole_user = False

    def close(self) -> None:
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractContextManager[Database]:
        raise NotImplementedError

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
                    _QUEUED,
                    now,
                    now,
                    now,
                ),
            )

    def claim_job(self, now: float, lease_s: float = JOB_LEASE_S) -> Job | None:
        with self._transaction() as db:
            self._give_up_poison(db, now)
            row = db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs"
                " WHERE (state = ? AND next_attempt_at <= ?) OR (state = ? AND lease_until <= ?)"
                f" ORDER BY next_attempt_at, created_at LIMIT 1{self._CLAIM_LOCK}",
                (_QUEUED, now, _RUNNING, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = ?, claims = claims + 1, lease_until = ?, updated_at = ? WHERE request_id = ?",
                (_RUNNING, now + lease_s, now, row[0]),
            )
        query = tuple((str(k), str(v)) for k, v in json.loads(row[2]))
        audio, result = _bytes(row[5]), _bytes(row[7])
        return Job(row[0], row[1], query, row[3], row[4], audio, row[6], result, row[8])

    def renew_leases(self, request_ids: Sequence[str], until: float) -> None:
        if not request_ids:
            return
        marks = ", ".join("?" * len(request_ids))
        with self._transaction() as db:
            db.execute(
                f"UPDATE jobs SET lease_until = ? WHERE state = ? AND request_id IN ({marks})",
                (until, _RUNNING, *request_ids),
            )

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

    def recover_jobs(self, now: float) -> int:
        with self._transaction() as db:
            if self._sole_user:
                db.execute("UPDATE jobs SET lease_until = ? WHERE state = ?", (now, _RUNNING))
                self._give_up_poison(db, now)
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (_RUNNING,)).fetchone()[0])

    def pending_jobs(self) -> int:
        with self._transaction() as db:
            states = (_QUEUED, _RUNNING)
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE state IN (?, ?)", states).fetchone()[0])

    def next_due_at(self) -> float | None:
        with self._transaction() as db:
            queued = db.execute("SELECT MIN(next_attempt_at) FROM jobs WHERE state = ?", (_QUEUED,)).fetchone()[0]
            leased = db.execute("SELECT MIN(lease_until) FROM jobs WHERE state = ?", (_RUNNING,)).fetchone()[0]
        due = [float(value) for value in (queued, leased) if value is not None]
        return min(due) if due else None

    def list_jobs(self, limit: int = 100, state: JobState | None = None) -> list[JobStatus]:
        where, args = ("WHERE state = ?", [state.value]) if state else ("", [])
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT {_STATUS_COLUMNS} FROM jobs {where} ORDER BY created_at DESC LIMIT ?", [*args, limit]
            ).fetchall()
        return [JobStatus(r[0], r[1], JobState(r[2]), *r[3:]) for r in rows]

    def _give_up_poison(self, db: Database, now: float) -> None:
        """Fail the jobs whose leases ran out `MAX_CLAIMS` times with no attempt recorded in between."""
        db.execute(
            "UPDATE jobs SET state = ?, last_error = ?, audio = NULL, result = NULL, updated_at = ?"
            " WHERE state = ? AND lease_until <= ? AND claims - attempts >= ?",
            (
                JobState.FAILED.value,
                f"the server stopped while running it {MAX_CLAIMS} times",
                now,
                _RUNNING,
                now,
                MAX_CLAIMS,
            ),
        )

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
            rows = db.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at").fetchall()
        return [_key(row) for row in rows]

    def revoke_key(self, key_id: str, now: float) -> bool:
        with self._transaction() as db:
            sql = "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL"
            return db.execute(sql, (now, key_id)).rowcount == 1

    def secret(self, name: str) -> bytes:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (name, secrets.token_bytes(32)),
            )
            return bytes(db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0])

    # -- replicas --------------------------------------------------------------------------------

    def announce_replica(self, replica_id: str, metrics_url: str, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO replicas (replica_id, metrics_url, seen_at) VALUES (?, ?, ?) ON CONFLICT (replica_id)"
                " DO UPDATE SET metrics_url = excluded.metrics_url, seen_at = excluded.seen_at",
                (replica_id, metrics_url, now),
            )

    def live_replicas(self, seen_since: float) -> list[tuple[str, str]]:
        with self._transaction() as db:
            db.execute("DELETE FROM replicas WHERE seen_at < ?", (seen_since,))
            rows = db.execute("SELECT replica_id, metrics_url FROM replicas ORDER BY replica_id").fetchall()
        return [(str(row[0]), str(row[1])) for row in rows]

    def forget_replica(self, replica_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM replicas WHERE replica_id = ?", (replica_id,))

    def _one_key(self, where: str, value: object) -> ApiKey | None:
        with self._transaction() as db:
            row = db.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE {where}", (value,)).fetchone()
        return None if row is None else _key(row)


def _key(row: tuple[str, str, str, float, float | None]) -> ApiKey:
    return ApiKey(row[0], row[1], frozenset(row[2].split()), row[3], row[4])


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)
