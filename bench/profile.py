"""(5) Where a lifecycle's time goes: the kyoso worker under pyinstrument.

A smaller lifecycle run is driven while the worker process samples its main thread (workflow
activations run inline there for the occasion). The reports land in bench/results/:
profile-<time>.html (the call tree), .txt (the same as text) and -hotspots.txt (self time
by package and function, inclusive time of the functions that matter) and .pyisession (the
raw session, for `pyinstrument --load`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.context import Context, add_network_members
from bench.drivers import EXTRA_MEMBERS, KyosoDriver, Pilot
from bench.lifecycle import drive
from bench.processes import worker_process
from bench.report import Figure
from infra.files import load_policies


async def run(ctx: Context) -> None:
    o = ctx.options
    url = await ctx.pg.fresh_database("profile")
    await add_network_members(url, EXTRA_MEMBERS)
    ctx.results.mkdir(parents=True, exist_ok=True)
    path = ctx.results / f"profile-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    q = ctx.queue("profile")
    async with ctx.temporal() as t, worker_process(
            t.address, t.namespace, ctx.log("profile"), database_url=url, queue=q, profile=path):
        driver = KyosoDriver(t.client, q, load_policies(None), ctx.tag,
                             Pilot(o.pilot_delay, o.pilot_length))
        out = await drive(driver, 0, o.profile_proposals, min(o.concurrency, o.profile_proposals))
    ctx.report.notes += out.failures[:5]
    ctx.report.add(Figure("profile", f"lifecycles/s under the profiler ({out.completed})",
                          out.rate, "/s"))
    ctx.report.notes.append(f"profile: {path}.html, {path}.txt, {path}-hotspots.txt")
