"""`python -m bench.worker_process`: a worker in a process of its own, so that its memory
and CPU can be measured (and profiled) apart from the driver.

It serves kyoso's production worker (`worker.build_worker`) on --queue and/or the floor's
bare workflows on --floor-queue, prints `ready` on stdout once polling, and stops cleanly
on SIGTERM or SIGINT. With --profile it runs under pyinstrument: workflow activations then
run inline on the event loop's thread (the SDK's debug mode; pyinstrument samples only that
thread), and the reports are written as <profile>.html, .txt and -hotspots.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench import hotspots
from bench.floor import floor_worker
from infra import database
from infra import logging as kyoso_logging
from infra.temporal_client import connect
from worker import build_worker


async def serve(args: argparse.Namespace) -> None:
    client = await connect(target_host=args.address, namespace=args.namespace)
    options: dict[str, Any] = {}
    if args.max_cached_workflows is not None:
        options["max_cached_workflows"] = args.max_cached_workflows
    if args.profile:
        # Activations inline on the event loop's thread, the one pyinstrument samples: the
        # SDK's debug mode (which also turns deadlock detection off).
        options["debug_mode"] = True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    profiler: Any = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
    async with AsyncExitStack() as stack:
        if args.queue:
            pool = await database.create_pool(args.database_url, max_size=args.pool_size)
            stack.push_async_callback(pool.close)
            await stack.enter_async_context(build_worker(client, pool, args.queue, **options))
        if args.floor_queue:
            await stack.enter_async_context(floor_worker(client, args.floor_queue, **options))
        print("ready", flush=True)
        await stop.wait()
    if profiler is not None:
        profiler.stop()
        out = Path(args.profile)
        out.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
        out.with_suffix(".txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
        if profiler.last_session is not None:
            profiler.last_session.save(str(out.with_suffix(".pyisession")))
        root = profiler.last_session.root_frame() if profiler.last_session else None
        if root is not None:
            out.with_name(out.name + "-hotspots.txt").write_text(hotspots.summary(root),
                                                                  encoding="utf-8")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.worker_process", description=__doc__)
    p.add_argument("--address", required=True, help="Temporal frontend host:port")
    p.add_argument("--namespace", default="default")
    p.add_argument("--database-url", help="PostgreSQL URL of the event store (with --queue)")
    p.add_argument("--queue", help="task queue of kyoso's worker")
    p.add_argument("--floor-queue", help="task queue of the floor's bare worker")
    p.add_argument("--pool-size", type=int, default=10, help="as KYOSO_DB_POOL_SIZE")
    p.add_argument("--max-cached-workflows", type=int)
    p.add_argument("--profile", help="write a pyinstrument report to this path (.html, .txt)")
    args = p.parse_args(argv)
    if args.queue and not args.database_url:
        p.error("--queue needs --database-url")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    kyoso_logging.configure("json", "INFO")  # as in production; stderr goes to a log file
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
