"""(4) A rollout to every municipality of Japan (1,741 in the registry, the host excluded).

The whole network joins (`programme.add_members`), one proposal is driven to a successful
evaluation, and the clock runs from the evaluation until every member's workflow has recorded
its offer (its row in `rollout_members`). The proposer then withdraws, which cancels the
batches and withdraws every offer; the clock runs again until all are withdrawn. Last, the
longest history among the proposal, batch and member workflows.
"""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client

from bench.context import Context, add_network_members
from bench.drivers import PROPOSER, KyosoDriver, Pilot, Samples
from bench.processes import worker_process
from bench.report import Figure
from domain.commands import Withdraw
from domain.values import Town
from infra.database import create_pool
from infra.files import load_policies
from infra.registry import load_registry
from workflows.contracts import BATCH_SIZE
from workflows.ids import batch_workflow_id, member_workflow_id
from workflows.proposal import ProposalWorkflow


def network(members: int | None) -> list[str]:
    """lgcodes joining the network so that `members` are offered a Yokoze pilot (all: None);
    Bandai, a founding member, is always one of them."""
    codes = sorted(c for c in load_registry().municipalities
                   if c not in (Town.YOKOZE.lgcode, Town.BANDAI.lgcode))
    return codes if members is None else codes[:max(0, members - 1)]


async def wait_count(url: str, sql: str, args: tuple[object, ...], wanted: int,
                     within: float) -> float:
    """Seconds until `sql` counts `wanted` rows (polled every 0.2 s)."""
    pool = await create_pool(url, max_size=1)
    started = time.perf_counter()
    try:
        while await pool.fetchval(sql, *args) < wanted:
            if time.perf_counter() - started > within:
                raise TimeoutError(f"fewer than {wanted} rows for {sql!r} after {within:.0f}s")
            await asyncio.sleep(0.2)
    finally:
        await pool.close()
    return time.perf_counter() - started


async def longest_histories(client: Client, proposal_id: str, lgcodes: list[str]
                            ) -> tuple[int, int, int]:
    gate = asyncio.Semaphore(50)

    async def length(workflow_id: str) -> int:
        async with gate:
            return (await client.get_workflow_handle(workflow_id).describe()).history_length

    batches = (len(lgcodes) + BATCH_SIZE - 1) // BATCH_SIZE
    proposal = await length(f"proposal-{proposal_id}")
    batch = max(await asyncio.gather(*(length(batch_workflow_id(proposal_id, b))
                                       for b in range(batches))))
    member = max(await asyncio.gather(*(length(member_workflow_id(proposal_id, c))
                                        for c in lgcodes)))
    return proposal, batch, member


async def run(ctx: Context) -> None:
    o = ctx.options
    url = await ctx.pg.fresh_database("rollout")
    joining = network(o.rollout_members)
    await add_network_members(url, joining)
    offered = [Town.BANDAI.lgcode, *joining]
    q = ctx.queue("rollout")
    async with ctx.temporal() as t, worker_process(
            t.address, t.namespace, ctx.log("rollout"), database_url=url, queue=q):
        driver = KyosoDriver(t.client, q, load_policies(None), ctx.tag,
                             Pilot(o.pilot_delay, o.pilot_length))
        handle = await driver.evaluated(0, Samples())
        pid = handle.id.removeprefix("proposal-")
        ctx.say(f"rollout of {pid} to {len(offered)} members")
        limit = 60 + len(offered)
        to_offer = await wait_count(
            url, "SELECT count(*) FROM rollout_members WHERE proposal_id = $1", (pid,),
            len(offered), limit)
        started = time.perf_counter()
        await handle.execute_update(ProposalWorkflow.withdraw, Withdraw(
            actor=PROPOSER, reason="The benchmark is over."))
        await wait_count(
            url, "SELECT count(*) FROM rollout_members WHERE proposal_id = $1 "
                 "AND status = 'withdrawn'", (pid,), len(offered), limit)
        await handle.result()
        to_withdraw = time.perf_counter() - started
        proposal, batch, member = await longest_histories(t.client, pid, offered)
    r = ctx.report
    n = len(offered)
    r.add(Figure("rollout", f"evaluation to all {n} members offered", to_offer, "s"))
    r.add(Figure("rollout", "members offered per second", n / to_offer, "/s"))
    r.add(Figure("rollout", f"withdrawal until all {n} offers withdrawn", to_withdraw, "s"))
    r.add(Figure("rollout", "longest history: proposal", proposal, "events",
                 target="< 10,240 (Temporal's warning)", met=proposal < 10_240))
    r.add(Figure("rollout", "longest history: rollout batch", batch, "events",
                 target="< 10,240", met=batch < 10_240))
    r.add(Figure("rollout", "longest history: member", member, "events",
                 target="< 10,240", met=member < 10_240))
