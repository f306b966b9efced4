"""PostgreSQL for kyoso: DATABASE_URL when given, else an embedded server (pgserver)."""

from __future__ import annotations

import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import asyncpg

EMBEDDED_DATABASE = "kyoso"


class DatabaseUnavailable(RuntimeError):
    pass


def with_database(url: str, database: str) -> str:
    """The same server URL, naming another database."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/") or "postgres"


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or urllib.parse.parse_qs(parts.query).get("host", ["local socket"])[0]
    user = parts.username or "?"
    return f"database {database_name(url)!r} on {host} as {user}"


def start_embedded(data_dir: Path, *, keep_running: bool = True) -> str:
    """Start (or reuse) the embedded PostgreSQL under `data_dir`; return its URL.

    With keep_running the server outlives this process, so the worker, the CLI and a second
    demo run share it; `stop_embedded` stops it.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver  # imported late: it starts nothing until asked, but is slow to import

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir.resolve() / "postgres",
                                 cleanup_mode=None if keep_running else "stop")
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return str(server.get_uri(EMBEDDED_DATABASE))


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    import subprocess

    pgdata = data_dir.resolve() / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return False
    from pgserver._commands import pg_ctl

    try:
        pg_ctl(["-w", "stop"], pgdata=pgdata, user="pgserver" if _root() else None)
    except subprocess.CalledProcessError:
        return False
    return True


def _root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def resolve_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or start_embedded(data_dir)


async def create_pool(url: str, *, max_size: int = 10, **kw: Any) -> asyncpg.Pool:
    """A connection pool, or DatabaseUnavailable with one clear line saying why."""
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, **kw)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        raise DatabaseUnavailable(explain(url, err)) from err
    assert pool is not None
    return pool


def explain(url: str, err: BaseException) -> str:
    where = describe(url)
    first = (str(err).splitlines() or [type(err).__name__])[0]  # PostgreSQL adds DETAIL lines
    if isinstance(err, asyncpg.InvalidCatalogNameError):
        return f"PostgreSQL: {where} does not exist; create it or fix DATABASE_URL"
    if isinstance(err, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return f"PostgreSQL refused the login for {where}; check the user and password in DATABASE_URL"
    if isinstance(err, asyncpg.InsufficientPrivilegeError):
        return (f"PostgreSQL: the user lacks a permission on {where} ({first}); grant it CONNECT "
                "on the database, or use a user that owns it")
    if isinstance(err, OSError):
        return f"PostgreSQL is not reachable for {where}: {err.strerror or err}; is it running?"
    return f"PostgreSQL error for {where}: {first}"
