"""Builders for domain objects used across tests: fictional people and organisations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID, uuid4

from domain.commands import Context
from domain.deadlines import DeadlinePolicy
from domain.people import Actor, Reviewer
from domain.policy import DecisionRule, ProgrammePolicies, TownPolicy
from domain.proposal import Contact, Proposal, Proposer, Theme
from domain.values import PreferredTown, Role, Town

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
