"""The projection rebuilt from the log equals the inline one; migrations are idempotent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest

from domain.commands import (
    CompleteRollout,
    EvaluatePilot,
    OfferRollout,
    PlanPilot,
    Tick,
    Withdraw,
)
from domain.events import RolloutSummary, VoteDecision
from domain.pilot import Kpi, PilotEvaluation, PilotOutcome, PilotPlan
from eventstore.migrate import MigrationError, discover, migrate, migrate_url
from eventstore.projections import rebuild
from eventstore.store import EventStore
from infra.database import with_database
from tests.factories import PROPOSER, SECRETARIAT, SYSTEM
from tests.lifecycle import Lifecycle, MemberLifecycle


async def _drive_many(store: EventStore) -> None:
    async def put(lc: Lifecycle | MemberLifecycle, batch: tuple) -> None:  # type: ignore[type-arg]
        stream = lc.proposal_id if isinstance(lc, Lifecycle) else f"{lc.proposal_id}/member/{lc.lgcode}"
        await store.append(stream, batch[0], batch[1], notifications=batch[2])

    for i in range(6):
        lc = Lifecycle(400 + i)
        for b in lc.to_review():
            await put(lc, b)
        if i % 3 == 0:
            await put(lc, lc.batch(Withdraw(actor=PROPOSER, reason="no budget this year")))
            continue
        decision = VoteDecision.APPROVE if i % 2 else VoteDecision.REJECT
        await put(lc, lc.vote("yokoze-r1", decision))
        await put(lc, lc.vote("yokoze-r2", decision))
        if lc.state.stage is None or lc.state.stage.value != "adopted":
            continue
        start = (lc.clock.now + timedelta(days=3)).date()
        await put(lc, lc.batch(PlanPilot(actor=SECRETARIAT, plan=PilotPlan(
            start_date=start, end_date=start + timedelta(days=40),
            kpis=(Kpi(name="riders", target="50"),)))))
        await put(lc, lc.batch(Tick(actor=SYSTEM), lc.clock.ctx(timedelta(days=60))))
        await put(lc, lc.batch(EvaluatePilot(actor=SECRETARIAT, evaluation=PilotEvaluation(
            outcome=PilotOutcome.SUCCESS, comment="riders doubled"))))
        await put(lc, lc.batch(OfferRollout(actor=SYSTEM, members=("074071",))))
        member = MemberLifecycle(lc.proposal_id, "074071", lc.clock)
        await put(member, member.offer())
        await put(member, member.join())
        await put(lc, lc.batch(CompleteRollout(actor=SYSTEM, summary=RolloutSummary(
            offered=1, joined=1)), lc.clock.ctx()))


async def _snapshot(pool: asyncpg.Pool) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
    proposals = [dict(r) for r in await pool.fetch("SELECT * FROM proposals ORDER BY proposal_id")]
    members = [dict(r) for r in await pool.fetch(
        "SELECT * FROM rollout_members ORDER BY proposal_id, lgcode")]
    return proposals, members


async def test_rebuild_gives_exactly_the_inline_rows(store: EventStore, pool: asyncpg.Pool
                                                     ) -> None:
    await _drive_many(store)
    inline = await _snapshot(pool)
    assert {r["stage"] for r in inline[0]} >= {"withdrawn", "rejected", "completed"}
    assert len(inline[1]) >= 1
    async with pool.acquire() as c:
        count = await rebuild(c)
    assert count == await pool.fetchval("SELECT count(*) FROM events")
    assert await _snapshot(pool) == inline


async def test_rebuild_detects_a_drifted_row(store: EventStore, pool: asyncpg.Pool) -> None:
    """The comparison above is meaningful: a damaged row is put right by the rebuild."""
    await _drive_many(store)
    inline = await _snapshot(pool)
    await pool.execute("UPDATE proposals SET stage = 'expired'")
    assert await _snapshot(pool) != inline
    async with pool.acquire() as c:
        await rebuild(c)
    assert await _snapshot(pool) == inline


async def test_migrations_run_twice_and_concurrently(pg_admin_url: str) -> None:
    name = f"kyoso_m_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f"CREATE DATABASE {name}")
    url = with_database(pg_admin_url, name)
    try:
        applied = await asyncio.gather(*(migrate_url(url) for _ in range(5)))
        everything = [f"{m.version:04d}_{m.name}" for m in discover()]
        # Exactly one runner applied each migration; the others found nothing to do.
        assert sorted(name for names in applied for name in names) == everything
        assert await migrate_url(url) == []
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
            assert [r["version"] for r in rows] == [m.version for m in discover()]
            await conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
            with pytest.raises(MigrationError, match="changed after it was applied"):
                await migrate(conn)
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
