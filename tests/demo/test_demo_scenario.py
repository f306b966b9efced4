"""The demo's scenario end to end on the dev server and PostgreSQL: every case ends where it
should, and the summary it prints is what the event store and the Web UI hold."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from temporalio.testing import WorkflowEnvironment

from demo.runner import run_scenario
from domain.stages import Stage
from worker import build_worker
from workflows import search_attributes as sa


async def test_the_demo_walks_every_path_and_its_summary_matches_the_store(
        dev_env: WorkflowEnvironment, pool: asyncpg.Pool) -> None:
    task_queue = f"demo-{uuid.uuid4().hex[:8]}"
    async with build_worker(dev_env.client, pool, task_queue):
        rows = await run_scenario(dev_env.client, pool, pace=0.4, task_queue=task_queue,
                                  progress=False)
    assert len(rows) == 12
    assert [r.stage for r in rows if not r.ok] == []
    stages = {r.stage for r in rows}
    assert stages == {s.value for s in (Stage.COMPLETED, Stage.PILOT, Stage.ADOPTED,
                                        Stage.REJECTED, Stage.WITHDRAWN, Stage.EXPIRED,
                                        Stage.REJECTED_AT_INTAKE, Stage.STOPPED)}
    # The summary's figures are the store's.
    for r in rows:
        assert r.events == await pool.fetchval(
            "SELECT count(*) FROM events WHERE proposal_id = $1", r.proposal_id)
        assert r.notifications == await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE proposal_id = $1", r.proposal_id)
        number = await pool.fetchval(
            "SELECT number FROM adoption_numbers WHERE proposal_id = $1", r.proposal_id)
        assert r.adoption_number == number
    yokoze = sorted(r.adoption_number for r in rows if r.town == "yokoze" and r.adoption_number)
    assert yokoze == list(range(1, len(yokoze) + 1))  # gap-free in this fresh database
    bus = next(r for r in rows if r.case.key == "bus")
    members = await pool.fetch(
        "SELECT status, count(*) AS n FROM rollout_members WHERE proposal_id = $1 GROUP BY 1",
        bus.proposal_id)
    assert {m["status"]: m["n"] for m in members} == {"deployed": 3, "declined": 2, "lapsed": 2}
    # And the Web UI shows every demo proposal with its stage.
    for r in rows:
        for _ in range(50):
            found = [w async for w in dev_env.client.list_workflows(
                f"KyosoProposalId = '{r.proposal_id}' AND WorkflowType = 'ProposalWorkflow'")]
            if found and found[0].typed_search_attributes.get(sa.STAGE) == r.stage:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"{r.proposal_id} is not visible with stage {r.stage}")
