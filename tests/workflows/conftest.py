"""Temporal for the workflow tests: the time-skipping server (weeks pass in milliseconds) and
a worker per test on its own task queue, against the test's fresh PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from eventstore.store import EventStore
from infra.binaries import temporal_test_server
from infra.temporal_client import register_search_attributes
from tests.workflows.helpers import Harness
from worker import build_worker


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(), data_converter=pydantic_data_converter)
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def own_ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for one test that may leave its clock unusable."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(), data_converter=pydantic_data_converter)
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(loop_scope="session")
async def task_queue() -> str:
    return f"kyoso-test-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(loop_scope="session")
async def ts_worker(ts_env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str
                    ) -> AsyncIterator[Worker]:
    async with build_worker(ts_env.client, pool, task_queue) as w:
        yield w


@pytest_asyncio.fixture(loop_scope="session")
async def kyoso(ts_env: WorkflowEnvironment, ts_worker: Worker, pool: asyncpg.Pool,
                store: EventStore, task_queue: str) -> AsyncIterator[Harness]:
    """The system under test on the time-skipping server, with a worker running."""
    harness = Harness(ts_env, pool, store, task_queue)
    yield harness
    await harness.terminate_all()
