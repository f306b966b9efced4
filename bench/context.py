"""What every section gets: PostgreSQL, Temporal on demand, the options, the report, a folder
for logs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench import servers
from bench.options import Options
from bench.report import RESULTS, Report
from eventstore import programme
from infra.database import create_pool
from infra.registry import load_registry


@dataclass
class Context:
    pg: servers.Postgres
    options: Options
    report: Report
    workdir: Path  # worker logs of this run
    console: Console
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    @asynccontextmanager
    async def temporal(self) -> AsyncIterator[servers.Temporal]:
        """A fresh dev server for the section (or the one given with --temporal-address)."""
        async with servers.temporal(self.options.temporal_address,
                                    self.options.namespace) as t:
            self.report.machine["temporal_server"] = t.version
            yield t

    @property
    def results(self) -> Path:
        return Path(self.options.results_dir) if self.options.results_dir else RESULTS

    def queue(self, name: str) -> str:
        return f"bench-{name}-{self.tag}"

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def say(self, text: str) -> None:
        self.console.print(f"[dim]  {text}[/dim]")


async def add_network_members(url: str, lgcodes: Sequence[str]) -> int:
    """Municipalities join the network (the founding towns are members already)."""
    registry = load_registry()
    pool = await create_pool(url, max_size=2)
    try:
        return await programme.add_members(
            pool, [registry.municipalities[c] for c in lgcodes], "bench")
    finally:
        await pool.close()
