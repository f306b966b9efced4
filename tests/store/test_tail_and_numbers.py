"""The global order a tailing reader sees, idempotence across a killed connection, and
adoption numbers."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest

from domain.events import Event, ProposalAdopted
from domain.notifications import Notification
from eventstore.errors import ConcurrencyError
from eventstore.store import EventStore, RecordedEvent
from tests.lifecycle import Lifecycle


async def test_a_later_writer_waits_for_an_open_transaction_so_no_position_is_skipped(
        store: EventStore, pool: asyncpg.Pool) -> None:
    """A transaction holding a position keeps later writers from committing higher ones."""
    slow, fast = Lifecycle(10), Lifecycle(11)
    exp_slow, ev_slow, _ = slow.submit()
    exp_fast, ev_fast, _ = fast.submit()
    async with pool.acquire() as held:
        tx = held.transaction()
        await tx.start()
        slow_result = await store.append(slow.proposal_id, exp_slow, ev_slow, conn=held)
        fast_task = asyncio.create_task(store.append(fast.proposal_id, exp_fast, ev_fast))
        await asyncio.sleep(0.5)
        assert not fast_task.done(), "a later writer committed past an open position"
        assert await store.read_all(0) == []
        await tx.commit()
    fast_result = await fast_task
    assert slow_result.positions[0] < fast_result.positions[0]
    seen = await store.read_all(0)
    assert [r.position for r in seen] == [*slow_result.positions, *fast_result.positions]


async def test_tailing_reader_sees_every_event_exactly_once_in_order_under_load(
        store: EventStore) -> None:
    lifecycles = [Lifecycle(200 + i) for i in range(12)]
    done = asyncio.Event()
    seen: list[RecordedEvent] = []

    async def tail() -> None:
        position = 0
        while True:
            finished = done.is_set()
            batch = await store.read_all(position, limit=7)
            seen.extend(batch)
            if batch:
                position = batch[-1].position
            elif finished:
                return
            await asyncio.sleep(0)

    async def write(lc: Lifecycle) -> None:
        for expected, events, notes in [*lc.to_review(), lc.vote("yokoze-r1")]:
            async with store.pool.acquire() as c, c.transaction():
                await store.append(lc.proposal_id, expected, events, notifications=notes, conn=c)
                await asyncio.sleep(random.uniform(0, 0.02))  # commit late, out of order

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(write(lc) for lc in lifecycles))
    done.set()
    await reader
    positions = [r.position for r in seen]
    assert positions == sorted(positions)
    assert len(positions) == len(set(positions)) == sum(lc.state.version for lc in lifecycles)


async def test_reappend_after_connection_killed_between_commit_and_reply(
        store: EventStore, pool: asyncpg.Pool, db_url: str) -> None:
    """A commit that is durable but whose reply never arrives: the retry must find it.

    With a synchronous standby that never exists, COMMIT writes locally, then waits for
    replication before answering; killing the backend in that wait loses only the reply.
    """
    lc = Lifecycle(12)
    expected, events, notes = lc.submit()
    admin = await asyncpg.connect(db_url)
    try:
        await admin.execute("SET synchronous_commit = local")
        await admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'kyoso_never'")
        await admin.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.3)
        victim = await asyncpg.connect(db_url)
        victim_pid = victim.get_server_pid()
        writer = asyncio.create_task(
            store.append(lc.proposal_id, expected, events, notifications=notes, conn=victim))
        for _ in range(100):
            waiting = await admin.fetchval(
                "SELECT wait_event FROM pg_stat_activity WHERE pid = $1", victim_pid)
            if waiting == "SyncRep":
                break
            await asyncio.sleep(0.05)
        assert waiting == "SyncRep", "the commit never reached the replication wait"
        await admin.fetchval("SELECT pg_terminate_backend($1)", victim_pid)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await writer
    finally:
        await admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
        await admin.execute("SELECT pg_reload_conf()")
        await admin.close()
    await asyncio.sleep(0.3)
    retried = await store.append(lc.proposal_id, expected, events, notifications=notes)
    assert retried.replayed
    assert await pool.fetchval("SELECT count(*) FROM events") == len(events)
    assert await pool.fetchval("SELECT count(*) FROM outbox") == len(notes)


Batch = tuple[int, list[Event], list[Notification]]


async def _adopt(store: EventStore, n: int) -> tuple[Lifecycle, Batch]:
    lc = Lifecycle(n)
    for batch in [*lc.to_review(), lc.vote("yokoze-r1")]:
        await store.append(lc.proposal_id, batch[0], batch[1], notifications=batch[2])
    return lc, lc.vote("yokoze-r2")


async def test_adoption_numbers_are_unique_and_gap_free_under_concurrency(
        store: EventStore, pool: asyncpg.Pool) -> None:
    ready = [await _adopt(store, 300 + i) for i in range(20)]
    # A losing racer allocates a number inside its transaction; the rollback must return it.
    loser_lc, loser_batch = ready[0]
    results = await asyncio.gather(
        *(store.append(lc.proposal_id, b[0], b[1], notifications=b[2]) for lc, b in ready),
        *(store.append(loser_lc.proposal_id, loser_batch[0],
                       [e.model_copy(update={"event_id": uuid.uuid4()})
                        for e in loser_batch[1]]) for _ in range(3)),
        return_exceptions=True,
    )
    numbers = sorted(r.adoption_number or 0 for r in results if not isinstance(r, BaseException))
    # Either the original or a copy of proposal 0 wins; 20 adoptions in all.
    assert numbers == list(range(1, 21))
    assert all(isinstance(r, ConcurrencyError) for r in results if isinstance(r, BaseException))
    rows = await pool.fetch("SELECT number FROM adoption_numbers WHERE town = 'yokoze'")
    assert sorted(r["number"] for r in rows) == list(range(1, 21))
    projected = await pool.fetch("SELECT adoption_number FROM proposals")
    assert sorted(r["adoption_number"] for r in projected) == list(range(1, 21))
    # A retry of an adoption returns the number it got the first time.
    lc, batch = ready[5]
    if not isinstance(results[5], BaseException):
        again = await store.append(lc.proposal_id, batch[0], batch[1], notifications=batch[2])
        assert again.replayed and again.adoption_number == results[5].adoption_number
        stored = (await store.load_stream(lc.proposal_id))[-1]
        assert isinstance(stored, ProposalAdopted)
        assert stored.adoption_number == again.adoption_number
        mails = await pool.fetch(
            "SELECT payload->>'adoption_number' AS n FROM outbox WHERE template = 'adopted' "
            "AND proposal_id = $1", lc.proposal_id)
        assert mails and {m["n"] for m in mails} == {str(again.adoption_number)}
