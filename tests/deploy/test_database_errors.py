"""Issue 4 item 4, the database part: what a newcomer with a wrong DATABASE_URL, a missing
database or a user without rights sees is one line saying what is wrong, from the library
functions and from the worker and the CLI as commands."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import asyncpg
import pytest
import pytest_asyncio

from eventstore.migrate import MigrationPermissionError, migrate_url
from infra.database import DatabaseUnavailable, create_pool, with_database
from infra.settings import Settings
from starter import Session
from tests.deploy.deployment import REPO
from worker import prepare_database

UNREACHABLE = "postgresql://kyoso@127.0.0.1:1/kyoso"


def as_user(url: str, user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def one_line(err: BaseException) -> str:
    message = str(err)
    assert message and "\n" not in message, repr(message)
    return message


def run(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TEMPORAL_", "KYOSO_", "DATABASE_URL", "SMTP_"))}
    return subprocess.run([sys.executable, *argv], env={**clean, **env}, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)


async def admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


# -- unreachable, missing ----------------------------------------------------------------------

async def test_unreachable_database_is_one_line() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(UNREACHABLE)
    assert one_line(caught.value).startswith(
        "PostgreSQL is not reachable for database 'kyoso' on 127.0.0.1 as kyoso")
    assert "is it running?" in str(caught.value)


async def test_missing_database_says_it_does_not_exist(pg_admin_url: str) -> None:
    name = f"kyoso_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(with_database(pg_admin_url, name))
    message = one_line(caught.value)
    assert f"database {name!r}" in message and "does not exist" in message
    assert "DATABASE_URL" in message


async def test_unknown_user_is_refused_in_one_line(pg_admin_url: str) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(as_user(pg_admin_url, f"nobody_{uuid.uuid4().hex[:8]}", "x"))
    message = one_line(caught.value)
    assert message.startswith("PostgreSQL refused the login for database")
    assert "check the user and password in DATABASE_URL" in message


def test_worker_command_with_unreachable_database() -> None:
    done = run(["worker.py"], {"DATABASE_URL": UNREACHABLE})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "kyoso-worker: PostgreSQL is not reachable for database 'kyoso' on 127.0.0.1 as kyoso: "
        "Connect call failed ('127.0.0.1', 1); is it running?"]


def test_cli_command_with_unreachable_database() -> None:
    done = run(["starter.py", "list"], {"DATABASE_URL": UNREACHABLE})
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("starter.py list: PostgreSQL is not reachable for database 'kyoso'")


# -- a user without rights ---------------------------------------------------------------------

@dataclass(frozen=True)
class Restricted:
    admin_url: str  # the database, as its owner
    url: str  # the same database, as a user with LOGIN and nothing else
    user: str


@pytest_asyncio.fixture(loop_scope="session")
async def restricted(pg_admin_url: str) -> AsyncIterator[Restricted]:
    """A fresh database where PUBLIC may not create in schema public, and a login role."""
    suffix = uuid.uuid4().hex[:8]
    database, user, password = f"kyoso_perm_{suffix}", f"kyoso_ro_{suffix}", f"pw{suffix}"
    try:
        await admin(pg_admin_url, f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
    except asyncpg.InsufficientPrivilegeError:
        # Not a skip: the permissions error would go untested. The embedded server (no
        # DATABASE_URL) always allows it; a given server must too (README, "Two commands").
        pytest.fail("the tests' DATABASE_URL user may not create roles: grant it CREATEROLE "
                    "or run the tests without DATABASE_URL (the embedded PostgreSQL)")
    await admin(pg_admin_url, f"CREATE DATABASE {database}")
    owner_url = with_database(pg_admin_url, database)
    await admin(owner_url, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    yield Restricted(owner_url, as_user(owner_url, user, password), user)
    await admin(pg_admin_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                f"DROP ROLE IF EXISTS {user}")


def assert_names_the_permission(message: str, r: Restricted) -> None:
    assert message.startswith(f"PostgreSQL: user {r.user!r} lacks a permission on database")
    assert "permission denied for schema public" in message
    assert f"GRANT CREATE ON SCHEMA public TO {r.user}" in message


async def test_migrations_without_create_permission_name_it(restricted: Restricted) -> None:
    # as the worker prepares its database ...
    with pytest.raises(DatabaseUnavailable) as caught:
        await prepare_database(Settings(database_url=restricted.url))
    assert isinstance(caught.value, MigrationPermissionError)
    assert_names_the_permission(one_line(caught.value), restricted)

    # ... and as the CLI opens its pool
    session = Session(Settings(database_url=restricted.url))
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await session.pool()
        assert_names_the_permission(one_line(caught.value), restricted)
    finally:
        await session.close()

    # the hint works: with the grant, the same user migrates (the advisory lock was released)
    await admin(restricted.admin_url, f"GRANT CREATE ON SCHEMA public TO {restricted.user}")
    assert len(await migrate_url(restricted.url)) >= 4


def test_worker_and_cli_commands_without_create_permission(restricted: Restricted) -> None:
    for argv, prefix in ((["worker.py"], "kyoso-worker: "),
                         (["starter.py", "migrate"], "starter.py migrate: ")):
        done = run(argv, {"DATABASE_URL": restricted.url})
        assert done.returncode == 1, done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(prefix)
        assert_names_the_permission(line.removeprefix(prefix), restricted)


async def test_user_without_connect_permission(restricted: Restricted) -> None:
    database = urllib.parse.urlsplit(restricted.url).path.lstrip("/")
    await admin(restricted.admin_url, f"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC")
    with pytest.raises(DatabaseUnavailable) as caught:
        await create_pool(restricted.url)
    message = one_line(caught.value)
    assert "lacks a permission" in message and "permission denied for database" in message
    assert "grant it CONNECT" in message
