"""Drive a proposal through the decider to get realistic batches of events (no Temporal)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.commands import (
    CastVote,
    CompleteIntake,
    Context,
    JoinRollout,
    MemberCommand,
    OfferMembership,
    ProposalCommand,
    Submit,
)
from domain.deadlines import DeadlinePolicy
from domain.decider import decide
from domain.events import Event, VoteDecision
from domain.network import Municipality
from domain.notifications import Notification, for_member, for_proposal
from domain.people import Actor
from domain.rollout import MembershipState, decide_member, evolve_member
from domain.state import ProposalState, evolve
from domain.values import Role, Town, proposal_id_from_int
from tests.factories import PROPOSER, SYSTEM, Clock, policies, proposal, reviewer_actor


class Lifecycle:
    """One proposal's state, advanced batch by batch; each batch is what one append writes."""

    def __init__(self, n: int, clock: Clock | None = None, **proposal_kw: Any) -> None:
        self.proposal_id = proposal_id_from_int(n)
        self.clock = clock or Clock()
        self.state = ProposalState()
        self.proposal = proposal(**proposal_kw)

    def batch(self, command: ProposalCommand, ctx: Context | None = None
              ) -> tuple[int, list[Event], list[Notification]]:
        """(expected version, events, notifications) for one command; the state advances."""
        expected = self.state.version
        events = decide(self.state, command, ctx or self.clock.ctx())
        notes = for_proposal(self.state, events)
        for e in events:
            self.state = evolve(self.state, e)
        return expected, events, notes

    def submit(self) -> tuple[int, list[Event], list[Notification]]:
        return self.batch(Submit(actor=PROPOSER, proposal_id=self.proposal_id,
                                 proposal=self.proposal, policies=policies()))

    def intake(self) -> tuple[int, list[Event], list[Notification]]:
        return self.batch(CompleteIntake(actor=SYSTEM, open_towns=frozenset(Town)))

    def vote(self, reviewer_id: str, decision: VoteDecision = VoteDecision.APPROVE
             ) -> tuple[int, list[Event], list[Notification]]:
        return self.batch(CastVote(actor=reviewer_actor(reviewer_id), decision=decision,
                                   comment="looks good"))

    def to_review(self) -> list[tuple[int, list[Event], list[Notification]]]:
        return [self.submit(), self.intake()]


class MemberLifecycle:
    def __init__(self, proposal_id: str, lgcode: str, clock: Clock) -> None:
        self.proposal_id = proposal_id
        self.lgcode = lgcode
        self.clock = clock
        self.state = MembershipState()

    def batch(self, command: MemberCommand) -> tuple[int, list[Event], list[Notification]]:
        expected = self.state.version
        events = decide_member(self.state, command, self.clock.ctx())
        notes = for_member(self.state, events, "office@yokoze.example.jp")
        for e in events:
            self.state = evolve_member(self.state, e)
        return expected, events, notes

    def offer(self) -> tuple[int, list[Event], list[Notification]]:
        return self.batch(OfferMembership(
            actor=SYSTEM, proposal_id=self.proposal_id,
            municipality=Municipality(lgcode=self.lgcode, name="磐梯町", prefecture="福島県"),
            host_town=Town.YOKOZE, title="On-demand bus",
            window=DeadlinePolicy(days=60, remind_days_before=14),
            deployment=DeadlinePolicy(days=180, remind_days_before=30, grace_days=60)))

    def join(self) -> tuple[int, list[Event], list[Notification]]:
        return self.batch(JoinRollout(actor=Actor(role=Role.MEMBER, id=self.lgcode)))


def later(clock: Clock, days: int) -> Context:
    return clock.ctx(timedelta(days=days))
