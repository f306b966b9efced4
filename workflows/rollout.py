"""A batch of a rollout: starts one membership workflow per member and sums their outcomes.

Batches keep every history short: the proposal's holds one child per batch, a batch one per
member, and each member its own few dozen events, however large the network grows.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.events import RolloutSummary
    from workflows import search_attributes as sa
    from workflows.contracts import BatchInput, MemberInput, MemberOutcome, summarise
    from workflows.ids import member_workflow_id
    from workflows.membership import MembershipWorkflow


@workflow.defn
class RolloutBatchWorkflow:
    @workflow.run
    async def run(self, inp: BatchInput) -> RolloutSummary:
        workflow.set_current_details(
            f"**{inp.proposal_id}** rollout batch {inp.batch}: waiting for "
            f"{len(inp.members)} member municipalities")
        handles = await asyncio.gather(*(
            workflow.start_child_workflow(
                MembershipWorkflow.run,
                MemberInput(proposal_id=inp.proposal_id, municipality=m, host_town=inp.host_town,
                            title=inp.title, window=inp.window, deployment=inp.deployment,
                            secretariat_email=inp.secretariat_email),
                id=member_workflow_id(inp.proposal_id, m.lgcode),
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=f"{inp.proposal_id} rollout to {m.lgcode}",
                search_attributes=sa.typed(proposal_id=inp.proposal_id, town=inp.host_town.value,
                                           member=m.lgcode, stage="offered"),
            )
            for m in inp.members
        ))
        outcomes: list[MemberOutcome] = list(await asyncio.gather(*handles))
        return summarise(outcomes)
