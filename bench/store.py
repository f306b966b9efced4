"""(3) The event store: append latency and throughput against plain INSERTs, and the
projection rebuild of a million events against a plain read of the log."""

from __future__ import annotations

from bench import appends, rebuild
from bench.context import Context
from bench.report import Figure


async def run(ctx: Context) -> None:
    o = ctx.options
    r = ctx.report
    via = ctx.pg.transport
    url = await ctx.pg.fresh_database("appends")
    ctx.say(f"appends over {via}: {o.append_samples} single events, then "
            f"{o.writer_lifecycles} lifecycles per throughput run")
    a = await appends.measure(url, o.append_samples, o.writer_lifecycles, o.writers)
    for name, value, plain, target, met in (
            ("p50", a.append.p50, a.plain.p50, "< 1 ms", a.append.p50 < 0.001),
            ("p95", a.append.p95, a.plain.p95, "", None),
            ("p99", a.append.p99, a.plain.p99, "< 5 ms", a.append.p99 < 0.005)):
        r.add(Figure("store", f"append 1 event, {name} ({via})", value * 1000, "ms",
                     plain * 1000, "plain INSERT", target, met))
    (one, one_plain), (many, many_plain) = a.one_writer, a.many_writers
    r.add(Figure("store", "events/s, 1 writer, 1-3 per append", one, "/s", one_plain,
                 "plain INSERT", ">= 5,000", one >= 5000))
    r.add(Figure("store", f"events/s, {o.writers} writers, 1-3 per append", many, "/s",
                 many_plain, "plain INSERT"))
    (one, one_plain), (many, many_plain) = a.one_writer_streams, a.many_writers_streams
    r.add(Figure("store", "events/s, 1 writer, whole streams", one, "/s", one_plain,
                 "plain INSERT"))
    r.add(Figure("store", f"events/s, {o.writers} writers, whole streams", many, "/s",
                 many_plain, "plain INSERT"))

    url = await ctx.pg.fresh_database("rebuild")
    ctx.say(f"rebuild: loading {o.rebuild_events:,} events with COPY")
    b = await rebuild.measure(url, o.rebuild_events)
    r.add(Figure("store", f"rebuild, {b.events:,} events", b.rebuild_rate, "events/s",
                 b.read_rate, "plain cursor read", ">= 50,000", b.rebuild_rate >= 50_000))
    r.add(Figure("store", "log loaded with COPY (clones made on the fly)", b.load_rate,
                 "events/s"))
    r.notes.append(f"rebuild: {b.proposals:,} proposals and {b.members:,} member rows "
                   f"from {b.events:,} events")
