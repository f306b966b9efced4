"""`decide(state, command, ctx) -> events`: every rule of the programme, in one place.

A refused command raises `DomainError` and yields no events; an accepted one yields the events
that `evolve` folds into the next state. The workflow and the validators of its Updates call
this same function, so a refusal is known before anything enters the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.commands import (
    Assign,
    CastVote,
    CompleteIntake,
    CompleteRollout,
    Context,
    EvaluatePilot,
    ExtendDeadline,
    FileReport,
    OfferRollout,
    PlanPilot,
    ProposalCommand,
    Refer,
    Revise,
    Submit,
    Tick,
    Withdraw,
)
from domain.deadlines import Deadline, DeadlineKind, Moment
from domain.errors import DomainError, ErrorCode
from domain.events import (
    ChangesRequested,
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
    ReviewReason,
    ReviewStarted,
    RolloutOffered,
    RolloutSummary,
    Tally,
    VoteCast,
    VoteDecision,
)
from domain.kit import Emitter, due_moments, extend, require_role
from domain.pilot import PilotOutcome
from domain.policy import DecisionRule, TownPolicy
from domain.stages import Stage
from domain.state import ProposalState, evolve
from domain.values import Role, Town, today_jst

Step = Emitter[ProposalState]


def decide(state: ProposalState, command: ProposalCommand, ctx: Context) -> list[Event]:
    if isinstance(command, Submit):
        if state.stage is not None:
            raise DomainError(
                ErrorCode.ALREADY_SUBMITTED, f"proposal {state.proposal_id} was already submitted"
            )
        proposal_id = command.proposal_id
    else:
        if state.stage is None or state.proposal_id is None:
            raise DomainError(ErrorCode.NOT_SUBMITTED, "the proposal has not been submitted")
        proposal_id = state.proposal_id
        if state.stage.is_terminal:
            if isinstance(command, Tick):
                return []
            raise DomainError(
                ErrorCode.WRONG_STAGE,
                f"proposal {proposal_id} is {state.stage.value}: nothing more can be done",
            )
    step: Step = Emitter(state, evolve, ctx, command, proposal_id)
    handler: Callable[[Step, Any, Context], None] = _HANDLERS[type(command)]
    handler(step, command, ctx)
    return step.events


# -- intake ---------------------------------------------------------------------------------------

def _submit(step: Step, c: Submit, ctx: Context) -> None:
    require_role(c, Role.PROPOSER, Role.SECRETARIAT)
    step.emit(
        ProposalSubmitted, proposal=c.proposal, policies=c.policies,
        fingerprint=c.proposal.fingerprint(),
    )


def _complete_intake(step: Step, c: CompleteIntake, ctx: Context) -> None:
    require_role(c, Role.SYSTEM)
    s = step.state
    _expect(s, Stage.SUBMITTED, "intake checks")
    assert s.proposal is not None and s.policies is not None
    if c.duplicate_of is not None and c.duplicate_of != s.proposal_id:
        step.emit(IntakeRejected, reason=f"an identical proposal is already open: {c.duplicate_of}")
        return
    wanted = s.proposal.preferred_town.town
    if wanted is not None:
        if wanted not in c.open_towns:
            programme = s.policies.of(wanted).programme
            step.emit(IntakeRejected, reason=f"intake of {programme} is paused")
            return
        step.emit(IntakeAccepted)
        _start_review(step, wanted, ReviewReason.PREFERRED, ctx)
        return
    if not c.open_towns:
        step.emit(IntakeRejected, reason="intake of both programmes is paused")
    elif len(c.open_towns) == 1:
        step.emit(IntakeAccepted)
        _start_review(step, next(iter(c.open_towns)), ReviewReason.ROUTED, ctx)
    else:
        routed = s.policies.of(s.policies.route(s.proposal.theme))
        step.emit(IntakeAccepted, assignment=routed.assignment.open(DeadlineKind.ASSIGNMENT, ctx.at))


def _assign(step: Step, c: Assign, ctx: Context) -> None:
    require_role(c, Role.SECRETARIAT)
    _expect(step.state, Stage.AWAITING_ASSIGNMENT, "assigning a committee")
    _start_review(step, c.town, ReviewReason.ASSIGNED, ctx)


# -- review ---------------------------------------------------------------------------------------

def _start_review(step: Step, town: Town, reason: ReviewReason, ctx: Context) -> None:
    s = step.state
    assert s.policies is not None and s.proposal is not None
    policy = s.policies.of(town)
    parties = s.proposal.parties()
    eligible = tuple(r.reviewer_id for r in policy.committee if not r.conflicted_with(parties))
    excluded = tuple(r.reviewer_id for r in policy.committee if r.conflicted_with(parties))
    step.emit(
        ReviewStarted, town=town, round=s.round + 1, reason=reason, eligible=eligible,
        excluded=excluded, quorum=policy.quorum, rule=policy.rule,
        deadline=policy.review.open(DeadlineKind.REVIEW, ctx.at),
    )
    if len(eligible) < policy.quorum:
        step.emit(
            Escalated, kind=DeadlineKind.REVIEW, at_deadline=False,
            reason=f"only {len(eligible)} of {len(policy.committee)} reviewers may vote; "
            f"the quorum is {policy.quorum}: refer the proposal or change the committee",
        )


def _vote(step: Step, c: CastVote, ctx: Context) -> None:
    require_role(c, Role.REVIEWER)
    s = step.state
    _expect(s, Stage.IN_REVIEW, "voting")
    assert s.policies is not None and s.proposal is not None and s.town is not None
    reviewer_id = c.actor.id
    reviewer = s.policies.find_reviewer(reviewer_id)
    if reviewer is None:
        raise DomainError(ErrorCode.NOT_ON_COMMITTEE, f"{reviewer_id} is not a reviewer")
    if reviewer.town is not s.town:
        raise DomainError(
            ErrorCode.NOT_ON_COMMITTEE,
            f"{reviewer_id} sits on {reviewer.town.label}'s committee; "
            f"this proposal is reviewed by {s.town.label}",
        )
    if reviewer.conflicted_with(s.proposal.parties()):
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            f"{reviewer_id} is affiliated with the proposer and may not vote on this proposal",
        )
    if any(v.reviewer_id == reviewer_id for v in s.votes):
        raise DomainError(
            ErrorCode.ALREADY_VOTED, f"{reviewer_id} has already voted in review round {s.round}"
        )
    step.emit(VoteCast, round=s.round, reviewer_id=reviewer_id, decision=c.decision,
              comment=c.comment)
    _decide_round(step, ctx)


def tally(state: ProposalState) -> Tally:
    counts = {d: sum(1 for v in state.votes if v.decision is d) for d in VoteDecision}
    return Tally(
        approve=counts[VoteDecision.APPROVE],
        reject=counts[VoteDecision.REJECT],
        request_changes=counts[VoteDecision.REQUEST_CHANGES],
    )


def round_outcome(policy: TownPolicy, eligible: int, t: Tally) -> VoteDecision | None:
    """The committee's decision once enough votes are in, by the town's rule; else None."""
    cast = t.approve + t.reject + t.request_changes
    if cast < policy.quorum:
        return None
    if policy.rule is DecisionRule.UNANIMOUS:
        if t.approve == cast:
            return VoteDecision.APPROVE
        return VoteDecision.REJECT if t.reject else VoteDecision.REQUEST_CHANGES
    for decision, count in (
        (VoteDecision.APPROVE, t.approve),
        (VoteDecision.REJECT, t.reject),
        (VoteDecision.REQUEST_CHANGES, t.request_changes),
    ):
        if 2 * count > cast:
            return decision
    return VoteDecision.REQUEST_CHANGES if cast >= eligible else None


def _decide_round(step: Step, ctx: Context) -> None:
    s = step.state
    assert s.town is not None
    policy = s.town_policy()
    t = tally(s)
    outcome = round_outcome(policy, len(s.eligible), t)
    if outcome is VoteDecision.APPROVE:
        step.emit(
            ProposalAdopted, town=s.town, round=s.round, tally=t,
            plan_deadline=policy.pilot_plan.open(DeadlineKind.PILOT_PLAN, ctx.at),
        )
    elif outcome is VoteDecision.REJECT:
        step.emit(ProposalRejected, town=s.town, round=s.round, tally=t)
    elif outcome is VoteDecision.REQUEST_CHANGES:
        comments = tuple(v.comment for v in s.votes if v.decision is not VoteDecision.APPROVE)
        step.emit(
            ChangesRequested, round=s.round, comments=comments, tally=t,
            deadline=policy.revision.open(DeadlineKind.REVISION, ctx.at),
        )


def _revise(step: Step, c: Revise, ctx: Context) -> None:
    require_role(c, Role.PROPOSER)
    s = step.state
    _expect(s, Stage.CHANGES_REQUESTED, "revising")
    assert s.town is not None
    step.emit(ProposalRevised, round=s.round, revision=c.revision)
    _start_review(step, s.town, ReviewReason.REVISED, ctx)


def _refer(step: Step, c: Refer, ctx: Context) -> None:
    s = step.state
    _expect(s, Stage.IN_REVIEW, "referring")
    assert s.town is not None and s.policies is not None
    if c.actor.role is Role.REVIEWER:
        reviewer = s.policies.of(s.town).reviewer(c.actor.id)
        if reviewer is None:
            raise DomainError(
                ErrorCode.NOT_ON_COMMITTEE,
                f"only {s.town.label}'s committee or the secretariat may refer this proposal",
            )
        assert s.proposal is not None
        if reviewer.conflicted_with(s.proposal.parties()):
            raise DomainError(
                ErrorCode.CONFLICT_OF_INTEREST,
                f"{reviewer.reviewer_id} is affiliated with the proposer and may not refer it",
            )
    else:
        require_role(c, Role.SECRETARIAT, Role.REVIEWER)
    if c.to_town is s.town:
        raise DomainError(ErrorCode.BAD_REFERRAL, f"the proposal is already with {s.town.label}")
    if c.to_town in s.referred_from:
        raise DomainError(
            ErrorCode.BAD_REFERRAL,
            f"{c.to_town.label} already referred this proposal away; it cannot go back",
        )
    step.emit(ProposalReferred, from_town=s.town, to_town=c.to_town, reason=c.reason)
    _start_review(step, c.to_town, ReviewReason.REFERRED, ctx)


def _withdraw(step: Step, c: Withdraw, ctx: Context) -> None:
    require_role(c, Role.PROPOSER, Role.SECRETARIAT)
    assert step.state.stage is not None
    step.emit(ProposalWithdrawn, reason=c.reason, stage=step.state.stage)


def _extend(step: Step, c: ExtendDeadline, ctx: Context) -> None:
    extend(step, c, ctx.at)


# -- pilot ----------------------------------------------------------------------------------------

def _plan_pilot(step: Step, c: PlanPilot, ctx: Context) -> None:
    require_role(c, Role.SECRETARIAT)
    _expect(step.state, (Stage.ADOPTED, Stage.PILOT_PLANNED), "planning the pilot")
    if c.plan.start_date < today_jst(ctx.at):
        raise DomainError(
            ErrorCode.INVALID,
            f"the pilot cannot start in the past ({c.plan.start_date} is before today, "
            f"{today_jst(ctx.at)} JST)",
        )
    step.emit(PilotPlanned, plan=c.plan,
              start=Deadline.scheduled(DeadlineKind.PILOT_START, c.plan.starts_at))


def _report_after(step: Step, due: Deadline | None) -> Deadline | None:
    """The report that falls due one interval after `due`, if the pilot still runs then."""
    s = step.state
    assert s.pilot is not None
    policy = s.town_policy().report
    start = s.pilot.starts_at if due is None else due.due_at
    nxt = policy.open(DeadlineKind.REPORT, start)
    return nxt if nxt.due_at < s.pilot.ends_at else None


def _file_report(step: Step, c: FileReport, ctx: Context) -> None:
    require_role(c, Role.PROPOSER)
    s = step.state
    if s.stage is not Stage.PILOT:
        raise DomainError(
            ErrorCode.WRONG_STAGE,
            f"pilot reports can be filed only while the pilot runs; the proposal is {s.stage}",
        )
    current = s.deadline(DeadlineKind.REPORT)
    step.emit(
        PilotReportFiled, number=s.reports_filed + 1, report=c.report,
        next_report=_report_after(step, current) if current else None,
    )


def _evaluate(step: Step, c: EvaluatePilot, ctx: Context) -> None:
    require_role(c, Role.SECRETARIAT)
    s = step.state
    _expect(s, Stage.EVALUATING, "evaluating the pilot")
    assert s.pilot is not None
    ev = c.evaluation
    if ev.outcome is not PilotOutcome.EXTEND:
        step.emit(PilotEvaluated, evaluation=ev)
        return
    assert ev.new_end_date is not None
    if ev.new_end_date <= today_jst(ctx.at):
        raise DomainError(ErrorCode.INVALID, "an extended pilot must end after today")
    if ev.new_end_date <= s.pilot.end_date:
        raise DomainError(ErrorCode.INVALID, f"the new end date must be after {s.pilot.end_date}")
    extended = s.pilot.extended_to(ev.new_end_date)
    report = s.town_policy().report.open(DeadlineKind.REPORT, ctx.at)
    step.emit(
        PilotEvaluated, evaluation=ev,
        end=Deadline.scheduled(DeadlineKind.PILOT_END, extended.ends_at),
        next_report=report if report.due_at < extended.ends_at else None,
    )


# -- rollout --------------------------------------------------------------------------------------

def _offer_rollout(step: Step, c: OfferRollout, ctx: Context) -> None:
    require_role(c, Role.SYSTEM)
    _expect(step.state, Stage.EVALUATED, "offering the rollout")
    assert step.state.town is not None
    if len(set(c.members)) != len(c.members):
        raise DomainError(ErrorCode.INVALID, "a rollout offer lists a municipality twice")
    if step.state.town.lgcode in c.members:
        raise DomainError(ErrorCode.INVALID, "the hosting town is not offered its own pilot")
    window = step.state.town_policy().rollout_window
    step.emit(RolloutOffered, members=c.members, window_due_at=window.open(
        DeadlineKind.ROLLOUT_WINDOW, ctx.at).due_at)
    if not c.members:
        step.emit(ProposalCompleted, summary=RolloutSummary())


def _complete_rollout(step: Step, c: CompleteRollout, ctx: Context) -> None:
    require_role(c, Role.SYSTEM)
    _expect(step.state, Stage.ROLLOUT, "completing the rollout")
    step.emit(ProposalCompleted, summary=c.summary)


# -- time -----------------------------------------------------------------------------------------

def _tick(step: Step, c: Tick, ctx: Context) -> None:
    require_role(c, Role.SYSTEM)
    for deadline, moment in due_moments(lambda: step.state, ctx.at, lambda: step.state.is_open):
        if moment is Moment.REMIND:
            step.emit(ReminderSent, kind=deadline.kind, due_at=deadline.due_at)
        elif moment is Moment.EXPIRE:
            step.emit(Expired, kind=deadline.kind)
        else:
            _on_due(step, deadline, ctx)


def _on_due(step: Step, deadline: Deadline, ctx: Context) -> None:
    s = step.state
    kind = deadline.kind
    if kind is DeadlineKind.PILOT_START:
        assert s.pilot is not None
        step.emit(PilotStarted, report=_report_after(step, None),
                  end=Deadline.scheduled(DeadlineKind.PILOT_END, s.pilot.ends_at))
    elif kind is DeadlineKind.PILOT_END:
        step.emit(PilotEnded,
                  evaluation=s.town_policy().evaluation.open(DeadlineKind.EVALUATION, ctx.at))
    elif kind is DeadlineKind.ASSIGNMENT:
        assert s.policies is not None and s.proposal is not None
        town = s.policies.route(s.proposal.theme)
        step.emit(Escalated, kind=kind,
                  reason=f"no committee was assigned in time; routed to {town.label} by rule")
        _start_review(step, town, ReviewReason.ROUTED, ctx)
    elif kind is DeadlineKind.REPORT:
        assert s.pilot is not None
        period = round((deadline.due_at - s.pilot.starts_at) / s.town_policy().report.days)
        step.emit(Escalated, kind=kind,
                  reason=f"the progress report due {today_jst(deadline.due_at)} (period {period}) "
                  f"is overdue; {s.reports_filed} report(s) filed so far",
                  next_deadline=_report_after(step, deadline))
    elif deadline.expire_at is None:
        step.emit(Expired, kind=kind)
    else:
        step.emit(Escalated, kind=kind,
                  reason=f"no answer by the deadline for {kind.label}; it expires on "
                  f"{today_jst(deadline.expire_at).isoformat()} (JST)")


def _expect(state: ProposalState, stages: Stage | tuple[Stage, ...], doing: str) -> None:
    allowed = stages if isinstance(stages, tuple) else (stages,)
    if state.stage not in allowed:
        need = " or ".join(a.value for a in allowed)
        raise DomainError(
            ErrorCode.WRONG_STAGE,
            f"{doing} needs the proposal to be {need}; "
            f"{state.proposal_id} is {state.stage.value if state.stage else 'not submitted'}",
        )


_HANDLERS: dict[type, Callable[[Step, Any, Context], None]] = {
    Submit: _submit,
    CompleteIntake: _complete_intake,
    Assign: _assign,
    CastVote: _vote,
    Revise: _revise,
    Refer: _refer,
    ExtendDeadline: _extend,
    Withdraw: _withdraw,
    PlanPilot: _plan_pilot,
    FileReport: _file_report,
    EvaluatePilot: _evaluate,
    OfferRollout: _offer_rollout,
    CompleteRollout: _complete_rollout,
    Tick: _tick,
}
