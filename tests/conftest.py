"""Shared fixtures: a real PostgreSQL (DATABASE_URL, else an embedded one) with a fresh,
migrated database per test."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from eventstore.migrate import migrate_url
from eventstore.projections import ProposalsProjection
from eventstore.store import EventStore
from infra.database import with_database

warnings.filterwarnings("ignore", module="platformdirs")


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL with the right to create databases."""
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    import pgserver

    server = pgserver.get_server(Path(tmp_path_factory.mktemp("pg")) / "data",
                                 cleanup_mode="delete")
    yield str(server.get_uri("postgres"))
    server.cleanup()


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def template_db(pg_admin_url: str) -> AsyncIterator[str]:
    name = f"kyoso_tpl_{uuid.uuid4().hex[:8]}"
    await _admin(pg_admin_url, f"CREATE DATABASE {name}")
    await migrate_url(with_database(pg_admin_url, name))
    yield name
    await _admin(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest_asyncio.fixture(loop_scope="session")
async def db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"kyoso_t_{uuid.uuid4().hex[:10]}"
    await _admin(pg_admin_url, f"CREATE DATABASE {name} TEMPLATE {template_db}")
    yield with_database(pg_admin_url, name)
    await _admin(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(db_url, min_size=1, max_size=30)
    assert p is not None
    yield p
    await p.close()


@pytest.fixture
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool, [ProposalsProjection()])
