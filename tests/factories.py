"""Builders for domain objects used across tests: fictional people and organisations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.commands import (
    Assign,
    CastVote,
    CompleteIntake,
    CompleteRollout,
    Context,
    DeclineRollout,
    EvaluatePilot,
    ExtendDeadline,
    FileReport,
    JoinRollout,
    MemberCommand,
    OfferMembership,
    OfferRollout,
    PlanPilot,
    ProposalCommand,
    Refer,
    ReportDeployed,
    Revise,
    Submit,
    Tick,
    Withdraw,
    WithdrawOffer,
)
from domain.deadlines import DeadlineKind, DeadlinePolicy
from domain.decider import decide
from domain.errors import DomainError, ErrorCode
from domain.events import Event, RolloutSummary, VoteDecision
from domain.network import Municipality
from domain.people import Actor, Reviewer
from domain.pilot import Kpi, KpiValue, PilotEvaluation, PilotOutcome, PilotPlan, PilotReport
from domain.policy import DecisionRule, ProgrammePolicies, TownPolicy
from domain.proposal import Contact, Proposal, ProposalRevision, Proposer, Theme
from domain.rollout import MembershipState, decide_member, evolve_member
from domain.stages import Stage
from domain.state import ProposalState, evolve
from domain.values import PreferredTown, Role, Town, proposal_id_from_int, today_jst

T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
_ids = count(1)


def reviewer(town: Town, n: int, **kw: Any) -> Reviewer:
    return Reviewer(
        reviewer_id=f"{town.value}-r{n}", name=f"Reviewer {n} of {town.value}",
        email=f"r{n}@{town.value}.example.jp", town=town, **kw,
    )


def town_policy(town: Town, members: int = 3, quorum: int = 2,
                rule: DecisionRule = DecisionRule.MAJORITY, **kw: Any) -> TownPolicy:
    committee = tuple(reviewer(town, i, chair=(i == 1)) for i in range(1, members + 1))
    return TownPolicy(
        town=town, programme="Yokolab" if town is Town.YOKOZE else "Bandai Takara Lab",
        secretariat_email=f"office@{town.value}.example.jp", committee=committee,
        quorum=quorum, rule=rule, **kw,
    )


def policies(**kw: Any) -> ProgrammePolicies:
    return ProgrammePolicies(
        yokoze=kw.pop("yokoze", town_policy(Town.YOKOZE)),
        bandai=kw.pop("bandai", town_policy(Town.BANDAI)),
        **kw,
    )


def proposal(**kw: Any) -> Proposal:
    n = next(_ids)
    fields: dict[str, Any] = {
        "proposer": Proposer(
            organisation=kw.pop("organisation", f"Satoyama Mobility {n} K.K."),
            kind="company",
            contact=Contact(name="Hanako Yamada", email=f"hanako{n}@example.com"),
        ),
        "title": f"On-demand bus trial {n}",
        "summary": "A shared on-demand minibus for residents without a car, booked by phone.",
        "theme": Theme.MOBILITY,
        "requested_support": "A bus stop near the town hall and introductions to residents.",
        "preferred_town": PreferredTown.YOKOZE,
    }
    fields.update(kw)
    return Proposal(**fields)


def actor(role: Role, ident: str = "someone") -> Actor:
    return Actor(role=role, id=ident)


SYSTEM = Actor.system()
SECRETARIAT = actor(Role.SECRETARIAT, "office")
PROPOSER = actor(Role.PROPOSER, "proposer")


def reviewer_actor(reviewer_id: str) -> Actor:
    return actor(Role.REVIEWER, reviewer_id)


class Clock:
    """Hands out contexts with increasing times and fresh command ids."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def ctx(self, advance: timedelta = timedelta(minutes=1), command_id: UUID | None = None
            ) -> Context:
        self.now += advance
        return Context(command_id=command_id or uuid4(), at=self.now)


FAST = DeadlinePolicy(days=2, remind_days_before=1)


# -- driving the deciders -------------------------------------------------------------------------

_proposal_numbers = count(1)

YOKOZE_R1, YOKOZE_R2, YOKOZE_R3 = "yokoze-r1", "yokoze-r2", "yokoze-r3"
BANDAI_R1 = "bandai-r1"
SAPPORO = Municipality(lgcode="011002", name="札幌市", prefecture="北海道",
                       contact_email="kikaku@sapporo.example.jp")
OTHER_MEMBERS = ("011002", "012025", "132012")


def new_proposal_id() -> str:
    return proposal_id_from_int(next(_proposal_numbers))


def day(at: datetime, days: float) -> datetime:
    return at + timedelta(days=days)


def refuse(run: Callable[[], object], code: ErrorCode) -> DomainError:
    """Run a decision that must be refused with `code`; return the error for its message."""
    with pytest.raises(DomainError) as caught:
        run()
    err = caught.value
    assert err.code is code, f"expected {code.value}, got {err.code.value}: {err}"
    return err


class Story:
    """One proposal driven through `decide`: its state, clock and every event so far."""

    def __init__(self, pol: ProgrammePolicies | None = None, prop: Proposal | None = None,
                 start: datetime = T0) -> None:
        self.policies = pol or policies()
        self.proposal = prop or proposal()
        self.proposal_id = new_proposal_id()
        self.clock = Clock(start)
        self.state = ProposalState()
        self.events: list[Event] = []

    @property
    def now(self) -> datetime:
        return self.clock.now

    def apply(self, command: ProposalCommand, ctx: Context) -> list[Event]:
        new = decide(self.state, command, ctx)
        for e in new:
            self.state = evolve(self.state, e)
        self.events += new
        return new

    def do(self, command: ProposalCommand, advance: timedelta = timedelta(minutes=1)
           ) -> list[Event]:
        return self.apply(command, self.clock.ctx(advance))

    def refuse(self, command: ProposalCommand, code: ErrorCode) -> DomainError:
        """The command is refused with `code`, and nothing changes."""
        before, count_before = self.state, len(self.events)
        err = refuse(lambda: self.do(command), code)
        assert self.state == before
        assert len(self.events) == count_before
        return err

    def tick(self, at: datetime) -> list[Event]:
        self.clock.now = at
        return self.apply(Tick(actor=SYSTEM), Context(command_id=uuid4(), at=at))

    # -- shortcuts, each with the actor who normally acts -----------------------------------
    def submit(self, by: Actor = PROPOSER) -> list[Event]:
        return self.do(Submit(actor=by, proposal_id=self.proposal_id, proposal=self.proposal,
                              policies=self.policies))

    def intake(self, *open_towns: Town, duplicate_of: str | None = None) -> list[Event]:
        return self.do(CompleteIntake(actor=SYSTEM, open_towns=frozenset(open_towns),
                                      duplicate_of=duplicate_of))

    def vote(self, reviewer_id: str, decision: VoteDecision = VoteDecision.APPROVE,
             comment: str = "Good for residents.") -> list[Event]:
        return self.do(CastVote(actor=reviewer_actor(reviewer_id), decision=decision,
                                comment=comment))

    def revise(self, title: str = "On-demand bus trial, revised") -> list[Event]:
        revision = ProposalRevision(title=title, note="Smaller first phase.")
        return self.do(Revise(actor=PROPOSER, revision=revision))

    def plan(self, start_in_days: int = 10, length_days: int = 89) -> list[Event]:
        start = today_jst(self.now) + timedelta(days=start_in_days)
        return self.do(PlanPilot(actor=SECRETARIAT, plan=pilot_plan(start, length_days)))

    def evaluate(self, outcome: PilotOutcome, new_end: date | None = None) -> list[Event]:
        evaluation = PilotEvaluation(outcome=outcome, comment="Evaluated by the office.",
                                     new_end_date=new_end)
        return self.do(EvaluatePilot(actor=SECRETARIAT, evaluation=evaluation))

    def offer(self, *members: str) -> list[Event]:
        return self.do(OfferRollout(actor=SYSTEM, members=members))


def pilot_plan(start: date, length_days: int = 89) -> PilotPlan:
    return PilotPlan(start_date=start, end_date=start + timedelta(days=length_days),
                     kpis=(Kpi(name="riders per week", target="50"),))


def story_at(stage: Stage, **kw: Any) -> Story:
    """A fresh proposal brought to `stage` by the ordinary path (Yokoze, 3 reviewers, quorum 2)."""
    if stage is Stage.AWAITING_ASSIGNMENT:
        kw.setdefault("prop", proposal(preferred_town=PreferredTown.EITHER))
    s = Story(**kw)
    s.submit()
    if stage is Stage.SUBMITTED:
        return s
    if stage is Stage.REJECTED_AT_INTAKE:
        s.intake()
        return s
    s.intake(Town.YOKOZE, Town.BANDAI)
    if stage in (Stage.AWAITING_ASSIGNMENT, Stage.IN_REVIEW):
        return s
    if stage is Stage.WITHDRAWN:
        s.do(Withdraw(actor=PROPOSER, reason="We found another partner."))
        return s
    if stage is Stage.EXPIRED:
        s.tick(day(s.now, 365))
        return s
    decision = {Stage.CHANGES_REQUESTED: VoteDecision.REQUEST_CHANGES,
                Stage.REJECTED: VoteDecision.REJECT}.get(stage, VoteDecision.APPROVE)
    s.vote(YOKOZE_R1, decision)
    s.vote(YOKOZE_R2, decision)
    if stage in (Stage.CHANGES_REQUESTED, Stage.REJECTED, Stage.ADOPTED):
        return s
    s.plan()
    if stage is Stage.PILOT_PLANNED:
        return s
    assert s.state.pilot is not None
    s.tick(s.state.pilot.starts_at)
    if stage is Stage.PILOT:
        return s
    s.tick(s.state.pilot.ends_at)
    if stage is Stage.EVALUATING:
        return s
    if stage is Stage.STOPPED:
        s.evaluate(PilotOutcome.STOP)
        return s
    s.evaluate(PilotOutcome.SUCCESS)
    if stage is Stage.EVALUATED:
        return s
    s.offer(*OTHER_MEMBERS)
    if stage is Stage.ROLLOUT:
        return s
    s.do(CompleteRollout(actor=SYSTEM, summary=RolloutSummary(offered=3, joined=1, deployed=1)))
    assert stage is Stage.COMPLETED
    return s


class MemberStory:
    """One member municipality's part in a rollout, driven through `decide_member`."""

    def __init__(self, municipality: Municipality = SAPPORO, start: datetime = T0,
                 proposal_id: str | None = None) -> None:
        self.municipality = municipality
        self.proposal_id = proposal_id or new_proposal_id()
        self.clock = Clock(start)
        self.state = MembershipState()
        self.events: list[Event] = []
        self.me = actor(Role.MEMBER, municipality.lgcode)

    @property
    def now(self) -> datetime:
        return self.clock.now

    def apply(self, command: MemberCommand, ctx: Context) -> list[Event]:
        new = decide_member(self.state, command, ctx)
        for e in new:
            self.state = evolve_member(self.state, e)
        self.events += new
        return new

    def do(self, command: MemberCommand, advance: timedelta = timedelta(minutes=1)
           ) -> list[Event]:
        return self.apply(command, self.clock.ctx(advance))

    def refuse(self, command: MemberCommand, code: ErrorCode) -> DomainError:
        before, count_before = self.state, len(self.events)
        err = refuse(lambda: self.do(command), code)
        assert self.state == before
        assert len(self.events) == count_before
        return err

    def tick(self, at: datetime) -> list[Event]:
        self.clock.now = at
        return self.apply(Tick(actor=SYSTEM), Context(command_id=uuid4(), at=at))

    def offer(self, window: DeadlinePolicy = DeadlinePolicy(days=60, remind_days_before=14),
              deployment: DeadlinePolicy = DeadlinePolicy(days=180, remind_days_before=30,
                                                          grace_days=60)) -> list[Event]:
        return self.do(OfferMembership(
            actor=SYSTEM, proposal_id=self.proposal_id, municipality=self.municipality,
            host_town=Town.YOKOZE, title="On-demand bus trial", window=window,
            deployment=deployment,
        ))

    def join(self) -> list[Event]:
        return self.do(JoinRollout(actor=self.me))


def full_lifecycle() -> tuple[list[Story], list[MemberStory]]:
    """Stories that between them produce every event type of the catalogue.

    The first story is the long way round: assignment, changes requested, a revision, a
    referral, adoption by the other town, a pilot with a missed report and an extension,
    success, and a rollout.
    """
    s = Story(prop=proposal(preferred_town=PreferredTown.EITHER))
    s.submit()
    s.intake(Town.YOKOZE, Town.BANDAI)
    s.tick(day(s.now, 5))  # assignment reminder
    s.do(Assign(actor=SECRETARIAT, town=Town.YOKOZE))
    s.vote(YOKOZE_R1, VoteDecision.REQUEST_CHANGES, "Name the bus stops.")
    s.vote(YOKOZE_R2, VoteDecision.REQUEST_CHANGES, "Add a budget.")
    revision = s.state.deadline(DeadlineKind.REVISION)
    assert revision is not None
    s.do(ExtendDeadline(actor=SECRETARIAT, deadline=DeadlineKind.REVISION,
                        due_at=day(revision.due_at, 14)))
    s.revise()
    s.do(Refer(actor=reviewer_actor(YOKOZE_R3), to_town=Town.BANDAI,
               reason="Bandai runs a similar service."))
    s.vote(BANDAI_R1)
    s.vote("bandai-r2")
    s.tick(day(s.now, 23))  # pilot plan reminder
    s.plan(start_in_days=3)
    assert s.state.pilot is not None
    s.tick(s.state.pilot.starts_at)
    s.do(FileReport(actor=PROPOSER, report=PilotReport(
        summary="38 riders a week.", kpis=(KpiValue(name="riders per week", value="38"),))))
    s.tick(day(s.state.pilot.starts_at, 61))  # the second report is missed
    s.tick(s.state.pilot.ends_at)
    s.evaluate(PilotOutcome.EXTEND, today_jst(s.now) + timedelta(days=45))
    s.tick(s.state.pilot.ends_at)
    s.evaluate(PilotOutcome.SUCCESS)
    s.offer(*OTHER_MEMBERS)
    s.do(CompleteRollout(actor=SYSTEM, summary=RolloutSummary(offered=3, joined=1, deployed=1)))
    assert s.state.stage is Stage.COMPLETED
    stories = [s, *(story_at(stage) for stage in (
        Stage.REJECTED_AT_INTAKE, Stage.REJECTED, Stage.WITHDRAWN, Stage.EXPIRED, Stage.STOPPED))]

    members = []
    for lgcode, name in (("011002", "札幌市"), ("012025", "函館市"), ("132012", "八王子市"),
                         ("113611", "横瀬町"), ("074071", "磐梯町")):
        m = MemberStory(Municipality(lgcode=lgcode, name=name, prefecture="どこか県",
                                     contact_email=f"office-{lgcode}@example.jp"))
        m.offer()
        members.append(m)
    deployed, declined, lapsed, expired, withdrawn = members
    deployed.join()
    deployed.do(ReportDeployed(actor=deployed.me, note="Running since May."))
    declined.do(DeclineRollout(actor=declined.me, reason="No budget this year."))
    lapsed.tick(day(lapsed.now, 100))
    expired.join()
    expired.tick(day(expired.now, 1000))
    withdrawn.do(WithdrawOffer(actor=SECRETARIAT, reason="The proposal was withdrawn."))
    return stories, members
