"""Appending: optimistic concurrency, idempotent retries, the outbox and the inline projection."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from domain.events import VoteCast, VoteDecision
from domain.state import fold
from eventstore.errors import ConcurrencyError, IdempotencyConflict
from eventstore.store import EventStore
from tests.lifecycle import Lifecycle


async def test_append_then_load_gives_the_same_events_and_projects_them(
        store: EventStore, pool: asyncpg.Pool) -> None:
    lc = Lifecycle(1)
    written = []
    for expected, events, notes in lc.to_review():
        result = await store.append(lc.proposal_id, expected, events, notifications=notes)
        assert result.version == expected + len(events)
        written += events
    assert await store.load_stream(lc.proposal_id) == written
    row = await pool.fetchrow("SELECT * FROM proposals WHERE proposal_id = $1", lc.proposal_id)
    assert row["stage"] == "in_review"
    assert row["version"] == len(written)
    assert row["town"] == "yokoze"
    assert row["waiting_for"] == "review"
    assert fold(written).model_dump_json() == fold(await store.load_stream(lc.proposal_id)
                                                   ).model_dump_json()


async def test_stale_expected_version_raises_and_writes_nothing(
        store: EventStore, pool: asyncpg.Pool) -> None:
    lc = Lifecycle(2)
    for expected, events, notes in lc.to_review():
        await store.append(lc.proposal_id, expected, events, notifications=notes)
    before = await pool.fetchval("SELECT count(*) FROM events")
    outbox_before = await pool.fetchval("SELECT count(*) FROM outbox")
    _, events, notes = lc.vote("yokoze-r1")
    stale = [e.model_copy(update={"sequence": e.sequence - 1}) for e in events]
    with pytest.raises(ConcurrencyError) as err:
        await store.append(lc.proposal_id, events[0].sequence - 2, stale, notifications=notes)
    assert err.value.actual == events[0].sequence - 1
    assert await pool.fetchval("SELECT count(*) FROM events") == before
    assert await pool.fetchval("SELECT count(*) FROM outbox") == outbox_before


async def test_reappending_the_same_events_is_a_no_op_returning_the_original_positions(
        store: EventStore, pool: asyncpg.Pool) -> None:
    lc = Lifecycle(3)
    expected, events, notes = lc.submit()
    first = await store.append(lc.proposal_id, expected, events, notifications=notes)
    again = await store.append(lc.proposal_id, expected, events, notifications=notes)
    assert again.replayed and not first.replayed
    assert again.positions == first.positions
    assert await pool.fetchval("SELECT count(*) FROM events") == len(events)
    assert await pool.fetchval("SELECT count(*) FROM outbox") == len(notes)


async def test_different_events_at_an_existing_version_are_a_conflict(
        store: EventStore) -> None:
    lc = Lifecycle(4)
    for expected, events, notes in lc.to_review():
        await store.append(lc.proposal_id, expected, events, notifications=notes)
    fork = Lifecycle(4)
    fork.proposal = lc.proposal
    expected, events, _ = fork.submit()  # other ids, version 1 already taken
    with pytest.raises(ConcurrencyError):
        await store.append(lc.proposal_id, expected, events)
    # The same ids with other content are refused, not mistaken for a retry.
    recorded = await store.load_stream(lc.proposal_id)
    tampered = recorded[0].model_copy(update={"fingerprint": "0" * 64})
    with pytest.raises(IdempotencyConflict):
        await store.append(lc.proposal_id, 0, [tampered])


async def test_ten_concurrent_appenders_on_distinct_proposals_all_succeed(
        store: EventStore, pool: asyncpg.Pool) -> None:
    lifecycles = [Lifecycle(100 + i) for i in range(10)]

    async def drive(lc: Lifecycle) -> None:
        for expected, events, notes in [*lc.to_review(), lc.vote("yokoze-r1"),
                                        lc.vote("yokoze-r2")]:
            await store.append(lc.proposal_id, expected, events, notifications=notes)

    await asyncio.gather(*(drive(lc) for lc in lifecycles))
    for lc in lifecycles:
        stream = await store.load_stream(lc.proposal_id)
        assert [e.sequence for e in stream] == list(range(1, lc.state.version + 1))
    positions = [r["position"] for r in await pool.fetch("SELECT position FROM events")]
    assert len(positions) == len(set(positions)) == sum(lc.state.version for lc in lifecycles)
    stages = {r["stage"] for r in await pool.fetch("SELECT stage FROM proposals")}
    assert stages == {"adopted"}


async def test_twenty_racers_on_one_proposal_exactly_one_wins(
        store: EventStore, pool: asyncpg.Pool) -> None:
    lc = Lifecycle(5)
    for expected, events, notes in lc.to_review():
        await store.append(lc.proposal_id, expected, events, notifications=notes)
    base = lc.state
    batches = []
    for i in range(20):
        racer = Lifecycle(5)
        racer.state = base
        batches.append(racer.vote(f"yokoze-r{1 + i % 3}", VoteDecision.REQUEST_CHANGES))

    results = await asyncio.gather(
        *(store.append(lc.proposal_id, exp, evs, notifications=notes)
          for exp, evs, notes in batches),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1
    assert all(isinstance(r, ConcurrencyError) for r in losses)
    assert await pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_id = $1", lc.proposal_id) == base.version + 1
    # The stream stays appendable at the winner's version.
    winner = batches[results.index(wins[0])]
    lc.state = fold(winner[1], base)
    won = winner[1][0]
    assert isinstance(won, VoteCast)
    expected, events, _ = lc.vote("yokoze-r3" if won.reviewer_id != "yokoze-r3" else "yokoze-r2")
    assert (await store.append(lc.proposal_id, expected, events)).version == lc.state.version
