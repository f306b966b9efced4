from __future__ import annotations

import asyncpg
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.commands import CastVote
from domain.events import VoteDecision
from domain.values import Role
from tests.factories import policies, proposal
from domain.people import Actor
from workflows.client import start_proposal
from workflows.proposal import ProposalWorkflow


async def test_adopt(ts_env: WorkflowEnvironment, ts_worker: Worker, task_queue: str, pool: asyncpg.Pool) -> None:
    h = await start_proposal(ts_env.client, proposal(), policies(), task_queue=task_queue,
                             submitted_by=Actor(role=Role.SECRETARIAT, id="office"))
    for r in ("yokoze-r1", "yokoze-r2"):
        res = await h.execute_update(ProposalWorkflow.vote, CastVote(actor=Actor(role=Role.REVIEWER, id=r), decision=VoteDecision.APPROVE, comment="ok"))
        print(res)
    st = await h.query(ProposalWorkflow.current_state)
    print(st.stage, st.adoption_number)
    print(await pool.fetch("select stage, adoption_number from proposals"))
    print(await pool.fetch("select template, status from outbox"))
