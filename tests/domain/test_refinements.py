"""Rules added after the first review: rollout offers, referral under conflict of interest,
report periods, exact pilot moments, short policy durations, extension notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.commands import ExtendDeadline, OfferRollout, PlanPilot, Refer
from domain.deadlines import DeadlineKind, DeadlinePolicy
from domain.errors import ErrorCode
from domain.events import Escalated
from domain.notifications import for_proposal, render
from domain.pilot import Kpi, PilotPlan
from domain.stages import Stage
from domain.state import ProposalState
from domain.values import Town, start_of_day_jst, today_jst
from tests.factories import (
    SECRETARIAT,
    SYSTEM,
    day,
    policies,
    proposal,
    reviewer,
    reviewer_actor,
    story_at,
    town_policy,
)


def test_a_rollout_offer_lists_each_member_once_and_never_the_host() -> None:
    s = story_at(Stage.EVALUATED)
    assert "twice" in s.refuse(_offer("012025", "012025"), ErrorCode.INVALID).message
    assert "hosting town" in s.refuse(_offer(Town.YOKOZE.lgcode), ErrorCode.INVALID).message
    assert s.offer("012025", "074071")


def _offer(*members: str) -> OfferRollout:
    return OfferRollout(actor=SYSTEM, members=members)


def test_a_conflicted_reviewer_may_not_refer_the_proposal() -> None:
    conflicted = reviewer(Town.YOKOZE, 1, affiliations=("Satoyama Mobility",))
    yokoze = town_policy(Town.YOKOZE).model_copy(update={"committee": (
        conflicted, reviewer(Town.YOKOZE, 2), reviewer(Town.YOKOZE, 3))})
    s = story_at(Stage.IN_REVIEW, pol=policies(yokoze=yokoze),
                 prop=proposal(organisation="Satoyama Mobility K.K."))
    refer = Refer(actor=reviewer_actor("yokoze-r1"), to_town=Town.BANDAI, reason="Their field.")
    assert "may not refer" in s.refuse(refer, ErrorCode.CONFLICT_OF_INTEREST).message
    s.do(Refer(actor=reviewer_actor("yokoze-r2"), to_town=Town.BANDAI, reason="Their field."))
    assert s.state.town is Town.BANDAI


def test_overdue_reports_are_named_by_their_period() -> None:
    s = story_at(Stage.PILOT)
    assert s.state.pilot is not None
    events = s.tick(day(s.state.pilot.starts_at, 61))
    reasons = [e.reason for e in events if isinstance(e, Escalated)]
    assert len(reasons) == 2
    assert "(period 1)" in reasons[0] and "(period 2)" in reasons[1]


def test_a_pilot_may_run_between_exact_moments_within_its_dates() -> None:
    s = story_at(Stage.ADOPTED)
    today = today_jst(s.now)
    start = s.now + timedelta(seconds=30)
    plan = PilotPlan(start_date=today, end_date=today + timedelta(days=1),
                     exact_start=start, exact_end=start + timedelta(minutes=2),
                     kpis=(Kpi(name="riders", target="10"),))
    s.do(PlanPilot(actor=SECRETARIAT, plan=plan), advance=timedelta(seconds=1))
    assert [e.type for e in s.tick(start)] == ["pilot_started"]
    assert [e.type for e in s.tick(start + timedelta(minutes=2))] == ["pilot_ended"]
    with pytest.raises(ValidationError, match="exact_start must fall between"):
        PilotPlan(start_date=today, end_date=today + timedelta(days=1),
                  exact_start=start_of_day_jst(today) - timedelta(seconds=1),
                  kpis=(Kpi(name="riders", target="10"),))
    with pytest.raises(ValidationError, match="must end after it starts"):
        PilotPlan(start_date=today, end_date=today + timedelta(days=1),
                  exact_start=start, exact_end=start, kpis=(Kpi(name="riders", target="10"),))


def test_short_durations_serve_rehearsals() -> None:
    p = DeadlinePolicy(days="90s", remind_days_before="30s", grace_days="1m")
    d = p.open(DeadlineKind.REVIEW, day(story_at(Stage.SUBMITTED).now, 0))
    assert d.remind_at is not None and d.expire_at is not None
    assert (d.due_at - d.remind_at, d.expire_at - d.due_at) == (timedelta(seconds=30),
                                                                  timedelta(minutes=1))
    assert DeadlinePolicy.model_validate_json(p.model_dump_json()) == p


def test_an_extended_deadline_is_announced_to_whoever_must_act() -> None:
    s = story_at(Stage.IN_REVIEW)
    before: ProposalState = s.state
    review = s.state.deadline(DeadlineKind.REVIEW)
    assert review is not None
    events = s.do(ExtendDeadline(actor=SECRETARIAT, deadline=DeadlineKind.REVIEW,
                                 due_at=day(review.due_at, 14)))
    notes = for_proposal(before, events)
    assert {(n.recipient_role.value, n.recipient_id) for n in notes} == {
        ("reviewer", "yokoze-r1"), ("reviewer", "yokoze-r2"), ("reviewer", "yokoze-r3"),
        ("secretariat", "yokoze-secretariat")}
    subject, body = render(notes[0].template, notes[0].payload)
    assert "Deadline extended" in subject and "committee's decision" in body
