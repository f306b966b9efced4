"""`python -m demo`: everything on one machine, then the scenario, then the Web UI.

Starts (or reuses) the embedded PostgreSQL and the Temporal dev server under the data folder,
runs a worker in this process, walks the demo scenario with a progress bar, prints a summary
read back from the event store, and keeps everything running until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client

from demo.scenario import NETWORK, Case, Demo, demo_policies
from domain.values import JST, Town
from eventstore import programme, queries
from eventstore.migrate import migrate
from infra import database, devserver
from infra import logging as kyoso_logging
from infra.files import load_policies
from infra.registry import load_registry
from infra.settings import Settings
from infra.temporal_client import TemporalUnavailable, connect, register_search_attributes
from worker import build_worker

console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
DEMO_QUEUE = "kyoso-demo"


@dataclass(frozen=True)
class Row:
    case: Case
    proposal_id: str
    stage: str
    adoption_number: int | None
    town: str | None
    events: int
    notifications: int

    @property
    def ok(self) -> bool:
        return self.stage == self.case.expect.value


async def summarise(pool: asyncpg.Pool, cases: list[Case]) -> list[Row]:
    """The outcome of each case as the event store holds it (not as the demo believes)."""
    rows = []
    for case in cases:
        pid = case.proposal_id
        found = await queries.proposal(pool, pid)
        assert found is not None, f"{pid} is missing from the projection"
        row, _ = found
        rows.append(Row(
            case=case, proposal_id=pid, stage=row.stage, adoption_number=row.adoption_number,
            town=row.town,
            events=await pool.fetchval("SELECT count(*) FROM events WHERE proposal_id = $1", pid),
            notifications=await pool.fetchval(
                "SELECT count(*) FROM outbox WHERE proposal_id = $1", pid),
        ))
    return rows


def summary_table(rows: list[Row]) -> Table:
    table = Table(title="Demo proposals, as recorded in the event store", title_justify="left")
    for col in ("proposal", "proposer", "path", "stage", "town", "採択No.", "events", "mails", ""):
        table.add_column(col)
    for r in rows:
        table.add_row(r.proposal_id, r.case.proposal.proposer.organisation, r.case.path, r.stage,
                      r.town or "-", str(r.adoption_number or ""), str(r.events),
                      str(r.notifications), "[green]✓[/green]" if r.ok else "[red]✗[/red]")
    return table


async def run_scenario(client: Client, pool: asyncpg.Pool, pace: float,
                       task_queue: str = DEMO_QUEUE, progress: bool = True) -> list[Row]:
    """Run the scenario; a worker must be polling `task_queue`."""
    registry = load_registry()
    await programme.add_members(pool, [registry.municipalities[c] for c in NETWORK], "demo")
    tag = f"({datetime.now(JST):%m%d-%H%M%S})"
    policies = demo_policies(load_policies(None), pace)

    async def pause(town: Town, paused: bool) -> None:
        await programme.set_intake(pool, town, paused=paused, actor="demo",
                                   reason="reworking the process" if paused else None)

    demo = Demo(client, task_queue, policies, pace, tag)
    if not progress:
        return await summarise(pool, await demo.run(pause))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("walking every path", total=demo.total_steps)
        demo.on_step = lambda: bar.advance(task)
        cases = await demo.run(pause)
        bar.update(task, completed=demo.total_steps)
    return await summarise(pool, cases)


async def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    data_dir = settings.data_dir
    log_file = data_dir / "demo-worker.log"
    if args.clean:
        devserver.stop(data_dir)
        database.stop_embedded(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
        console.print(f"removed {data_dir}/ for a clean start")
    data_dir.mkdir(parents=True, exist_ok=True)
    _log_to_file(log_file)

    with console.status("starting PostgreSQL…"):
        url = settings.database_url or await asyncio.to_thread(
            database.start_embedded, data_dir)
        assert url is not None
        pool = await database.create_pool(url, max_size=10)
        async with pool.acquire() as conn:
            await migrate(conn)
    console.print(f"PostgreSQL: {database.describe(url)}"
                  + ("" if settings.database_url else " (embedded)"))
    port = int(os.environ.get("KYOSO_TEMPORAL_PORT", "7233"))
    ui_port = int(os.environ.get("KYOSO_UI_PORT", "8233"))
    with console.status("starting the Temporal dev server…"):
        server = await devserver.ensure(data_dir, port, ui_port)
    console.print(f"Temporal dev server: {server.address} "
                  f"({'started' if server.started_here else 'reused'}; histories in "
                  f"{data_dir}/temporal/dev.sqlite)")
    console.print(f"Web UI: [bold]{server.ui_url}[/bold]   worker log: {log_file}")

    client = await connect(target_host=server.address, namespace="default")
    await register_search_attributes(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(client, pool, DEMO_QUEUE):
        rows = await run_scenario(client, pool, args.pace)
        _report(rows, server.ui_url)
        if not args.no_wait:
            console.print("Everything keeps running for inspection (the worker too). "
                          "Press Ctrl-C to stop the servers.")
            await stop.wait()
    await pool.close()
    if not args.no_wait and not args.keep_servers:
        devserver.stop(data_dir)
        if not settings.database_url:
            database.stop_embedded(data_dir)
        console.print(f"servers stopped; data kept in {data_dir}/ "
                      "(run again to reuse it, or with --clean)")
    return 0 if all(r.ok for r in rows) else 1


def _report(rows: list[Row], ui_url: str) -> None:
    console.print(summary_table(rows))
    bad = [r for r in rows if not r.ok]
    ui = f"{ui_url}/namespaces/default/workflows"
    console.print(f"\nOpen {ui} and filter, for example:\n"
                  "  KyosoStage = 'adopted'\n"
                  "  KyosoTown = 'bandai' AND ExecutionStatus = 'Running'\n"
                  "  KyosoWaitingFor = 'pilot_plan'\n"
                  "  WorkflowType = 'MembershipWorkflow' AND KyosoStage = 'deployed'\n")
    if bad:
        console.print(f"[red]{len(bad)} proposal(s) did not end where expected[/red]")


def _log_to_file(path: Path) -> None:
    kyoso_logging.configure("json", "INFO")
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(root.handlers[0].formatter)
    root.handlers = [handler]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    p.add_argument("--pace", type=float, default=1.0,
                   help="seconds that stand for one unit of the demo's short deadlines")
    p.add_argument("--no-wait", action="store_true", help="exit after the summary")
    p.add_argument("--clean", action="store_true", help="stop servers and delete the data folder first")
    p.add_argument("--keep-servers", action="store_true", help="leave the servers running on Ctrl-C")
    return p.parse_args(argv)


def cli(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return asyncio.run(main(args))
    except KeyboardInterrupt:
        return 130
    except (devserver.PortInUse, database.DatabaseUnavailable, TemporalUnavailable,
            RuntimeError, ValueError) as err:
        console.print(f"[red]demo: {str(err).splitlines()[0]}[/red]")
        return 1
