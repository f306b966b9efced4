"""One run: start (or reach) the servers, run the chosen sections in order, gather figures."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console

from bench import latency, lifecycle, machine, profile, rollout, scale, servers, store
from bench.context import Context
from bench.options import Options
from bench.report import Report
from bench.stats import Stopwatch
from infra.binaries import temporal_cli

SECTIONS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "store": store.run, "lifecycle": lifecycle.run, "latency": latency.run,
    "profile": profile.run, "rollout": rollout.run, "scale": scale.run,
}


async def run(options: Options, console: Console | None = None) -> Report:
    console = console or Console(highlight=False)
    watch = Stopwatch()
    with tempfile.TemporaryDirectory(prefix="kyoso-bench-") as tmp:
        console.print("starting PostgreSQL…")
        async with servers.postgres(options.database_url) as pg:
            report = Report(machine.describe(pg.description,
                                             machine.temporal_cli_version(temporal_cli())),
                            options.as_dict())
            report.sections["postgres"] = watch.elapsed
            ctx = Context(pg, options, report, Path(tmp), console)
            for name in options.sections:
                console.print(f"[bold]{name}[/bold]")
                section = Stopwatch()
                try:
                    await SECTIONS[name](ctx)
                finally:
                    report.sections[name] = section.elapsed
                    console.print(f"  {name}: {section.elapsed:.0f}s")
    return report
