"""Inputs and results of the workflows and their Updates."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from domain.deadlines import DeadlinePolicy
from domain.events import RolloutSummary
from domain.network import Municipality
from domain.people import Actor
from domain.policy import ProgrammePolicies
from domain.proposal import Proposal
from domain.rollout import MembershipState
from domain.stages import MemberStatus
from domain.state import ProposalState
from domain.values import ProposalId, Town

BATCH_SIZE = 200  # members per rollout batch workflow: ~3 history events each


class ProposalInput(BaseModel):
    proposal_id: ProposalId
    proposal: Proposal
    policies: ProgrammePolicies
    submitted_by: Actor
    # Carried across continue-as-new: the state so far and notifications not yet delivered.
    snapshot: ProposalState | None = None
    undelivered: list[str] = Field(default_factory=list)
    # Continue as new once the history holds this many events (Temporal also suggests it).
    history_limit: int = 5000


class ActionResult(BaseModel):
    """What an accepted action did: the events it recorded and where the proposal is now."""

    proposal_id: str
    stage: str
    version: int
    events: list[str]
    adoption_number: int | None = None


class BatchInput(BaseModel):
    proposal_id: ProposalId
    batch: int
    host_town: Town
    title: str
    members: list[Municipality]
    window: DeadlinePolicy
    deployment: DeadlinePolicy
    secretariat_email: str


class MemberInput(BaseModel):
    proposal_id: ProposalId
    municipality: Municipality
    host_town: Town
    title: str
    window: DeadlinePolicy
    deployment: DeadlinePolicy
    secretariat_email: str
    snapshot: MembershipState | None = None
    undelivered: list[str] = Field(default_factory=list)


class MemberOutcome(BaseModel):
    lgcode: str
    status: MemberStatus


def summarise(outcomes: list[MemberOutcome]) -> RolloutSummary:
    counts = {s: 0 for s in MemberStatus}
    for o in outcomes:
        counts[o.status] += 1
    deployed = counts[MemberStatus.DEPLOYED]
    expired = counts[MemberStatus.DEPLOYMENT_EXPIRED]
    return RolloutSummary(
        offered=len(outcomes), joined=deployed + expired + counts[MemberStatus.JOINED],
        declined=counts[MemberStatus.DECLINED], lapsed=counts[MemberStatus.LAPSED],
        deployed=deployed, deployment_expired=expired, withdrawn=counts[MemberStatus.WITHDRAWN],
    )


def add(a: RolloutSummary, b: RolloutSummary) -> RolloutSummary:
    return RolloutSummary(**{k: getattr(a, k) + getattr(b, k) for k in RolloutSummary.model_fields})


RECORD_TIMEOUT = timedelta(seconds=30)
DELIVERY_TIMEOUT = timedelta(minutes=2)
