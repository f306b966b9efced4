"""Commands: what a person (or the clock, or an activity's finding) asks of a proposal.

A command is exactly what the person asked for; the time and the command id that make its
events unique come separately in a `Context`, from the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from domain.deadlines import DeadlineKind, DeadlinePolicy
from domain.events import RolloutSummary, VoteDecision
from domain.network import Municipality
from domain.people import Actor
from domain.pilot import PilotEvaluation, PilotPlan, PilotReport
from domain.policy import ProgrammePolicies
from domain.proposal import Model, Proposal, ProposalRevision
from domain.values import Comment, Instant, Lgcode, ProposalId, ShortText, Town


@dataclass(frozen=True)
class Context:
    """When a command is decided, and the id its events' ids derive from."""

    command_id: UUID
    at: datetime


class CommandBase(Model):
    actor: Actor


# -- proposal stream --------------------------------------------------------------------------

class Submit(CommandBase):
    kind: Literal["submit"] = "submit"
    proposal_id: ProposalId
    proposal: Proposal
    policies: ProgrammePolicies


class CompleteIntake(CommandBase):
    """The intake checks' findings, gathered by an activity."""

    kind: Literal["complete_intake"] = "complete_intake"
    open_towns: frozenset[Town]
    duplicate_of: ProposalId | None = None


class Assign(CommandBase):
    kind: Literal["assign"] = "assign"
    town: Town


class CastVote(CommandBase):
    kind: Literal["vote"] = "vote"
    decision: VoteDecision
    comment: Comment


class Revise(CommandBase):
    kind: Literal["revise"] = "revise"
    revision: ProposalRevision


class Refer(CommandBase):
    kind: Literal["refer"] = "refer"
    to_town: Town
    reason: Comment


class ExtendDeadline(CommandBase):
    kind: Literal["extend_deadline"] = "extend_deadline"
    deadline: DeadlineKind
    due_at: Instant


class Withdraw(CommandBase):
    kind: Literal["withdraw"] = "withdraw"
    reason: Comment


class PlanPilot(CommandBase):
    kind: Literal["plan_pilot"] = "plan_pilot"
    plan: PilotPlan


class FileReport(CommandBase):
    kind: Literal["file_report"] = "file_report"
    report: PilotReport


class EvaluatePilot(CommandBase):
    kind: Literal["evaluate_pilot"] = "evaluate_pilot"
    evaluation: PilotEvaluation


class OfferRollout(CommandBase):
    kind: Literal["offer_rollout"] = "offer_rollout"
    members: tuple[Lgcode, ...]


class CompleteRollout(CommandBase):
    kind: Literal["complete_rollout"] = "complete_rollout"
    summary: RolloutSummary


class Tick(CommandBase):
    """Time has passed: handle every reminder, escalation and expiry now due."""

    kind: Literal["tick"] = "tick"


ProposalCommand = Annotated[
    Submit
    | CompleteIntake
    | Assign
    | CastVote
    | Revise
    | Refer
    | ExtendDeadline
    | Withdraw
    | PlanPilot
    | FileReport
    | EvaluatePilot
    | OfferRollout
    | CompleteRollout
    | Tick,
    Field(discriminator="kind"),
]
PROPOSAL_COMMAND_ADAPTER: TypeAdapter[ProposalCommand] = TypeAdapter(ProposalCommand)


# -- member streams ---------------------------------------------------------------------------

class OfferMembership(CommandBase):
    kind: Literal["offer_membership"] = "offer_membership"
    proposal_id: ProposalId
    municipality: Municipality
    host_town: Town
    title: ShortText
    window: DeadlinePolicy
    deployment: DeadlinePolicy


class JoinRollout(CommandBase):
    kind: Literal["join"] = "join"


class DeclineRollout(CommandBase):
    kind: Literal["decline"] = "decline"
    reason: Comment


class ReportDeployed(CommandBase):
    kind: Literal["deployed"] = "deployed"
    note: Comment


class WithdrawOffer(CommandBase):
    kind: Literal["withdraw_offer"] = "withdraw_offer"
    reason: Comment


MemberCommand = Annotated[
    OfferMembership
    | JoinRollout
    | DeclineRollout
    | ReportDeployed
    | WithdrawOffer
    | ExtendDeadline
    | Tick,
    Field(discriminator="kind"),
]
MEMBER_COMMAND_ADAPTER: TypeAdapter[MemberCommand] = TypeAdapter(MemberCommand)
