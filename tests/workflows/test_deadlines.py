"""Every wait for a person: its reminder, its escalation or expiry, on the time-skipping
server's clock (weeks pass in milliseconds). Town policies are the defaults of TownPolicy:

    assignment 7 days (reminder 2 before)          review 30 (7 before, expires 14 after)
    revision 30 (7 before, expires at once)        pilot plan 30 (7 before, expires 30 after)
    report every 30 (7 before)                     evaluation 30 (7 before, expires 30 after)
    rollout window 60 (14 before)                  deployment 180 (30 before, expires 60 after)
"""

from __future__ import annotations

from datetime import timedelta

from domain.deadlines import DeadlineKind
from domain.events import (
    DeadlineExtended,
    Escalated,
    Expired,
    ReminderSent,
    ReviewReason,
    ReviewStarted,
)
from domain.pilot import PilotOutcome
from domain.proposal import Theme
from domain.stages import MemberStatus, Stage
from domain.values import PreferredTown, Town
from tests.factories import proposal
from tests.workflows.helpers import (
    Harness,
    bring_to,
    municipalities,
    outbox_templates,
    save_history,
)


async def told(h: Harness, proposal_id: str, template: str) -> list[str]:
    return [r for t, r in await outbox_templates(h.pool, proposal_id) if t == template]


async def test_assignment_reminds_then_routes_by_rule(kyoso: Harness) -> None:
    run = await kyoso.submit(proposal(preferred_town=PreferredTown.EITHER, theme=Theme.DX))
    await run.at(Stage.AWAITING_ASSIGNMENT)

    await kyoso.skip(5.5)
    (reminder,) = await run.until_recorded("reminder_sent")
    assert isinstance(reminder, ReminderSent) and reminder.kind is DeadlineKind.ASSIGNMENT
    assert sorted(await told(kyoso, run.proposal_id, "reminder")) == [
        "bandai-secretariat", "yokoze-secretariat"]
    assert (await run.state()).stage is Stage.AWAITING_ASSIGNMENT

    await kyoso.skip(2)
    s = await run.at(Stage.IN_REVIEW)
    escalated, started = (await run.events())[-2:]
    assert isinstance(escalated, Escalated) and escalated.kind is DeadlineKind.ASSIGNMENT
    assert "routed to Bandai" in escalated.reason
    assert isinstance(started, ReviewStarted)
    assert (started.town, started.reason) == (Town.BANDAI, ReviewReason.ROUTED)  # DX -> Bandai
    assert s.deadline(DeadlineKind.ASSIGNMENT) is None
    assert s.deadline(DeadlineKind.REVIEW) is not None
    await run.check()


async def test_review_reminds_escalates_then_expires(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.vote("yokoze-r1")
    await kyoso.skip(23.5)
    (reminder,) = await run.until_recorded("reminder_sent")
    assert isinstance(reminder, ReminderSent) and reminder.kind is DeadlineKind.REVIEW
    # Only the reviewers who have not voted yet are reminded.
    assert sorted(await told(kyoso, run.proposal_id, "reminder")) == ["yokoze-r2", "yokoze-r3"]

    await kyoso.skip(7)
    (escalated,) = await run.until_recorded("escalated")
    assert isinstance(escalated, Escalated) and escalated.kind is DeadlineKind.REVIEW
    assert "expires on" in escalated.reason
    # The secretariat and the committee's chair hear of it.
    assert sorted(await told(kyoso, run.proposal_id, "escalated")) == [
        "yokoze-r1", "yokoze-secretariat"]
    s = await run.state()
    assert s.stage is Stage.IN_REVIEW and s.deadline(DeadlineKind.REVIEW) is not None

    await kyoso.skip(14)
    final = await run.finish()
    assert final.stage is Stage.EXPIRED
    assert final.closed_reason == "no answer by the deadline for the committee's decision"
    expired = (await run.events())[-1]
    assert isinstance(expired, Expired) and expired.kind is DeadlineKind.REVIEW
    assert await run.types() == ["proposal_submitted", "intake_accepted", "review_started",
                                 "vote_cast", "reminder_sent", "escalated", "expired"]
    assert sorted(await told(kyoso, run.proposal_id, "expired")) == [
        "proposer", "yokoze-secretariat"]
    await run.check()
    await save_history(run.handle, "expiry")


async def test_revision_reminds_then_expires(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.request_changes()
    await kyoso.skip(23.5)
    (reminder,) = await run.until_recorded("reminder_sent")
    assert isinstance(reminder, ReminderSent) and reminder.kind is DeadlineKind.REVISION
    assert await told(kyoso, run.proposal_id, "reminder") == ["proposer"]

    await kyoso.skip(7)
    final = await run.finish()
    assert final.stage is Stage.EXPIRED
    # No grace: the revision expires at its due date, without an escalation.
    assert (await run.types())[-3:] == ["changes_requested", "reminder_sent", "expired"]
    await run.check()


async def test_pilot_plan_reminds_escalates_then_expires(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.adopt()
    await kyoso.skip(23.5)
    await run.until_recorded("reminder_sent")
    await kyoso.skip(7)
    (escalated,) = await run.until_recorded("escalated")
    assert isinstance(escalated, Escalated) and escalated.kind is DeadlineKind.PILOT_PLAN
    await kyoso.skip(30)
    final = await run.finish()
    assert final.stage is Stage.EXPIRED
    assert (await run.types())[-4:] == ["proposal_adopted", "reminder_sent", "escalated",
                                        "expired"]
    assert await told(kyoso, run.proposal_id, "reminder") == ["yokoze-secretariat"]
    await run.check()


async def test_overdue_reports_escalate_and_the_next_one_falls_due(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.adopt()
    await run.start_pilot()  # 70 days: reports due after 30 and 60 days
    first = (await run.state()).deadline(DeadlineKind.REPORT)
    assert first is not None

    await kyoso.skip(31)
    (overdue,) = await run.until_recorded("escalated")
    assert isinstance(overdue, Escalated) and overdue.kind is DeadlineKind.REPORT
    assert "overdue" in overdue.reason
    assert overdue.next_deadline is not None
    assert overdue.next_deadline.due_at == first.due_at + timedelta(days=30)
    s = await run.state()
    assert s.stage is Stage.PILOT and s.deadline(DeadlineKind.REPORT) == overdue.next_deadline

    await run.end_pilot()
    reminders = await run.until_recorded("reminder_sent", 2)
    assert {e.kind for e in reminders if isinstance(e, ReminderSent)} == {DeadlineKind.REPORT}
    assert (await run.types())[-6:] == ["pilot_started", "reminder_sent", "escalated",
                                        "reminder_sent", "escalated", "pilot_ended"]
    assert sorted(set(await told(kyoso, run.proposal_id, "reminder"))) == ["proposer"]
    assert set(await told(kyoso, run.proposal_id, "escalated")) == {"yokoze-secretariat"}
    await run.check()


async def test_evaluation_reminds_escalates_then_expires(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await bring_to(run, Stage.EVALUATING)
    before = len(await run.events())
    await kyoso.skip(23)
    await kyoso.skip(7)
    await run.until(lambda s: any(d.escalated for d in s.deadlines), "the escalation")
    await kyoso.skip(30)
    final = await run.finish()
    assert final.stage is Stage.EXPIRED
    tail = (await run.events())[before:]
    assert [(e.type, getattr(e, "kind", None)) for e in tail] == [
        ("reminder_sent", DeadlineKind.EVALUATION), ("escalated", DeadlineKind.EVALUATION),
        ("expired", DeadlineKind.EVALUATION)]
    await run.check()


async def test_extended_review_deadline_moves_reminder_and_escalation(kyoso: Harness) -> None:
    run = await kyoso.submit()
    s = await run.at(Stage.IN_REVIEW)
    review = s.deadline(DeadlineKind.REVIEW)
    assert review is not None and review.remind_at is not None
    new_due = review.due_at + timedelta(days=20)

    extended = await run.extend(DeadlineKind.REVIEW, new_due)
    assert extended.events == ["deadline_extended"]
    event = (await run.events())[-1]
    assert isinstance(event, DeadlineExtended) and event.previous_due_at == review.due_at
    moved = (await run.state()).deadline(DeadlineKind.REVIEW)
    assert moved is not None and moved.due_at == new_due
    assert moved.remind_at == review.remind_at + timedelta(days=20)

    await kyoso.skip(31)  # past the old due date: nothing happens
    assert (await run.types())[-1] == "deadline_extended"
    await kyoso.skip(13)  # past the new reminder
    await run.until_recorded("reminder_sent")
    await kyoso.skip(7)  # past the new due date
    await run.until_recorded("escalated")
    assert (await run.state()).stage is Stage.IN_REVIEW
    await run.check()


async def test_members_lapse_in_silence_and_joined_ones_must_deploy(kyoso: Harness) -> None:
    await kyoso.add_members(*municipalities("011002", "012025"))
    run = await kyoso.submit()
    await bring_to(run, Stage.ROLLOUT)
    joins, silent, bandai = await run.offered("011002", "012025", "074071")
    await joins.join()

    await kyoso.skip(46.5)  # window of 60 days, reminder 14 days before
    for quiet in (silent, bandai):
        await quiet.until(lambda s: any(d.reminded for d in s.deadlines), "the reminder")
    await kyoso.skip(14)
    for quiet in (silent, bandai):
        await quiet.status(MemberStatus.LAPSED)
        assert await quiet.types() == ["member_offered", "reminder_sent", "member_lapsed"]
    assert await joins.types() == ["member_offered", "member_joined"]

    await kyoso.skip(90)  # deployment due 180 days after joining, reminder 30 before
    await joins.until(lambda s: any(d.reminded for d in s.deadlines), "the reminder")
    await kyoso.skip(30)
    await joins.until(lambda s: any(d.escalated for d in s.deadlines), "the escalation")
    state = await joins.state()
    assert state.status is MemberStatus.JOINED
    await kyoso.skip(60)
    await joins.status(MemberStatus.DEPLOYMENT_EXPIRED)
    assert await joins.types() == ["member_offered", "member_joined", "reminder_sent",
                                   "escalated", "member_deployment_expired"]
    member_told = await kyoso.pool.fetch(
        "SELECT o.template, o.recipient_id FROM outbox o JOIN events e USING (event_id) "
        "WHERE e.proposal_id = $1 AND e.stream_id LIKE '%/member/%' AND o.template IN "
        "('reminder', 'escalated', 'member_lapsed', 'member_deployment_expired')",
        run.proposal_id)
    assert sorted(r["recipient_id"] for r in member_told) == sorted([
        "012025", "074071",  # window reminders
        "012025", "yokoze-secretariat", "074071", "yokoze-secretariat",  # lapses
        "011002", "yokoze-secretariat",  # deployment reminder, escalation to the host
        "011002", "yokoze-secretariat"])  # deployment expired

    final = await run.finish()
    assert final.stage is Stage.COMPLETED and final.rollout_summary is not None
    assert (final.rollout_summary.lapsed, final.rollout_summary.deployment_expired,
            final.rollout_summary.joined) == (2, 1, 1)
    await run.check()


async def test_pilot_extension_keeps_reporting_on_schedule(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await bring_to(run, Stage.EVALUATING)
    s = await run.state()
    assert s.pilot is not None
    extended = await run.evaluate(PilotOutcome.EXTEND, s.pilot.end_date + timedelta(days=60))
    assert extended.stage == "pilot"
    s = await run.state()
    report = s.deadline(DeadlineKind.REPORT)
    end = s.deadline(DeadlineKind.PILOT_END)
    assert report is not None and end is not None and report.due_at < end.due_at
    assert s.deadline(DeadlineKind.EVALUATION) is None
    await run.end_pilot()
    assert (await run.types())[-1] == "pilot_ended"
    await run.check()
