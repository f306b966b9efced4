"""A deliberately non-deterministic change of the proposal workflow, for the replay test: it
waits on a timer before doing anything, so its commands no longer match recorded histories."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.state import ProposalState
    from workflows.contracts import ProposalInput
    from workflows.proposal import ProposalWorkflow


@workflow.defn(name="ProposalWorkflow")
class ProposalWorkflowWithAnExtraTimer(ProposalWorkflow):
    @workflow.run
    async def run(self, inp: ProposalInput) -> ProposalState:
        await workflow.sleep(timedelta(seconds=1), summary="a change that breaks replay")
        return await super().run(inp)
