"""(3) Appending: EventStore.append with the proposals projection against plain INSERTs.

Single-event appends are timed one by one (realistic events: every event of a lifecycle, in
order, each with its notifications). Throughput is events per second for one writer and for
eight writers (asyncio tasks sharing one pool, as activities share a worker's pool), with the
batches the workflows append (1-3 events) and with whole streams per append (the ceiling).
The baseline inserts the very same rows, already serialised, into a table of the same shape
(`plain_events`, with the same indexes): no transaction around it, no version check, no
idempotency lookup, no lock, no outbox, no projection.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from bench import corpus
from bench.corpus import Batch
from bench.stats import Latency, rate
from eventstore.projections import ProposalsProjection
from eventstore.store import EventStore
from infra.files import load_policies

Item = TypeVar("Item")
PLAIN_TABLE = "CREATE TABLE plain_events (LIKE events INCLUDING ALL)"
PLAIN_INSERT = """
    INSERT INTO plain_events (event_id, stream_id, proposal_id, version, type, data,
                              content_hash, occurred_at)
    SELECT u.event_id, u.stream_id, u.proposal_id, u.version, u.type, u.data::jsonb,
           u.content_hash, u.occurred_at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],
                $7::bytea[], $8::timestamptz[])
         AS u(event_id, stream_id, proposal_id, version, type, data, content_hash, occurred_at)"""


@dataclass(frozen=True)
class PlainRows:
    """A batch's rows as the plain INSERT takes them: serialised beforehand, untimed."""

    columns: tuple[list[object], ...]
    count: int

    @classmethod
    def of(cls, batch: Batch) -> PlainRows:
        data = [e.model_dump_json() for e in batch.events]
        return cls((
            [e.event_id for e in batch.events], [batch.stream_id] * len(batch.events),
            [e.proposal_id for e in batch.events], [e.sequence for e in batch.events],
            [e.type for e in batch.events], list(data),
            [hashlib.sha256(d.encode()).digest() for d in data],
            [e.occurred_at for e in batch.events]), len(batch.events))


def lifecycles(count: int) -> list[list[Batch]]:
    policies = load_policies(None)
    return [corpus.lifecycle(n, policies=policies) for n in range(count)]


def single_events(lives: Sequence[Sequence[Batch]]) -> Iterator[Batch]:
    """Every event on its own, in order, with the notifications it causes."""
    for life in lives:
        for b in life:
            for i, e in enumerate(b.events):
                yield Batch(b.stream_id, b.expected + i, [e],
                            [n for n in b.notifications if n.event_id == e.event_id])


def whole_streams(life: Sequence[Batch]) -> list[Batch]:
    """A lifecycle's streams, each in one append (the largest batches there are)."""
    streams: dict[str, Batch] = {}
    for b in life:
        s = streams.get(b.stream_id)
        streams[b.stream_id] = b if s is None else Batch(
            b.stream_id, s.expected, s.events + b.events, s.notifications + b.notifications)
    return list(streams.values())


async def append_latencies(store: EventStore, batches: Sequence[Batch]) -> list[float]:
    samples = []
    for b in batches:
        started = time.perf_counter()
        await store.append(b.stream_id, b.expected, b.events, notifications=b.notifications)
        samples.append(time.perf_counter() - started)
    return samples


async def plain_latencies(pool: asyncpg.Pool, rows: Sequence[PlainRows]) -> list[float]:
    samples = []
    for r in rows:
        started = time.perf_counter()
        async with pool.acquire() as c:
            await c.execute(PLAIN_INSERT, *r.columns)
        samples.append(time.perf_counter() - started)
    return samples


async def _writers(work: Sequence[Sequence[Item]], writers: int,
                   one: Callable[[Item], Awaitable[int]]) -> float:
    """Events per second of `writers` tasks, each taking the next lifecycle from the pile;
    `one` appends an item and returns its number of events."""
    pile = iter(work)
    events = 0

    async def writer() -> None:
        nonlocal events
        for life in pile:
            for item in life:
                appended = await one(item)  # not `events += await …`: that loses updates
                events += appended

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return rate(events, time.perf_counter() - started)


async def store_rate(store: EventStore, work: Sequence[Sequence[Batch]], writers: int) -> float:
    async def one(b: Batch) -> int:
        await store.append(b.stream_id, b.expected, b.events, notifications=b.notifications)
        return len(b.events)
    return await _writers(work, writers, one)


async def plain_rate(pool: asyncpg.Pool, work: Sequence[Sequence[PlainRows]], writers: int
                     ) -> float:
    async def one(r: PlainRows) -> int:
        async with pool.acquire() as c:
            await c.execute(PLAIN_INSERT, *r.columns)
        return r.count
    return await _writers(work, writers, one)


@dataclass(frozen=True)
class AppendFigures:
    append: Latency
    plain: Latency
    # events per second: (store, plain) for each case
    one_writer: tuple[float, float]
    many_writers: tuple[float, float]
    one_writer_streams: tuple[float, float]
    many_writers_streams: tuple[float, float]


async def measure(url: str, samples: int, lifecycles_per_run: int, writers: int
                  ) -> AppendFigures:
    pool = await asyncpg.create_pool(url, min_size=writers, max_size=writers + 1)
    assert pool is not None
    try:
        await pool.execute(PLAIN_TABLE)
        store = EventStore(pool, [ProposalsProjection()])
        # Warm up both paths (connections, prepared statements) on one lifecycle.
        warm = list(single_events(lifecycles(1)))
        await append_latencies(store, warm)
        await plain_latencies(pool, [PlainRows.of(b) for b in warm])

        per_life = 24
        singles = list(single_events(lifecycles(max(1, samples // per_life + 1))))[:samples]
        append = await append_latencies(store, singles)
        plain = await plain_latencies(pool, [PlainRows.of(b) for b in singles])

        figures = []
        for count, streams in ((1, False), (writers, False), (1, True), (writers, True)):
            work = lifecycles(lifecycles_per_run)
            if streams:
                work = [whole_streams(life) for life in work]
            rows = [[PlainRows.of(b) for b in life] for life in work]
            figures.append((await store_rate(store, work, count),
                            await plain_rate(pool, rows, count)))
        return AppendFigures(Latency.of(append), Latency.of(plain), *figures)
    finally:
        await pool.close()
