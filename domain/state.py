"""A proposal's state, and `evolve`: the fold of its events.

`evolve` never refuses an event: events are facts. It is used inside the workflow after each
decision, and by the event store to maintain and rebuild the proposals projection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.deadlines import Deadline, DeadlineKind, next_wakeup
from domain.events import (
    ChangesRequested,
    DeadlineExtended,
    Escalated,
    Event,
    Expired,
    IntakeAccepted,
    IntakeRejected,
    PilotEnded,
    PilotEvaluated,
    PilotPlanned,
    PilotReportFiled,
    PilotStarted,
    ProposalAdopted,
    ProposalCompleted,
    ProposalReferred,
    ProposalRejected,
    ProposalRevised,
    ProposalSubmitted,
    ProposalWithdrawn,
    ReminderSent,
    ReviewStarted,
    RolloutOffered,
    RolloutSummary,
    VoteCast,
    VoteDecision,
)
from domain.pilot import PilotOutcome, PilotPlan
from domain.policy import ProgrammePolicies, TownPolicy
from domain.proposal import Model, Proposal
from domain.stages import Stage
from domain.values import Instant, Town


class VoteRecord(Model):
    reviewer_id: str
    decision: VoteDecision
    comment: str


class ProposalState(Model):
    proposal_id: str | None = None
    version: int = 0
    stage: Stage | None = None
    proposal: Proposal | None = None
    policies: ProgrammePolicies | None = None
    fingerprint: str | None = None
    submitted_at: Instant | None = None
    updated_at: Instant | None = None
    town: Town | None = None
    round: int = 0
    eligible: tuple[str, ...] = ()
    votes: tuple[VoteRecord, ...] = ()
    referred_from: tuple[Town, ...] = ()
    revisions: int = 0
    adoption_number: int | None = None
    decided_at: Instant | None = None
    pilot: PilotPlan | None = None
    reports_filed: int = 0
    extensions: int = 0
    rollout_members: int = 0
    rollout_summary: RolloutSummary | None = None
    deadlines: tuple[Deadline, ...] = ()
    closed_reason: str | None = None

    # -- reading helpers -------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.stage is not None and not self.stage.is_terminal

    def deadline(self, kind: DeadlineKind) -> Deadline | None:
        return next((d for d in self.deadlines if d.kind is kind), None)

    def town_policy(self) -> TownPolicy:
        assert self.policies is not None and self.town is not None
        return self.policies.of(self.town)

    def next_wakeup(self) -> datetime | None:
        """The earliest moment at which time alone changes something."""
        return next_wakeup(self.deadlines)

    def waiting_for(self) -> Deadline | None:
        """The wait a person is most urgently expected to end (for operators and lists)."""
        person = [d for d in self.deadlines if d.kind.waits_for_a_person]
        return min(person, key=lambda d: d.due_at) if person else None


# -- deadline bookkeeping -------------------------------------------------------------------------

def with_deadline(deadlines: tuple[Deadline, ...], new: Deadline | None, *drop: DeadlineKind
                  ) -> tuple[Deadline, ...]:
    gone = set(drop) | ({new.kind} if new else set())
    kept = tuple(d for d in deadlines if d.kind not in gone)
    return (*kept, new) if new else kept


def _mark(deadlines: tuple[Deadline, ...], kind: DeadlineKind, **flags: bool
          ) -> tuple[Deadline, ...]:
    return tuple(d.model_copy(update=flags) if d.kind is kind else d for d in deadlines)


# -- the fold -------------------------------------------------------------------------------------

def evolve(state: ProposalState, event: Event) -> ProposalState:
    if event.member is not None:
        raise ValueError(f"{event.type} belongs to a member's stream, not the proposal's")
    if event.sequence != state.version + 1:
        raise ValueError(
            f"event {event.sequence} of {event.proposal_id} does not follow version {state.version}"
        )
    common = {"version": event.sequence, "updated_at": event.occurred_at}
    return state.model_copy(update={**common, **_changes(state, event)})


def _changes(s: ProposalState, e: Event) -> dict[str, object]:
    dl = s.deadlines
    match e:
        case ProposalSubmitted():
            return {
                "proposal_id": e.proposal_id,
                "stage": Stage.SUBMITTED,
                "proposal": e.proposal,
                "policies": e.policies,
                "fingerprint": e.fingerprint,
                "submitted_at": e.occurred_at,
            }
        case IntakeAccepted():
            if e.assignment is None:
                return {}
            return {"stage": Stage.AWAITING_ASSIGNMENT, "deadlines": with_deadline(dl, e.assignment)}
        case IntakeRejected():
            return {"stage": Stage.REJECTED_AT_INTAKE, "closed_reason": e.reason, "deadlines": ()}
        case ReviewStarted():
            return {
                "stage": Stage.IN_REVIEW,
                "town": e.town,
                "round": e.round,
                "eligible": e.eligible,
                "votes": (),
                "deadlines": with_deadline(
                    dl, e.deadline, DeadlineKind.ASSIGNMENT, DeadlineKind.REVISION
                ),
            }
        case VoteCast():
            vote = VoteRecord(reviewer_id=e.reviewer_id, decision=e.decision, comment=e.comment)
            return {"votes": (*s.votes, vote)}
        case ChangesRequested():
            return {
                "stage": Stage.CHANGES_REQUESTED,
                "deadlines": with_deadline(dl, e.deadline, DeadlineKind.REVIEW),
            }
        case ProposalRevised():
            assert s.proposal is not None
            return {
                "proposal": s.proposal.revised(e.revision),
                "revisions": s.revisions + 1,
                "deadlines": with_deadline(dl, None, DeadlineKind.REVISION),
            }
        case ProposalReferred():
            return {"referred_from": (*s.referred_from, e.from_town)}
        case ProposalAdopted():
            return {
                "stage": Stage.ADOPTED,
                "adoption_number": e.adoption_number,
                "decided_at": e.occurred_at,
                "deadlines": with_deadline(dl, e.plan_deadline, DeadlineKind.REVIEW),
            }
        case ProposalRejected():
            return {"stage": Stage.REJECTED, "decided_at": e.occurred_at, "deadlines": (),
                    "closed_reason": "rejected by the committee"}
        case ProposalWithdrawn():
            return {"stage": Stage.WITHDRAWN, "closed_reason": e.reason, "deadlines": ()}
        case PilotPlanned():
            return {
                "stage": Stage.PILOT_PLANNED,
                "pilot": e.plan,
                "deadlines": with_deadline(dl, e.start, DeadlineKind.PILOT_PLAN),
            }
        case PilotStarted():
            kept = with_deadline(dl, e.end, DeadlineKind.PILOT_START)
            return {"stage": Stage.PILOT, "deadlines": with_deadline(kept, e.report)}
        case PilotReportFiled():
            return {
                "reports_filed": s.reports_filed + 1,
                "deadlines": with_deadline(dl, e.next_report, DeadlineKind.REPORT),
            }
        case PilotEnded():
            return {
                "stage": Stage.EVALUATING,
                "deadlines": with_deadline(
                    dl, e.evaluation, DeadlineKind.REPORT, DeadlineKind.PILOT_END
                ),
            }
        case PilotEvaluated():
            return _evaluated(s, e)
        case RolloutOffered():
            return {"stage": Stage.ROLLOUT, "rollout_members": len(e.members), "deadlines": ()}
        case ProposalCompleted():
            return {"stage": Stage.COMPLETED, "rollout_summary": e.summary, "deadlines": ()}
        case ReminderSent():
            return {"deadlines": _mark(dl, e.kind, reminded=True)}
        case Escalated():
            if not e.at_deadline:
                return {}
            if e.next_deadline is not None:
                return {"deadlines": with_deadline(dl, e.next_deadline)}
            return {"deadlines": _mark(dl, e.kind, reminded=True, escalated=True)}
        case DeadlineExtended():
            return {"deadlines": with_deadline(dl, e.deadline)}
        case Expired():
            return {"stage": Stage.EXPIRED, "deadlines": (),
                    "closed_reason": f"no answer by the deadline for {e.kind.label}"}
        case _:
            raise ValueError(f"{e.type} does not apply to a proposal's stream")


def _evaluated(s: ProposalState, e: PilotEvaluated) -> dict[str, object]:
    outcome = e.evaluation.outcome
    dl = with_deadline(s.deadlines, None, DeadlineKind.EVALUATION)
    if outcome is PilotOutcome.SUCCESS:
        return {"stage": Stage.EVALUATED, "deadlines": dl}
    if outcome is PilotOutcome.STOP:
        return {"stage": Stage.STOPPED, "deadlines": (), "closed_reason": "pilot stopped"}
    assert s.pilot is not None and e.evaluation.new_end_date is not None
    dl = with_deadline(with_deadline(dl, e.end), e.next_report)
    return {
        "stage": Stage.PILOT,
        "pilot": s.pilot.extended_to(e.evaluation.new_end_date),
        "extensions": s.extensions + 1,
        "deadlines": dl,
    }


def fold(events: Iterable[Event], state: ProposalState | None = None) -> ProposalState:
    state = state or ProposalState()
    for event in events:
        state = evolve(state, event)
    return state
