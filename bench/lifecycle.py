"""(1) Lifecycle throughput against the floor, and (2) the vote's latency under that load.

N proposals are driven through the whole lifecycle, `concurrency` at a time, first with
kyoso's workflows, then with the floor's bare ones, on the same dev server, each served by
its worker in a process of its own (both in the same process, one queue each). The votes of
these lifecycles are the reviewer-action round trips "under load".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bench.context import Context, add_network_members
from bench.cpu import meter
from bench.drivers import EXTRA_MEMBERS, Driver, FloorDriver, KyosoDriver, Pilot, Samples
from bench.processes import worker_process
from bench.report import Figure
from bench.stats import Latency, Stopwatch, percentile, rate
from infra.files import load_policies

WARM_UP = 2  # lifecycles per driver before the clock starts (imports, caches, pools)


@dataclass
class Outcome:
    driver: str
    completed: int
    elapsed: float
    samples: Samples
    durations: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds per role during the run

    @property
    def rate(self) -> float:
        return rate(self.completed, self.elapsed)


def explain(err: BaseException) -> str:
    """An error with its causes (an Update's failure carries the refusal as its cause)."""
    parts: list[str] = []
    current: BaseException | None = err
    while current is not None and len(parts) < 4:
        parts.append(f"{type(current).__name__}: {current}")
        nxt = getattr(current, "cause", None) or current.__cause__
        current = nxt if isinstance(nxt, BaseException) else None
    return " <- ".join(parts)


async def drive(driver: Driver, first: int, count: int, concurrency: int) -> Outcome:
    gate = asyncio.Semaphore(concurrency)
    outcome = Outcome(driver.name, 0, 0.0, Samples())

    async def one(i: int) -> None:
        async with gate:
            watch = Stopwatch()
            try:
                await driver.lifecycle(i, outcome.samples)
            except Exception as err:  # counted and reported, never hidden
                outcome.failures.append(
                    f"{driver.name} #{i} at {driver.progress.get(i, '?')}: {explain(err)}")
                return
            outcome.durations.append(watch.elapsed)
            outcome.completed += 1

    watch = Stopwatch()
    await asyncio.gather(*(one(i) for i in range(first, first + count)))
    outcome.elapsed = watch.elapsed
    return outcome


async def run(ctx: Context) -> None:
    o = ctx.options
    url = await ctx.pg.fresh_database("lifecycle")
    await add_network_members(url, EXTRA_MEMBERS)
    pilot = Pilot(o.pilot_delay, o.pilot_length)
    kq, fq = ctx.queue("kyoso"), ctx.queue("floor")
    outcomes: list[Outcome] = []
    async with ctx.temporal() as t, worker_process(
            t.address, t.namespace, ctx.log("lifecycle"), database_url=url, queue=kq,
            floor_queue=fq) as worker:
        drivers: list[Driver] = [
            KyosoDriver(t.client, kq, load_policies(None), ctx.tag, pilot),
            FloorDriver(t.client, fq, pilot)]
        cpu = meter(worker.pid, t.pid, ctx.pg.postmaster)
        warm = min(WARM_UP, o.proposals)
        await asyncio.gather(*(drive(d, 0, warm, warm) for d in drivers))
        for d in drivers:
            ctx.say(f"{d.name}: {o.proposals} lifecycles, {o.concurrency} in flight")
            before = cpu.snapshot()
            outcomes.append(await drive(d, warm, o.proposals, o.concurrency))
            outcomes[-1].cpu = cpu.spent(before, cpu.snapshot())
            ctx.say(f"{d.name}: {outcomes[-1].rate:.2f} lifecycles/s")
    kyoso, bare = outcomes
    for out in outcomes:
        ctx.report.notes += out.failures[:5]
        if out.failures:
            ctx.report.notes.append(f"{out.driver}: {len(out.failures)} lifecycle(s) failed")
    r = ctx.report
    ratio = kyoso.rate / bare.rate if bare.rate else 0.0
    r.add(Figure("lifecycle", f"lifecycles/s ({o.proposals}, {o.concurrency} in flight)",
                 kyoso.rate, "/s", bare.rate, "floor", ">= 0.8 x floor", ratio >= 0.8))
    if kyoso.durations and bare.durations:
        r.add(Figure("lifecycle", "one lifecycle, p50 wall time",
                     percentile(kyoso.durations, 50), "s", percentile(bare.durations, 50),
                     "floor"))
    for role, seconds in kyoso.cpu.items():
        if kyoso.completed and bare.completed:
            floor_ms = bare.cpu.get(role, 0.0) / bare.completed * 1000
            r.add(Figure("lifecycle", f"CPU per lifecycle: {role}",
                         seconds / kyoso.completed * 1000, "ms",
                         # the floor has no database: its figure would be noise
                         None if role == "PostgreSQL" else floor_ms, "floor"))
    if kyoso.samples.votes and bare.samples.votes:
        k, f = Latency.of(kyoso.samples.votes), Latency.of(bare.samples.votes)
        add_latency(ctx, "under load", k, f)


def add_latency(ctx: Context, load: str, k: Latency, f: Latency) -> None:
    r = ctx.report
    for name, kv, fv in (("p50", k.p50, f.p50), ("p95", k.p95, f.p95)):
        r.add(Figure("vote latency", f"{name} {load} ({k.count} votes)", kv * 1000, "ms",
                     fv * 1000, "bare Update"))
    r.add(Figure("vote latency", f"p99 {load} ({k.count} votes)", k.p99 * 1000, "ms",
                 f.p99 * 1000, "bare Update", "<= 1.5 x floor", k.p99 <= 1.5 * f.p99))
