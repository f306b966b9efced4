"""Deadlines driven by ticking time: exact events, nothing early, nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy, Moment
from domain.events import (
    Escalated,
    Event,
    PilotStarted,
    ReviewReason,
    ReviewStarted,
)
from domain.proposal import Theme
from domain.stages import Stage
from domain.values import PreferredTown, Town
from tests.factories import Story, day, proposal, story_at

SECOND = timedelta(seconds=1)


def what(events: list[Event]) -> list[str]:
    """Each event as 'type:detail', the detail being its deadline kind or town."""
    out = []
    for e in events:
        detail = getattr(e, "kind", None) or getattr(e, "town", None)
        out.append(f"{e.type}:{detail}" if detail else e.type)
    return out


def stage(s: Story) -> Stage | None:
    return s.state.stage


def open_wait(s: Story, kind: DeadlineKind) -> Deadline:
    d = s.state.deadline(kind)
    assert d is not None
    return d


def assert_quiet_until(s: Story, at: datetime) -> None:
    """A tick just before `at` does nothing."""
    assert s.tick(at - SECOND) == []


def tick_once(s: Story, at: datetime) -> list[str]:
    """Tick at `at`, then check that ticking again at the same time does nothing."""
    happened = what(s.tick(at))
    assert s.tick(at) == []
    return happened


# -- one wait at a time ---------------------------------------------------------------------------

@pytest.mark.parametrize(("theme", "town"),
                         [(Theme.MOBILITY, Town.YOKOZE), (Theme.DX, Town.BANDAI)])
def test_assignment_reminds_then_routes_by_rule(theme: Theme, town: Town) -> None:
    s = story_at(Stage.AWAITING_ASSIGNMENT,
                 prop=proposal(preferred_town=PreferredTown.EITHER, theme=theme))
    d = open_wait(s, DeadlineKind.ASSIGNMENT)
    assert d.remind_at == day(s.now, 5)
    assert_quiet_until(s, d.remind_at)
    assert tick_once(s, d.remind_at) == ["reminder_sent:assignment"]
    assert_quiet_until(s, d.due_at)
    events = s.tick(d.due_at)
    assert what(events) == ["escalated:assignment", f"review_started:{town.value}"]
    escalated, started = events
    assert isinstance(escalated, Escalated)
    assert escalated.reason == f"no committee was assigned in time; routed to {town.label} by rule"
    assert isinstance(started, ReviewStarted)
    assert started.reason is ReviewReason.ROUTED
    assert started.deadline.due_at == day(d.due_at, 30)
    assert stage(s) is Stage.IN_REVIEW
    assert [x.kind for x in s.state.deadlines] == [DeadlineKind.REVIEW]
    assert s.tick(d.due_at) == []


def test_review_reminds_escalates_and_expires() -> None:
    s = story_at(Stage.IN_REVIEW)
    d = open_wait(s, DeadlineKind.REVIEW)
    assert (d.remind_at, d.due_at, d.expire_at) == (day(s.now, 23), day(s.now, 30), day(s.now, 44))
    assert d.remind_at is not None
    assert d.expire_at is not None
    assert s.state.next_wakeup() == d.remind_at
    assert_quiet_until(s, d.remind_at)
    assert tick_once(s, d.remind_at) == ["reminder_sent:review"]
    assert s.state.next_wakeup() == d.due_at
    assert_quiet_until(s, d.due_at)
    [escalated] = s.tick(d.due_at)
    assert isinstance(escalated, Escalated)
    assert escalated.reason == ("no answer by the deadline for the committee's decision; "
                                "it expires on 2026-05-15 (JST)")
    assert s.tick(d.due_at) == []
    assert s.state.next_wakeup() == d.expire_at
    assert stage(s) is Stage.IN_REVIEW
    assert_quiet_until(s, d.expire_at)
    assert tick_once(s, d.expire_at) == ["expired:review"]
    assert stage(s) is Stage.EXPIRED
    assert s.state.closed_reason == "no answer by the deadline for the committee's decision"
    assert (s.state.deadlines, s.state.next_wakeup()) == ((), None)


def test_the_expiry_date_in_an_escalation_is_the_japanese_date() -> None:
    # Review opened at 20:00 UTC: it expires 44 days later at 05:00 JST the next calendar day.
    s = story_at(Stage.IN_REVIEW, start=datetime(2026, 4, 1, 19, 58, tzinfo=UTC))
    d = open_wait(s, DeadlineKind.REVIEW)
    assert d.expire_at == datetime(2026, 5, 15, 20, 0, tzinfo=UTC)
    escalated = s.tick(d.due_at)[-1]
    assert isinstance(escalated, Escalated)
    assert escalated.reason.endswith("it expires on 2026-05-16 (JST)")


def test_votes_do_not_stop_the_review_clock() -> None:
    s = story_at(Stage.IN_REVIEW)
    d = open_wait(s, DeadlineKind.REVIEW)
    s.vote("yokoze-r1")
    assert what(s.tick(d.due_at)) == ["reminder_sent:review", "escalated:review"]


def test_revision_reminds_then_expires_at_once() -> None:
    s = story_at(Stage.CHANGES_REQUESTED)
    d = open_wait(s, DeadlineKind.REVISION)
    assert d.remind_at is not None
    assert d.expire_at is None  # no grace: the wait expires at its due date
    assert_quiet_until(s, d.remind_at)
    assert tick_once(s, d.remind_at) == ["reminder_sent:revision"]
    assert_quiet_until(s, d.due_at)
    assert tick_once(s, d.due_at) == ["expired:revision"]
    assert stage(s) is Stage.EXPIRED
    assert s.state.closed_reason == "no answer by the deadline for the proposer's revision"


def test_pilot_plan_reminds_escalates_and_expires() -> None:
    s = story_at(Stage.ADOPTED)
    d = open_wait(s, DeadlineKind.PILOT_PLAN)
    assert d.remind_at is not None
    assert d.expire_at == day(d.due_at, 30)
    assert_quiet_until(s, d.remind_at)
    assert tick_once(s, d.remind_at) == ["reminder_sent:pilot_plan"]
    assert_quiet_until(s, d.due_at)
    assert tick_once(s, d.due_at) == ["escalated:pilot_plan"]
    assert stage(s) is Stage.ADOPTED
    assert_quiet_until(s, d.expire_at)
    assert tick_once(s, d.expire_at) == ["expired:pilot_plan"]
    assert stage(s) is Stage.EXPIRED


def test_evaluation_reminds_escalates_and_expires() -> None:
    s = story_at(Stage.EVALUATING)
    d = open_wait(s, DeadlineKind.EVALUATION)
    assert d.remind_at is not None
    assert d.expire_at is not None
    assert_quiet_until(s, d.remind_at)
    assert tick_once(s, d.remind_at) == ["reminder_sent:evaluation"]
    assert_quiet_until(s, d.due_at)
    assert tick_once(s, d.due_at) == ["escalated:evaluation"]
    assert_quiet_until(s, d.expire_at)
    assert tick_once(s, d.expire_at) == ["expired:evaluation"]
    assert stage(s) is Stage.EXPIRED


def test_the_pilot_starts_and_ends_on_schedule() -> None:
    s = story_at(Stage.PILOT_PLANNED)
    assert s.state.pilot is not None
    start, end = s.state.pilot.starts_at, s.state.pilot.ends_at
    assert_quiet_until(s, start)
    [started] = s.tick(start)
    assert isinstance(started, PilotStarted)
    assert started.report == Deadline(kind=DeadlineKind.REPORT, due_at=day(start, 30),
                                      remind_at=day(start, 23))
    assert started.end == Deadline(kind=DeadlineKind.PILOT_END, due_at=end)
    assert s.tick(start) == []
    assert stage(s) is Stage.PILOT
    s.tick(end - SECOND)
    assert stage(s) is Stage.PILOT
    assert tick_once(s, end) == ["pilot_ended"]
    assert stage(s) is Stage.EVALUATING


def test_an_overdue_report_is_escalated_and_the_next_one_opened() -> None:
    s = story_at(Stage.PILOT)
    first = open_wait(s, DeadlineKind.REPORT)
    assert first.remind_at is not None
    assert tick_once(s, first.remind_at) == ["reminder_sent:report"]
    assert_quiet_until(s, first.due_at)
    [escalated] = s.tick(first.due_at)
    assert isinstance(escalated, Escalated)
    assert escalated.kind is DeadlineKind.REPORT
    assert "(period 1) is overdue; 0 report(s) filed" in escalated.reason
    assert escalated.next_deadline == Deadline(kind=DeadlineKind.REPORT,
                                               due_at=day(first.due_at, 30),
                                               remind_at=day(first.due_at, 23))
    assert open_wait(s, DeadlineKind.REPORT) == escalated.next_deadline
    assert s.tick(first.due_at) == []


def test_reports_fall_due_every_interval_until_the_end() -> None:
    s = story_at(Stage.ADOPTED)
    s.plan(start_in_days=3, length_days=180)  # 181 days including both ends
    assert s.state.pilot is not None
    start, end = s.state.pilot.starts_at, s.state.pilot.ends_at
    events = s.tick(day(end, 1))
    dues = [e.report.due_at for e in events if isinstance(e, PilotStarted) and e.report]
    dues += [e.next_deadline.due_at for e in events
             if isinstance(e, Escalated) and e.next_deadline]
    assert dues == [day(start, 30 * k) for k in range(1, 7)]
    assert what(events) == [
        "pilot_started",
        *["reminder_sent:report", "escalated:report"] * 6,
        "pilot_ended",
    ]
    last_escalation = events[-2]
    assert isinstance(last_escalation, Escalated)
    assert last_escalation.next_deadline is None  # the next would fall after the end


def test_a_pilot_shorter_than_the_interval_asks_for_no_report() -> None:
    s = story_at(Stage.ADOPTED)
    s.plan(start_in_days=1, length_days=20)
    assert s.state.pilot is not None
    [started] = s.tick(s.state.pilot.starts_at)
    assert isinstance(started, PilotStarted)
    assert started.report is None
    assert what(s.tick(s.state.pilot.ends_at)) == ["pilot_ended"]


# -- one tick, long after -------------------------------------------------------------------------

def test_one_late_tick_handles_every_moment_in_order_and_stops_when_terminal() -> None:
    s = story_at(Stage.IN_REVIEW)
    late = day(s.now, 1000)
    events = s.tick(late)
    assert what(events) == ["reminder_sent:review", "escalated:review", "expired:review"]
    assert [e.sequence for e in events] == [4, 5, 6]
    assert {e.occurred_at for e in events} == {late}
    assert stage(s) is Stage.EXPIRED
    assert s.tick(day(late, 1000)) == []


def test_one_late_tick_runs_a_whole_pilot() -> None:
    s = story_at(Stage.PILOT_PLANNED)  # a pilot of 90 days: reports due on days 30 and 60
    late = day(s.now, 400)
    events = s.tick(late)
    assert what(events) == [
        "pilot_started",
        "reminder_sent:report", "escalated:report",
        "reminder_sent:report", "escalated:report",
        "pilot_ended",
    ]
    assert stage(s) is Stage.EVALUATING
    # The evaluation is a new wait for a person: it runs from when they are told, the tick.
    assert open_wait(s, DeadlineKind.EVALUATION).due_at == day(late, 30)
    assert what(s.tick(day(late, 1000))) == [
        "reminder_sent:evaluation", "escalated:evaluation", "expired:evaluation"]


def test_one_late_tick_routes_an_unassigned_proposal_and_opens_its_review() -> None:
    s = story_at(Stage.AWAITING_ASSIGNMENT)
    late = day(s.now, 1000)
    assert what(s.tick(late)) == [
        "reminder_sent:assignment", "escalated:assignment", "review_started:yokoze"]
    assert open_wait(s, DeadlineKind.REVIEW).due_at == day(late, 30)
    assert what(s.tick(day(late, 100))) == [
        "reminder_sent:review", "escalated:review", "expired:review"]


def test_a_withdrawn_proposal_has_no_more_moments() -> None:
    s = story_at(Stage.WITHDRAWN)
    assert s.state.next_wakeup() is None
    assert s.tick(day(s.now, 5000)) == []


# -- the deadline model ---------------------------------------------------------------------------

def test_deadline_moments_in_order() -> None:
    start = datetime(2026, 4, 1, tzinfo=UTC)
    d = DeadlinePolicy(days=30, remind_days_before=7, grace_days=14).open(DeadlineKind.REVIEW,
                                                                          start)
    assert d.next_moment() == (day(start, 23), Moment.REMIND)
    d = d.model_copy(update={"reminded": True})
    assert d.next_moment() == (day(start, 30), Moment.DUE)
    d = d.model_copy(update={"escalated": True})
    assert d.next_moment() == (day(start, 44), Moment.EXPIRE)
    no_grace = DeadlinePolicy(days=3).open(DeadlineKind.REVISION, start)
    assert (no_grace.remind_at, no_grace.expire_at) == (None, None)
    assert no_grace.next_moment() == (day(start, 3), Moment.DUE)
    assert no_grace.model_copy(update={"escalated": True}).next_moment() is None


def test_a_moved_deadline_keeps_its_reminder_and_grace_lengths() -> None:
    start = datetime(2026, 4, 1, tzinfo=UTC)
    d = DeadlinePolicy(days=30, remind_days_before=7, grace_days=14).open(DeadlineKind.REVIEW,
                                                                          start)
    moved = d.model_copy(update={"reminded": True, "escalated": True}).moved_to(day(start, 45))
    assert moved == Deadline(kind=DeadlineKind.REVIEW, due_at=day(start, 45),
                             remind_at=day(start, 38), expire_at=day(start, 59))
