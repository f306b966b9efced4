"""Town policies: each committee's members, quorum, decision rule and deadlines."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from domain.deadlines import DeadlinePolicy
from domain.people import Reviewer
from domain.proposal import Model, Theme
from domain.values import Email, ShortText, Town


class DecisionRule(StrEnum):
    # Once the quorum has voted, a strict majority of the votes cast decides; with every
    # eligible reviewer voted and no majority, the proposal goes back for changes.
    MAJORITY = "majority"
    # Once the quorum has voted: all approve -> adopt; any reject -> reject; else changes.
    UNANIMOUS = "unanimous"


class TownPolicy(Model):
    town: Town
    programme: ShortText  # e.g. "Yokolab (よこらぼ)"
    secretariat_email: Email
    committee: tuple[Reviewer, ...] = Field(min_length=1, max_length=30)
    quorum: int = Field(ge=1, le=30)
    rule: DecisionRule = DecisionRule.MAJORITY
    assignment: DeadlinePolicy = DeadlinePolicy(days=7, remind_days_before=2)
    review: DeadlinePolicy = DeadlinePolicy(days=30, remind_days_before=7, grace_days=14)
    revision: DeadlinePolicy = DeadlinePolicy(days=30, remind_days_before=7)
    pilot_plan: DeadlinePolicy = DeadlinePolicy(days=30, remind_days_before=7, grace_days=30)
    report: DeadlinePolicy = DeadlinePolicy(days=30, remind_days_before=7)  # days = interval
    evaluation: DeadlinePolicy = DeadlinePolicy(days=30, remind_days_before=7, grace_days=30)
    rollout_window: DeadlinePolicy = DeadlinePolicy(days=60, remind_days_before=14)
    deployment: DeadlinePolicy = DeadlinePolicy(days=180, remind_days_before=30, grace_days=60)

    @model_validator(mode="after")
    def _committee_is_consistent(self) -> TownPolicy:
        ids = [r.reviewer_id for r in self.committee]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.town} committee lists a reviewer twice")
        strangers = [r.reviewer_id for r in self.committee if r.town is not self.town]
        if strangers:
            raise ValueError(f"{self.town} committee includes reviewers of another town: {strangers}")
        if self.quorum > len(self.committee):
            raise ValueError(
                f"{self.town} quorum {self.quorum} exceeds its committee of {len(self.committee)}"
            )
        return self

    def reviewer(self, reviewer_id: str) -> Reviewer | None:
        return next((r for r in self.committee if r.reviewer_id == reviewer_id), None)


class ProgrammePolicies(Model):
    """Both towns' policies, and the routing rule for proposals that accept either town."""

    yokoze: TownPolicy
    bandai: TownPolicy
    routing: dict[Theme, Town] = Field(default_factory=lambda: {Theme.DX: Town.BANDAI})
    default_town: Town = Town.YOKOZE

    @model_validator(mode="after")
    def _towns_match(self) -> ProgrammePolicies:
        if self.yokoze.town is not Town.YOKOZE or self.bandai.town is not Town.BANDAI:
            raise ValueError("policies must be given as yokoze: <Yokoze policy>, bandai: <Bandai policy>")
        return self

    def of(self, town: Town) -> TownPolicy:
        return self.yokoze if town is Town.YOKOZE else self.bandai

    def route(self, theme: Theme) -> Town:
        return self.routing.get(theme, self.default_town)

    def find_reviewer(self, reviewer_id: str) -> Reviewer | None:
        return self.yokoze.reviewer(reviewer_id) or self.bandai.reviewer(reviewer_id)
