"""`SqliteStore`: the store in one SQLite file, for a server that runs alone."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator

from openlisten.errors import StoreError
from openlisten.jobs.sql_store import Database, SqlStore, schema

__all__ = ["SqliteStore"]

#: How long a write waits for another process (``openlisten keys`` beside a running server).
_BUSY_TIMEOUT_MS = 5000


class SqliteStore(SqlStore):
    """`Store` on one SQLite file in WAL mode (readers never block the writer; commits are fsynced).

    One connection, shared by threads under a lock: every call is a short transaction, and the big one
    (the audio of a new job) is written once. One server uses the file (the ``openlisten keys`` and
    ``jobs`` commands may read and write beside it), so jobs it finds RUNNING at start are its own,
    left by a crash.
    """

    _sole_user = True

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
            with self._transaction() as db:
                for statement in schema(blob="BLOB", real="REAL"):
                    db.execute(statement)
                columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)").fetchall()}
                if "lease_until" not in columns:  # a file from before leases
                    db.execute("ALTER TABLE jobs ADD COLUMN lease_until REAL NOT NULL DEFAULT 0")

    def close(self) -> None:
        with self._lock, self._errors():
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Database]:
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
