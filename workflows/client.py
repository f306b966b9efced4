"""Client-side helpers: start a proposal's workflow, find the handles people act on."""

from __future__ import annotations

import uuid

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from domain.commands import Context, Submit
from domain.decider import decide
from domain.people import Actor
from domain.policy import ProgrammePolicies
from domain.proposal import Proposal
from domain.state import ProposalState
from domain.values import proposal_id_from_int
from workflows import search_attributes as sa
from workflows.contracts import ProposalInput
from workflows.ids import member_workflow_id, proposal_workflow_id
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow


def new_proposal_id() -> str:
    return proposal_id_from_int(uuid.uuid4().int)


async def start_proposal(
    client: Client,
    proposal: Proposal,
    policies: ProgrammePolicies,
    *,
    task_queue: str,
    submitted_by: Actor,
    proposal_id: str | None = None,
    history_limit: int | None = None,
) -> WorkflowHandle[ProposalWorkflow, ProposalState]:
    """Start the workflow of a new proposal. The submission is checked here first, so a
    refusal is a clear error for the person submitting, never a failed workflow."""
    pid = proposal_id or new_proposal_id()
    from datetime import UTC, datetime

    decide(ProposalState(), Submit(actor=submitted_by, proposal_id=pid, proposal=proposal,
                                   policies=policies),
           Context(uuid.UUID(int=0), datetime.now(UTC)))
    inp = ProposalInput(proposal_id=pid, proposal=proposal, policies=policies,
                        submitted_by=submitted_by)
    if history_limit is not None:
        inp.history_limit = history_limit
    return await client.start_workflow(
        ProposalWorkflow.run, inp, id=proposal_workflow_id(pid), task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        static_summary=f"{pid}: {proposal.title}",
        static_details=f"Theme {proposal.theme.value}; preferred town "
                       f"{proposal.preferred_town.value}. Personal data is kept in the event "
                       "store, not here.",
        search_attributes=sa.typed(proposal_id=pid, theme=proposal.theme.value,
                                   stage="submitted"),
    )


def proposal_handle(client: Client, proposal_id: str) -> WorkflowHandle[ProposalWorkflow, ProposalState]:
    return client.get_workflow_handle_for(ProposalWorkflow.run, proposal_workflow_id(proposal_id))


def member_handle(client: Client, proposal_id: str, lgcode: str
                  ) -> WorkflowHandle[MembershipWorkflow, object]:
    return client.get_workflow_handle_for(MembershipWorkflow.run,
                                          member_workflow_id(proposal_id, lgcode))
