"""(4) Ten thousand proposals open at once, waiting for review, on one worker.

The worker runs in a process of its own, configured as in production (`worker.build_worker`,
the SDK's workflow cache unless --max-cached-workflows). Its RSS and the dev server's are
read (psutil) before the proposals are submitted and once every one of them is in review
with its notifications delivered.
"""

from __future__ import annotations

import asyncio
import time

from bench.context import Context
from bench.cpu import meter
from bench.drivers import SECRETARIAT, bench_proposal
from bench.processes import Memory, memory, worker_process
from bench.report import Figure
from bench.rollout import wait_count
from infra.files import load_policies
from workflows.client import start_proposal

MIB = 2**20
SETTLE = 3.0  # seconds for the last workflow tasks (search attributes, timers) to finish


async def run(ctx: Context) -> None:
    o = ctx.options
    n = o.open_proposals
    url = await ctx.pg.fresh_database("scale")
    q = ctx.queue("scale")
    policies = load_policies(None)
    async with ctx.temporal() as t, worker_process(
            t.address, t.namespace, ctx.log("scale"), database_url=url, queue=q,
            max_cached_workflows=o.max_cached_workflows) as worker:
        server_pid = t.pid
        await asyncio.sleep(SETTLE)
        worker_before = memory(worker.pid)
        server_before = memory(server_pid) if server_pid else None
        cpu = meter(worker.pid, server_pid, ctx.pg.postmaster)
        cpu_before = cpu.snapshot()
        gate = asyncio.Semaphore(100)

        async def submit(i: int) -> None:
            async with gate:
                await start_proposal(t.client, bench_proposal(f"scale-{ctx.tag}", i),
                                     policies, task_queue=q, submitted_by=SECRETARIAT)

        ctx.say(f"submitting {n} proposals")
        started = time.perf_counter()
        await asyncio.gather(*(submit(i) for i in range(n)))
        await wait_count(url, "SELECT count(*) FROM proposals WHERE stage = 'in_review'", (),
                         n, 60 + n / 2)
        await wait_count(url, "SELECT count(*) FROM outbox WHERE status <> 'pending'", (),
                         int(await _outbox_size(url)), 60 + n / 2)
        elapsed = time.perf_counter() - started
        spent = cpu.spent(cpu_before, cpu.snapshot())
        await asyncio.sleep(SETTLE)
        worker_after = memory(worker.pid)
        server_after = memory(server_pid) if server_pid else None
    r = ctx.report
    cache = o.max_cached_workflows or 1000
    r.add(Figure("scale", f"{n} proposals submitted to in review", n / elapsed, "/s"))
    for role, seconds in spent.items():
        r.add(Figure("scale", f"CPU per proposal to review: {role}", seconds / n * 1000, "ms"))
    _rss(ctx, f"worker RSS, idle → {n} open (cache {cache})", worker_before, worker_after,
         "< 1 GiB")
    if server_before and server_after:
        _rss(ctx, f"dev server RSS, before → {n} open", server_before, server_after, "")
    else:
        r.notes.append("scale: the Temporal server's process is not on this machine; "
                       "its memory was not measured")


async def _outbox_size(url: str) -> int:
    from infra.database import create_pool

    pool = await create_pool(url, max_size=1)
    try:
        return int(await pool.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await pool.close()


def _rss(ctx: Context, measure: str, before: Memory, after: Memory, target: str) -> None:
    met = after.rss < 2**30 if target else None
    ctx.report.add(Figure("scale", measure, after.rss / MIB, "MiB", before.rss / MIB,
                          "before", target, met))
    if after.peak:
        ctx.report.add(Figure("scale", measure.split(",")[0] + ", peak (VmHWM)",
                              after.peak / MIB, "MiB"))
