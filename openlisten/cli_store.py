"""``openlisten jobs`` and ``openlisten keys``: the store in the data directory, from the command line.

Whoever can write the data directory administers the server; over HTTP, keys with the ``keys`` scope do
the same through ``/v1/projects/{project_id}/keys`` (``api/routes_keys.py``). Both commands work while the
server runs (SQLite in WAL mode lets them share the file).
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from openlisten.auth import ALL_SCOPES, TRANSCRIBE, create_key
from openlisten.config import Settings
from openlisten.errors import OpenListenError
from openlisten.jobs.sql_store import SqlStore
from openlisten.jobs.store import JobState, open_store
from openlisten.sources.url import redact_url

__all__ = ["jobs", "keys"]


def _store_options(func: Any) -> Any:
    func = click.option(
        "--database-url",
        envvar="OPENLISTEN_DATABASE_URL",
        help="The servers' PostgreSQL database, postgresql://… (default: $OPENLISTEN_DATABASE_URL).",
    )(func)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="The server's data directory (default: $OPENLISTEN_DATA_DIR).",
    )(func)


def _open(data_dir: Path | None, database_url: str | None) -> SqlStore:
    data_dir = data_dir or Settings().data_dir
    if data_dir is None and not database_url:
        raise click.UsageError(
            "no store: give --data-dir DIR or --database-url URL"
            " (or set OPENLISTEN_DATA_DIR or OPENLISTEN_DATABASE_URL)"
        )
    try:
        return open_store(data_dir, database_url)
    except OpenListenError as exc:
        raise click.ClickException(exc.message) from exc


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


@click.command()
@_store_options
@click.option("--state", type=click.Choice([s.value for s in JobState]), help="Only jobs in this state.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per job.")
def jobs(data_dir: Path | None, database_url: str | None, state: str | None, limit: int, as_json: bool) -> None:
    """List callback jobs and their delivery state."""
    store = _open(data_dir, database_url)
    try:
        listed = store.list_jobs(limit, JobState(state) if state else None)
    except OpenListenError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        store.close()
    for job in listed:
        callback = f"{job.callback_method} {redact_url(job.callback_url)}"
        if as_json:
            record = asdict(job) | {"state": job.state.value, "callback_url": redact_url(job.callback_url)}
            click.echo(json.dumps(record))
            continue
        retry = f"  next attempt {_when(job.next_attempt_at)}" if job.state is JobState.QUEUED and job.attempts else ""
        click.echo(
            f"{job.request_id}  {job.state.value:<9}  attempts={job.attempts}  {_when(job.created_at)}  {callback}"
        )
        if job.last_error:
            click.echo(f"    last error: {job.last_error}{retry}")


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (stored as SHA-256 digests in the data directory)."""


@keys.command("create")
@_store_options
@click.option("--name", default="", help="A label for the key (shown by `keys list`).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(sorted(ALL_SCOPES)),
    help=f"What the key may do (repeatable; default {TRANSCRIBE}): transcribe, grant (temporary tokens), keys.",
)
def create(data_dir: Path | None, database_url: str | None, name: str, scopes: tuple[str, ...]) -> None:
    """Make a key and print it once: only its digest is kept."""
    store = _open(data_dir, database_url)
    try:
        key, record = create_key(store, name, scopes or (TRANSCRIBE,))
    except OpenListenError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        store.close()
    click.echo(key)
    click.echo(f"id {record.key_id}, scopes {' '.join(sorted(record.scopes))} (the key is not shown again)", err=True)


@keys.command("list")
@_store_options
def list_keys(data_dir: Path | None, database_url: str | None) -> None:
    """Keys made with `keys create` (keys given with --api-key are not stored)."""
    store = _open(data_dir, database_url)
    try:
        listed = store.list_keys()
    finally:
        store.close()
    for key in listed:
        revoked = f"  revoked {_when(key.revoked_at)}" if key.revoked_at else ""
        scopes = ",".join(sorted(key.scopes))
        click.echo(f"{key.key_id}  {scopes:<22}  created {_when(key.created_at)}  {key.name}{revoked}")


@keys.command("revoke")
@_store_options
@click.argument("key_id")
def revoke(data_dir: Path | None, database_url: str | None, key_id: str) -> None:
    """Revoke a key by id; it and its temporary tokens stop working at once."""
    store = _open(data_dir, database_url)
    try:
        revoked = store.revoke_key(key_id, time.time())
    finally:
        store.close()
    if not revoked:
        raise click.ClickException(f"no active key with id {key_id!r}")
    click.echo(f"revoked {key_id}")
