"""(3) Rebuilding the read models from a log of a million events.

The log is made fast: the decider drives a handful of lifecycles along `corpus.PATHS`, whose
serialised events are cloned with new proposal ids and event ids and loaded with COPY. The
rebuild (`eventstore.projections.rebuild`) is timed against a plain read of the same log
(`SELECT data FROM events ORDER BY position` streamed through a cursor, same prefetch).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bench import corpus
from bench.stats import rate
from domain.values import proposal_id_from_int
from eventstore.projections import rebuild
from infra.files import load_policies

COLUMNS = ("event_id", "stream_id", "proposal_id", "version", "type", "data", "content_hash",
           "occurred_at")
CHUNK = 20_000
PREFETCH = 5000  # as rebuild's default batch


@dataclass(frozen=True)
class Template:
    proposal_id: str
    # (event id, member, version, type, data, occurred_at) in append order
    events: list[tuple[str, str | None, int, str, str, datetime]]


def templates() -> list[Template]:
    policies = load_policies(None)
    out = []
    for n, path in enumerate(corpus.PATHS):
        batches = corpus.lifecycle(n, path=path, policies=policies, adoption_numbers=True)
        pid = batches[0].events[0].proposal_id
        out.append(Template(pid, [
            (str(e.event_id), e.member, e.sequence, e.type, e.model_dump_json(), e.occurred_at)
            for b in batches for e in b.events]))
    return out


def clones(total: int) -> Iterator[list[tuple[object, ...]]]:
    """Rows of `total` events, in chunks: the templates over and over, each time with a new
    proposal id and new event ids."""
    tpl = templates()
    made, k = 0, 0
    chunk: list[tuple[object, ...]] = []
    while made < total:
        t = tpl[k % len(tpl)]
        pid = proposal_id_from_int(2**49 + k)  # never one of the templates' random ids
        k += 1
        for old_id, member, version, typ, data, at in t.events:
            if made == total:
                break
            new_id = str(uuid.UUID(int=made + 1))
            text = data.replace(t.proposal_id, pid).replace(old_id, new_id)
            stream = pid if member is None else f"{pid}/member/{member}"
            chunk.append((new_id, stream, pid, version, typ, text,
                          hashlib.sha256(text.encode()).digest(), at))
            made += 1
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class RebuildFigures:
    events: int
    load_rate: float  # events per second loaded with COPY (generation included)
    rebuild_rate: float
    read_rate: float
    proposals: int
    members: int


async def plain_read(conn: asyncpg.Connection) -> int:
    count = 0
    async with conn.transaction():
        async for _ in conn.cursor("SELECT data FROM events ORDER BY position",
                                   prefetch=PREFETCH):
            count += 1
    return count


async def measure(url: str, total: int) -> RebuildFigures:
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for chunk in clones(total):
            await conn.copy_records_to_table("events", records=chunk, columns=COLUMNS)
        load = rate(total, time.perf_counter() - started)
        await conn.execute("VACUUM (ANALYZE) events")  # hint bits set once, for both readers

        started = time.perf_counter()
        read = await plain_read(conn)
        read_rate = rate(read, time.perf_counter() - started)

        started = time.perf_counter()
        rebuilt = await rebuild(conn)
        rebuild_rate = rate(rebuilt, time.perf_counter() - started)
        if rebuilt != total or read != total:
            raise RuntimeError(f"read {read} and rebuilt {rebuilt} of {total} events")
        proposals = int(await conn.fetchval("SELECT count(*) FROM proposals"))
        members = int(await conn.fetchval("SELECT count(*) FROM rollout_members"))
        return RebuildFigures(total, load, rebuild_rate, read_rate, proposals, members)
    finally:
        await conn.close()
