"""(2) The vote's round trip at light load: one Update at a time, against the bare Update.

`light_proposals` proposals are opened (and brought into review) first, together; then, once
all is quiet, every vote is sent alone, waiting for the previous one's answer, three per
proposal (the third adopts).
"""

from __future__ import annotations

import asyncio

from bench.context import Context
from bench.drivers import VOTERS, Driver, FloorDriver, KyosoDriver, Samples
from bench.lifecycle import add_latency
from bench.processes import worker_process
from bench.stats import Latency
from infra.files import load_policies

SETTLE = 3.0


async def one_at_a_time(driver: Driver, proposals: int) -> Samples:
    gate = asyncio.Semaphore(20)

    async def open_review(i: int) -> None:
        async with gate:
            await driver.open_review(i)

    await asyncio.gather(*(open_review(i) for i in range(proposals)))
    await asyncio.sleep(SETTLE)  # their notifications delivered: nothing else runs
    samples = Samples()
    for i in range(proposals):
        for voter in range(len(VOTERS)):
            await driver.cast(i, voter, samples)
    return samples


async def run(ctx: Context) -> None:
    url = await ctx.pg.fresh_database("latency")
    kq, fq = ctx.queue("light-kyoso"), ctx.queue("light-floor")
    n = ctx.options.light_proposals
    async with ctx.temporal() as t, worker_process(
            t.address, t.namespace, ctx.log("latency"), database_url=url, queue=kq,
            floor_queue=fq):
        kyoso = await one_at_a_time(KyosoDriver(t.client, kq, load_policies(None), ctx.tag), n)
        bare = await one_at_a_time(FloorDriver(t.client, fq), n)
    add_latency(ctx, "one at a time", Latency.of(kyoso.votes), Latency.of(bare.votes))
