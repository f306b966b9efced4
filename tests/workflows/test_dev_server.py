"""On the Temporal dev server (real visibility, as an operator's Web UI sees it): proposals are
found with the queries an operator types, the Web UI shows what each waits for, and no search
attribute carries personal data."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import temporalio.api.sdk.v1
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.stages import Stage
from eventstore.store import EventStore
from tests.workflows.helpers import Harness, Run, eventually
from worker import build_worker

VISIBILITY_WAIT = 20.0  # visibility is eventually consistent


async def found(client: Client, query: str) -> set[str]:
    return {w.id async for w in client.list_workflows(query)}


async def current_details(run: Run) -> str:
    """What the Web UI shows as the workflow's current details."""
    metadata = await run.handle.query("__temporal_workflow_metadata",
                                      result_type=temporalio.api.sdk.v1.WorkflowMetadata)
    return str(metadata.current_details)


async def test_operators_find_proposals_and_see_what_they_wait_for(
        dev_env: WorkflowEnvironment, pool: asyncpg.Pool, store: EventStore) -> None:
    task_queue = f"kyoso-dev-{uuid.uuid4().hex[:8]}"
    async with build_worker(dev_env.client, pool, task_queue):
        h = Harness(dev_env, pool, store, task_queue)
        try:
            adopted = await h.submit()
            await adopted.adopt()
            waiting = await h.submit()
            await waiting.at(Stage.IN_REVIEW)
            await check_visibility(h, adopted, waiting)
            await adopted.check()
            await waiting.check()
        finally:
            await h.terminate_all()


async def check_visibility(h: Harness, adopted: Run, waiting: Run) -> None:
    client = h.client
    ours = f" AND TaskQueue = '{h.task_queue}'"
    expectations = {
        "KyosoStage = 'adopted'": {adopted.handle.id},
        "KyosoTown = 'yokoze' AND KyosoStage = 'in_review'": {waiting.handle.id},
        "KyosoAdoptionNumber = 1": {adopted.handle.id},
        "KyosoWaitingFor = 'review'": {waiting.handle.id},
        "KyosoWaitingFor = 'pilot_plan'": {adopted.handle.id},
        f"KyosoProposalId = '{waiting.proposal_id}'": {waiting.handle.id},
        "KyosoTheme = 'mobility' AND ExecutionStatus = 'Running'": {adopted.handle.id,
                                                                   waiting.handle.id},
    }
    for query, wanted in expectations.items():
        async def matches(query: str = query, wanted: set[str] = wanted) -> bool:
            # The operator's query as typed; our task queue keeps other tests' workflows out.
            return await found(client, query + ours) == wanted
        await eventually(matches, f"visibility query {query!r}", within=VISIBILITY_WAIT)

    for run, stage, wait in ((adopted, "adopted", "Waiting for the pilot plan"),
                             (waiting, "in_review", "Waiting for the committee's decision")):
        desc = await run.handle.describe()
        assert desc.status is WorkflowExecutionStatus.RUNNING
        assert await desc.static_summary() == f"{run.proposal_id}: {run.proposal.title}"
        details = await desc.static_details()
        assert details is not None and "Personal data is kept in the event store" in details
        now = await current_details(run)
        assert f"stage **{stage}**" in now and wait in now
        if run is waiting:
            assert "Votes: 0 of 3 eligible reviewers" in now
        else:
            assert "採択No.1" in now

        attributes: dict[str, Any] = {p.key.name: p.value for p in desc.typed_search_attributes}
        assert attributes["KyosoStage"] == stage
        assert attributes["KyosoProposalId"] == run.proposal_id
        personal = (run.proposal.proposer.contact.email, run.proposal.proposer.contact.name)
        for name, value in attributes.items():
            text = str(value)
            assert "@" not in text, f"{name} holds an e-mail address"
            assert all(p not in text for p in personal), f"{name} holds personal data"
        for text in (await desc.static_summary() or "", details, now):
            assert all(p not in text for p in personal), "personal data shown in the Web UI"
