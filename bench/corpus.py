"""Realistic events from the decider, batched as the workflows append them.

A proposal's lifecycle is driven through `decide` / `decide_member` with the shipped
policies, each command giving one batch (expected version, events, notifications): exactly
what the `record_events` activity hands to `EventStore.append`. `PATHS` are the handful of
paths whose clones make the million-event log of the rebuild benchmark.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.commands import (
    CastVote,
    CompleteIntake,
    CompleteRollout,
    Context,
    EvaluatePilot,
    FileReport,
    JoinRollout,
    OfferMembership,
    OfferRollout,
    PlanPilot,
    ProposalCommand,
    ReportDeployed,
    Revise,
    Submit,
    Tick,
    Withdraw,
)
from domain.decider import decide
from domain.events import Event, ProposalAdopted, RolloutSummary, VoteDecision
from domain.network import Municipality
from domain.notifications import Notification, for_member, for_proposal
from domain.people import Actor
from domain.pilot import Kpi, KpiValue, PilotEvaluation, PilotOutcome, PilotPlan, PilotReport
from domain.policy import ProgrammePolicies
from domain.proposal import Contact, Proposal, ProposalRevision, Proposer, Theme
from domain.rollout import MembershipState, decide_member, evolve_member
from domain.state import ProposalState, evolve
from domain.values import PreferredTown, Role, Town, proposal_id_from_int, today_jst
from infra.files import load_policies
from infra.registry import load_registry

SYSTEM = Actor.system()
SECRETARIAT = Actor(role=Role.SECRETARIAT, id="bench-office")
PROPOSER = Actor(role=Role.PROPOSER, id="bench-proposer")
VOTERS = ("yokoze-tanaka", "yokoze-suzuki", "yokoze-ito")
MEMBERS = ("074071", "112071", "113620")
T0 = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Batch:
    """One append: what the workflow records for one decision."""

    stream_id: str
    expected: int
    events: list[Event]
    notifications: list[Notification]


def new_proposal_id() -> str:
    return proposal_id_from_int(uuid.uuid4().int)


class Story:
    """One proposal (and its members' streams) driven through the deciders."""

    def __init__(self, proposal_id: str, policies: ProgrammePolicies, n: int,
                 adoption_numbers: bool = False) -> None:
        self.proposal_id = proposal_id
        self.policies = policies
        self.n = n
        self.now = T0 + timedelta(minutes=n % 10_000)
        self.state = ProposalState()
        self.members: dict[str, MembershipState] = {}
        self.batches: list[Batch] = []
        self._numbers = adoption_numbers

    def _ctx(self, advance: timedelta) -> Context:
        self.now += advance
        return Context(uuid.uuid4(), self.now)

    def do(self, command: ProposalCommand, advance: timedelta = timedelta(hours=3)) -> None:
        expected = self.state.version
        events = decide(self.state, command, self._ctx(advance))
        if not events:
            return
        notes = for_proposal(self.state, events)
        if self._numbers:  # as the store allocates them, for a log loaded without it
            events = [e.model_copy(update={"adoption_number": 1 + self.n % 500})
                      if isinstance(e, ProposalAdopted) else e for e in events]
        self.batches.append(Batch(self.proposal_id, expected, events, notes))
        for e in events:
            self.state = evolve(self.state, e)

    def member(self, lgcode: str, command: Any, advance: timedelta = timedelta(hours=5)) -> None:
        state = self.members.get(lgcode, MembershipState())
        events = decide_member(state, command, self._ctx(advance))
        notes = for_member(state, events, self.policies.yokoze.secretariat_email)
        self.batches.append(Batch(events[0].stream_id, state.version, events, notes))
        for e in events:
            state = evolve_member(state, e)
        self.members[lgcode] = state

    # -- steps -------------------------------------------------------------------------------
    def submit(self, proposal: Proposal) -> None:
        self.do(Submit(actor=SECRETARIAT, proposal_id=self.proposal_id, proposal=proposal,
                       policies=self.policies), advance=timedelta(0))
        self.do(CompleteIntake(actor=SYSTEM, open_towns=frozenset(Town)),
                advance=timedelta(seconds=2))

    def votes(self, decision: VoteDecision, count: int = 3) -> None:
        for voter in VOTERS[:count]:
            self.do(CastVote(actor=Actor(role=Role.REVIEWER, id=voter), decision=decision,
                             comment="Residents need this." if decision is VoteDecision.APPROVE
                             else "The plan needs more detail."), advance=timedelta(days=4))

    def pilot(self, outcome: PilotOutcome, reports: int = 2) -> None:
        start = today_jst(self.now) + timedelta(days=10)
        self.do(PlanPilot(actor=SECRETARIAT, plan=PilotPlan(
            start_date=start, end_date=start + timedelta(days=60),
            kpis=(Kpi(name="riders per week", target="50"),))))
        assert self.state.pilot is not None
        self.tick(self.state.pilot.starts_at)
        for n in range(reports):
            self.do(FileReport(actor=PROPOSER, report=PilotReport(
                summary=f"Report {n + 1}: 40 riders a week.",
                kpis=(KpiValue(name="riders per week", value="40"),))),
                    advance=timedelta(days=20))
        self.tick(self.state.pilot.ends_at)
        self.do(EvaluatePilot(actor=SECRETARIAT, evaluation=PilotEvaluation(
            outcome=outcome, comment="Evaluated by the office.")))

    def tick(self, at: datetime) -> None:
        self.now = max(self.now, at) - timedelta(seconds=1)
        self.do(Tick(actor=SYSTEM), advance=timedelta(seconds=1))

    def rollout(self, members: list[Municipality]) -> None:
        self.do(OfferRollout(actor=SYSTEM, members=tuple(m.lgcode for m in members)))
        policy = self.policies.yokoze
        assert self.state.proposal is not None
        for m in members:
            self.member(m.lgcode, OfferMembership(
                actor=SYSTEM, proposal_id=self.proposal_id, municipality=m,
                host_town=Town.YOKOZE, title=self.state.proposal.title,
                window=policy.rollout_window, deployment=policy.deployment))
        for m in members:
            self.member(m.lgcode, JoinRollout(actor=Actor(role=Role.MEMBER, id=m.lgcode)))
        for m in members:
            self.member(m.lgcode, ReportDeployed(actor=Actor(role=Role.MEMBER, id=m.lgcode),
                                                 note="In service since April."))
        self.do(CompleteRollout(actor=SYSTEM, summary=RolloutSummary(
            offered=len(members), joined=len(members), deployed=len(members))))


def bench_proposal(n: int, town: PreferredTown = PreferredTown.YOKOZE) -> Proposal:
    return Proposal(
        proposer=Proposer(organisation=f"Satoyama Mobility {n} K.K.", kind="company",
                          contact=Contact(name="Hanako Yamada", email=f"hanako{n}@example.com")),
        title=f"AI on-demand minibus {n}",
        summary="A shared minibus booked by phone or LINE, routed each morning by an AI "
                "dispatcher, for residents without a car.",
        theme=Theme.MOBILITY, requested_support="Introductions to residents and a bus stop.",
        preferred_town=town)


# -- the paths ---------------------------------------------------------------------------------

def _completed(s: Story, members: list[Municipality]) -> None:
    s.votes(VoteDecision.APPROVE)
    s.pilot(PilotOutcome.SUCCESS)
    s.rollout(members)


def _rejected(s: Story, members: list[Municipality]) -> None:
    s.votes(VoteDecision.REJECT)


def _revised_then_stopped(s: Story, members: list[Municipality]) -> None:
    s.votes(VoteDecision.REQUEST_CHANGES)
    s.do(Revise(actor=PROPOSER, revision=ProposalRevision(
        summary="A shared minibus booked by phone or LINE, with two drivers at night.",
        note="Added night drivers.")), advance=timedelta(days=9))
    s.votes(VoteDecision.APPROVE)
    s.pilot(PilotOutcome.STOP, reports=1)


def _withdrawn(s: Story, members: list[Municipality]) -> None:
    s.votes(VoteDecision.APPROVE, count=1)
    s.do(Withdraw(actor=PROPOSER, reason="We found a partner closer to our depot."))


def _expired(s: Story, members: list[Municipality]) -> None:
    for days in (23, 30, 44):  # reminder, escalation, expiry of the month-long review
        s.tick(T0 + timedelta(days=days, minutes=s.n % 10_000, hours=1))


Path = Callable[[Story, list[Municipality]], None]
# Weighted like Yokolab's record: most proposals adopted, some rejected, a few lapse.
PATHS: tuple[Path, ...] = (_completed, _completed, _completed, _rejected,
                           _revised_then_stopped, _withdrawn, _expired)


def members() -> list[Municipality]:
    registry = load_registry()
    return [registry.municipalities[c] for c in MEMBERS]


def lifecycle(n: int, *, path: Path = _completed, policies: ProgrammePolicies | None = None,
              proposal_id: str | None = None, adoption_numbers: bool = False) -> list[Batch]:
    """The batches of one proposal's lifecycle, in the order the workflows append them."""
    s = Story(proposal_id or new_proposal_id(), policies or load_policies(None), n,
              adoption_numbers)
    s.submit(bench_proposal(n))
    path(s, members())
    return s.batches
