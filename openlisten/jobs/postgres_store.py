"""`PostgresStore`: the store in a PostgreSQL database that every replica shares (psycopg 3).

Jobs are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``, so workers on any number of replicas take
different jobs without waiting for each other; a job whose replica died is claimed again when its lease
runs out. Keys and the token-signing secret are read from the database on every check, so a key revoked
through one replica is refused by all of them at once, and a token one replica signed works on every
other.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from openlisten.errors import StoreError
from openlisten.jobs.sql_store import Cursor, SqlStore, schema

__all__ = ["PostgresStore"]

#: Seconds to wait for the server when connecting.
_CONNECT_TIMEOUT_S = 10
#: Held while the schema is made, so replicas starting together do not race on CREATE TABLE.
_SCHEMA_LOCK_ID = 0x6F6C_6A6F_6273  # "oljobs"


class PostgresStore(SqlStore):
    """`Store` on a PostgreSQL database, ``postgresql://user:password@host:port/dbname``.

    One connection per process, shared by threads under a lock (every call is one short transaction),
    opened again after the server or the network dropped it.
    """

    _CLAIM_LOCK = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - the `postgres` extra
            raise StoreError("a PostgreSQL store needs psycopg: pip install 'openlisten[postgres]'") from exc
        self._psycopg = psycopg
        self._url = url
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK_ID,))
            for statement in schema(blob="BYTEA", real="DOUBLE PRECISION"):
                db.execute(statement)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[_Database]:
        with self._lock, self._errors():
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = self._psycopg.connect(self._url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
            with self._conn.transaction():
                yield _Database(self._conn)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg.Error as exc:
            # The message names the server, never the password (psycopg leaves it out).
            raise StoreError(f"the job store failed: {type(exc).__name__}: {exc}".strip()) from exc


class _Database:
    """The connection in a transaction, taking the store's ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Any = (), /) -> Cursor:
        cursor: Cursor = self._conn.execute(sql.replace("?", "%s"), params)
        return cursor
