"""The event catalogue: every fact about a proposal, as one discriminated union.

Each event carries the proposal id, its sequence number in its stream, the time and the actor.
A proposal's main stream holds the lifecycle; each member municipality's part in a rollout is a
stream of its own (``member`` set), so that a rollout to 1,741 municipalities never funnels
through one stream or one workflow history.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy
from domain.network import Municipality
from domain.people import Actor
from domain.pilot import PilotEvaluation, PilotPlan, PilotReport
from domain.policy import DecisionRule, ProgrammePolicies
from domain.proposal import Model, Proposal, ProposalRevision
from domain.stages import Stage
from domain.values import Instant, Lgcode, ProposalId, Town


class VoteDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class ReviewReason(StrEnum):
    PREFERRED = "preferred"  # the proposer's preferred town
    ROUTED = "routed"  # routing rule
    ASSIGNED = "assigned"  # by the secretariat
    REFERRED = "referred"  # from the other town
    REVISED = "revised"  # a new round after a revision


class Tally(Model):
    approve: int = 0
    reject: int = 0
    request_changes: int = 0


class RolloutSummary(Model):
    offered: int = 0
    joined: int = 0
    declined: int = 0
    lapsed: int = 0
    deployed: int = 0
    deployment_expired: int = 0
    withdrawn: int = 0


class EventBase(Model):
    event_id: UUID
    proposal_id: ProposalId
    member: Lgcode | None = None
    sequence: int = Field(ge=1)
    occurred_at: Instant
    actor: Actor

    @property
    def stream_id(self) -> str:
        return stream_id(self.proposal_id, self.member)


def stream_id(proposal_id: str, member: str | None = None) -> str:
    return proposal_id if member is None else f"{proposal_id}/member/{member}"


# -- intake and review ------------------------------------------------------------------------

class ProposalSubmitted(EventBase):
    type: Literal["proposal_submitted"] = "proposal_submitted"
    proposal: Proposal
    policies: ProgrammePolicies
    fingerprint: str


class IntakeAccepted(EventBase):
    type: Literal["intake_accepted"] = "intake_accepted"
    assignment: Deadline | None = None  # set when the secretariat must choose a committee


class IntakeRejected(EventBase):
    type: Literal["intake_rejected"] = "intake_rejected"
    reason: str


class ReviewStarted(EventBase):
    type: Literal["review_started"] = "review_started"
    town: Town
    round: int = Field(ge=1)
    reason: ReviewReason
    eligible: tuple[str, ...]
    excluded: tuple[str, ...] = ()  # reviewers with a conflict of interest
    quorum: int
    rule: DecisionRule
    deadline: Deadline


class VoteCast(EventBase):
    type: Literal["vote_cast"] = "vote_cast"
    round: int
    reviewer_id: str
    decision: VoteDecision
    comment: str


class ChangesRequested(EventBase):
    type: Literal["changes_requested"] = "changes_requested"
    round: int
    comments: tuple[str, ...]
    tally: Tally
    deadline: Deadline


class ProposalRevised(EventBase):
    type: Literal["proposal_revised"] = "proposal_revised"
    round: int
    revision: ProposalRevision


class ProposalReferred(EventBase):
    type: Literal["proposal_referred"] = "proposal_referred"
    from_town: Town
    to_town: Town
    reason: str


class ProposalAdopted(EventBase):
    type: Literal["proposal_adopted"] = "proposal_adopted"
    town: Town
    round: int
    # Allocated by the event store in the append's transaction: unique and gap-free per town.
    adoption_number: int | None = None
    tally: Tally
    plan_deadline: Deadline


class ProposalRejected(EventBase):
    type: Literal["proposal_rejected"] = "proposal_rejected"
    town: Town
    round: int
    tally: Tally


class ProposalWithdrawn(EventBase):
    type: Literal["proposal_withdrawn"] = "proposal_withdrawn"
    reason: str
    stage: Stage


# -- pilot ----------------------------------------------------------------------------------

class PilotPlanned(EventBase):
    type: Literal["pilot_planned"] = "pilot_planned"
    plan: PilotPlan
    start: Deadline


class PilotStarted(EventBase):
    type: Literal["pilot_started"] = "pilot_started"
    report: Deadline | None
    end: Deadline


class PilotReportFiled(EventBase):
    type: Literal["pilot_report_filed"] = "pilot_report_filed"
    number: int
    report: PilotReport
    next_report: Deadline | None


class PilotEnded(EventBase):
    type: Literal["pilot_ended"] = "pilot_ended"
    evaluation: Deadline


class PilotEvaluated(EventBase):
    type: Literal["pilot_evaluated"] = "pilot_evaluated"
    evaluation: PilotEvaluation
    # Set when the pilot is extended: the new end and the next report.
    end: Deadline | None = None
    next_report: Deadline | None = None


# -- rollout (main stream) --------------------------------------------------------------------

class RolloutOffered(EventBase):
    type: Literal["rollout_offered"] = "rollout_offered"
    members: tuple[Lgcode, ...]
    window_due_at: Instant


class ProposalCompleted(EventBase):
    type: Literal["proposal_completed"] = "proposal_completed"
    summary: RolloutSummary


# -- deadlines (any stream) -----------------------------------------------------------------

class ReminderSent(EventBase):
    type: Literal["reminder_sent"] = "reminder_sent"
    kind: DeadlineKind
    due_at: Instant


class Escalated(EventBase):
    type: Literal["escalated"] = "escalated"
    kind: DeadlineKind
    reason: str
    at_deadline: bool = True
    # For waits that recur (progress reports): the wait that follows the missed one.
    next_deadline: Deadline | None = None


class DeadlineExtended(EventBase):
    type: Literal["deadline_extended"] = "deadline_extended"
    kind: DeadlineKind
    deadline: Deadline
    previous_due_at: Instant


class Expired(EventBase):
    type: Literal["expired"] = "expired"
    kind: DeadlineKind


# -- rollout (member streams) -----------------------------------------------------------------

class MemberOffered(EventBase):
    type: Literal["member_offered"] = "member_offered"
    municipality: Municipality
    host_town: Town
    title: str
    window: Deadline
    deployment_policy: DeadlinePolicy


class MemberJoined(EventBase):
    type: Literal["member_joined"] = "member_joined"
    deployment: Deadline


class MemberDeclined(EventBase):
    type: Literal["member_declined"] = "member_declined"
    reason: str


class MemberDeployed(EventBase):
    type: Literal["member_deployed"] = "member_deployed"
    note: str


class MemberLapsed(EventBase):
    type: Literal["member_lapsed"] = "member_lapsed"


class MemberDeploymentExpired(EventBase):
    type: Literal["member_deployment_expired"] = "member_deployment_expired"


class MemberOfferWithdrawn(EventBase):
    type: Literal["member_offer_withdrawn"] = "member_offer_withdrawn"
    reason: str


Event = Annotated[
    ProposalSubmitted
    | IntakeAccepted
    | IntakeRejected
    | ReviewStarted
    | VoteCast
    | ChangesRequested
    | ProposalRevised
    | ProposalReferred
    | ProposalAdopted
    | ProposalRejected
    | ProposalWithdrawn
    | PilotPlanned
    | PilotStarted
    | PilotReportFiled
    | PilotEnded
    | PilotEvaluated
    | RolloutOffered
    | ProposalCompleted
    | ReminderSent
    | Escalated
    | DeadlineExtended
    | Expired
    | MemberOffered
    | MemberJoined
    | MemberDeclined
    | MemberDeployed
    | MemberLapsed
    | MemberDeploymentExpired
    | MemberOfferWithdrawn,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_LIST_ADAPTER: TypeAdapter[list[Event]] = TypeAdapter(list[Event])

EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].default
    for cls in EventBase.__subclasses__()
)


def parse_event(data: dict[str, object] | str | bytes) -> Event:
    if isinstance(data, str | bytes):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)

