"""Every path of a proposal's life, end to end on the time-skipping server: real workflows,
real activities, the real event store. Each test ends with the consistency check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from domain.deadlines import DeadlineKind
from domain.events import ProposalAdopted, ProposalWithdrawn, ReviewReason, ReviewStarted, VoteDecision
from domain.pilot import PilotOutcome
from domain.proposal import Theme
from domain.stages import MemberStatus, Stage
from domain.values import PreferredTown, Town
from eventstore import programme
from tests.factories import proposal
from tests.workflows.helpers import (
    SECRETARIAT,
    Harness,
    bring_to,
    failure_text,
    municipalities,
    outbox_templates,
    payloads,
    reviewer,
    save_history,
)
from workflows.ids import batch_workflow_id

INTAKE = ["proposal_submitted", "intake_accepted", "review_started"]


async def test_adoption_numbers_are_the_towns_next_and_gap_free(kyoso: Harness) -> None:
    first = await kyoso.submit()
    second = await kyoso.submit()
    in_bandai = await kyoso.submit(proposal(preferred_town=PreferredTown.BANDAI))

    one = await first.adopt()
    two = await second.adopt()
    bandai_one = await in_bandai.adopt(Town.BANDAI)

    assert (one.stage, one.adoption_number) == ("adopted", 1)
    assert (two.stage, two.adoption_number) == ("adopted", 2)
    assert (bandai_one.stage, bandai_one.adoption_number) == ("adopted", 1)
    assert one.events == ["vote_cast", "proposal_adopted"]
    assert await first.types() == [*INTAKE, "vote_cast", "vote_cast", "proposal_adopted"]
    adopted = (await second.events())[-1]
    assert isinstance(adopted, ProposalAdopted) and adopted.adoption_number == 2
    # The number the store allocated reaches the messages and the secretariat's list.
    assert [p["adoption_number"] for p in await payloads(kyoso.pool, second.proposal_id,
                                                         "adopted")] == [2, 2]
    for run in (first, second, in_bandai):
        s = (await run.check()).state
        assert s.stage is Stage.ADOPTED
        assert s.deadline(DeadlineKind.PILOT_PLAN) is not None
    assert (await in_bandai.state()).town is Town.BANDAI


async def test_rejection_closes_the_proposal(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.vote("yokoze-r1", comment="Not now.")
    result = await run.votes(VoteDecision.REJECT, "yokoze-r2", "yokoze-r3")
    assert result.stage == "rejected"

    final = await run.finish()
    assert final.stage is Stage.REJECTED
    assert final.adoption_number is None and final.deadlines == ()
    assert await run.types() == [*INTAKE, "vote_cast", "vote_cast", "vote_cast",
                                 "proposal_rejected"]
    sent = await outbox_templates(kyoso.pool, run.proposal_id)
    assert ("rejected", "proposer") in sent and ("rejected", "yokoze-secretariat") in sent
    await run.check()
    await save_history(run.handle, "reject")


async def test_changes_requested_then_revised_opens_a_new_round(kyoso: Harness) -> None:
    run = await kyoso.submit()
    asked = await run.request_changes()
    assert asked.stage == "changes_requested"
    s = await run.state()
    revision = s.deadline(DeadlineKind.REVISION)
    assert revision is not None and s.deadline(DeadlineKind.REVIEW) is None

    revised = await run.revise(title="On-demand bus trial, three stops first")
    assert revised.stage == "in_review"
    assert revised.events == ["proposal_revised", "review_started"]
    s = await run.state()
    assert (s.round, s.votes, s.revisions) == (2, (), 1)
    assert s.proposal is not None and s.proposal.title == "On-demand bus trial, three stops first"
    started = [e for e in await run.events() if isinstance(e, ReviewStarted)]
    assert [(e.round, e.reason) for e in started] == [
        (1, ReviewReason.PREFERRED), (2, ReviewReason.REVISED)]

    # The same reviewers may vote again in the new round.
    adopted = await run.adopt()
    assert (adopted.stage, adopted.adoption_number) == ("adopted", 1)
    assert await run.types() == [
        *INTAKE, "vote_cast", "vote_cast", "changes_requested", "proposal_revised",
        "review_started", "vote_cast", "vote_cast", "proposal_adopted"]
    assert ("changes_requested", "proposer") in await outbox_templates(kyoso.pool,
                                                                       run.proposal_id)
    await run.check()
    await save_history(run.handle, "revise")


@pytest.mark.parametrize("by", ["secretariat", "reviewer"])
async def test_referral_to_the_other_town(kyoso: Harness, by: str) -> None:
    run = await kyoso.submit()
    await run.vote("yokoze-r1")  # a vote of the first round does not count in the second
    referrer = SECRETARIAT if by == "secretariat" else reviewer("yokoze-r3")
    referred = await run.refer(Town.BANDAI, by=referrer)
    assert referred.events == ["proposal_referred", "review_started"]
    s = await run.state()
    assert (s.town, s.round, s.votes, s.referred_from) == (Town.BANDAI, 2, (), (Town.YOKOZE,))
    assert s.eligible == ("bandai-r1", "bandai-r2", "bandai-r3")

    # Only Bandai's committee decides now, and it cannot send the proposal back.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await run.vote("yokoze-r2")
    assert "sits on Yokoze" in failure_text(refused.value)
    with pytest.raises(WorkflowUpdateFailedError) as back:
        await run.refer(Town.YOKOZE, by=reviewer("bandai-r1"))
    assert "cannot go back" in failure_text(back.value)

    adopted = await run.adopt(Town.BANDAI)
    assert (adopted.stage, adopted.adoption_number) == ("adopted", 1)
    assert await run.types() == [*INTAKE, "vote_cast", "proposal_referred", "review_started",
                                 "vote_cast", "vote_cast", "proposal_adopted"]
    told = {r for t, r in await outbox_templates(kyoso.pool, run.proposal_id) if t == "referred"}
    assert told == {"proposer", "yokoze-secretariat", "bandai-secretariat"}
    await run.check()


async def test_either_town_waits_for_the_secretariat_to_assign(kyoso: Harness) -> None:
    run = await kyoso.submit(proposal(preferred_town=PreferredTown.EITHER))
    s = await run.at(Stage.AWAITING_ASSIGNMENT)
    assert s.town is None and s.waiting_for() is not None
    assert s.deadline(DeadlineKind.ASSIGNMENT) is not None
    told = {r for t, r in await outbox_templates(kyoso.pool, run.proposal_id)
            if t == "intake_accepted"}
    assert told == {"proposer", "yokoze-secretariat", "bandai-secretariat"}

    assigned = await run.assign(Town.BANDAI)
    assert assigned.events == ["review_started"]
    s = await run.state()
    assert (s.stage, s.town, s.deadline(DeadlineKind.ASSIGNMENT)) == (
        Stage.IN_REVIEW, Town.BANDAI, None)
    started = (await run.events())[-1]
    assert isinstance(started, ReviewStarted) and started.reason is ReviewReason.ASSIGNED
    await run.adopt(Town.BANDAI)
    await run.check()


async def test_intake_refuses_while_paused(kyoso: Harness) -> None:
    await programme.set_intake(kyoso.pool, Town.YOKOZE, paused=True,
                               reason="Reworking the process", actor="office")
    refused = await kyoso.submit()
    final = await refused.finish()
    assert final.stage is Stage.REJECTED_AT_INTAKE
    assert final.closed_reason == "intake of Yokolab is paused"
    assert await refused.types() == ["proposal_submitted", "intake_rejected"]
    assert ("intake_rejected", "proposer") in await outbox_templates(kyoso.pool,
                                                                     refused.proposal_id)

    # A proposal that accepts either town goes to the one that is open.
    either = await kyoso.submit(proposal(preferred_town=PreferredTown.EITHER))
    s = await either.at(Stage.IN_REVIEW)
    started = (await either.events())[-1]
    assert s.town is Town.BANDAI
    assert isinstance(started, ReviewStarted) and started.reason is ReviewReason.ROUTED

    await programme.set_intake(kyoso.pool, Town.YOKOZE, paused=False, reason=None,
                               actor="office")
    accepted = await kyoso.submit(refused.proposal)
    await accepted.at(Stage.IN_REVIEW)
    await kyoso.check_all()


async def test_intake_refuses_an_exact_resubmission_of_an_open_proposal(kyoso: Harness
                                                                        ) -> None:
    original = await kyoso.submit()
    await original.at(Stage.IN_REVIEW)
    again = await kyoso.submit(original.proposal)
    final = await again.finish()
    assert final.stage is Stage.REJECTED_AT_INTAKE
    assert final.closed_reason == (
        f"an identical proposal is already open: {original.proposal_id}")

    # Once the first is closed, the same proposal may be submitted anew.
    await original.withdraw()
    await original.finish()
    anew = await kyoso.submit(original.proposal)
    await anew.at(Stage.IN_REVIEW)
    await kyoso.check_all()


WITHDRAWABLE = [Stage.AWAITING_ASSIGNMENT, Stage.IN_REVIEW, Stage.CHANGES_REQUESTED,
                Stage.ADOPTED, Stage.PILOT_PLANNED, Stage.PILOT, Stage.EVALUATING]


@pytest.mark.parametrize("stage", WITHDRAWABLE, ids=[s.value for s in WITHDRAWABLE])
async def test_withdrawal(kyoso: Harness, stage: Stage) -> None:
    preferred = PreferredTown.EITHER if stage is Stage.AWAITING_ASSIGNMENT else None
    run = await kyoso.submit(proposal(preferred_town=preferred or PreferredTown.YOKOZE))
    await bring_to(run, stage)
    before = await run.state()

    result = await run.withdraw()
    assert (result.stage, result.events) == ("withdrawn", ["proposal_withdrawn"])
    final = await run.finish()
    assert final.stage is Stage.WITHDRAWN and final.deadlines == ()
    assert final.closed_reason == "We found another partner."
    withdrawn = (await run.events())[-1]
    assert isinstance(withdrawn, ProposalWithdrawn) and withdrawn.stage is stage
    told = {r for t, r in await outbox_templates(kyoso.pool, run.proposal_id)
            if t == "withdrawn"}
    expected = {"yokoze-secretariat"}
    if stage is Stage.IN_REVIEW:
        expected |= set(before.eligible)  # the reviewers no longer need to decide
    assert told == expected
    await run.check()
    if stage is Stage.IN_REVIEW:
        await save_history(run.handle, "withdraw")


async def test_withdrawal_during_rollout_withdraws_every_open_offer(kyoso: Harness) -> None:
    await kyoso.add_members(*municipalities("011002", "012025", "012033"))
    run = await kyoso.submit()
    await bring_to(run, Stage.ROLLOUT)
    joined, declined, waiting, bandai = await run.offered("011002", "012025", "012033", "074071")
    await joined.join()
    await declined.decline()

    await run.withdraw(reason="The company closed.")
    final = await run.finish()
    assert final.stage is Stage.WITHDRAWN

    # The open offers are withdrawn, each recorded in its member's stream; the member that
    # had already declined keeps its answer.
    for m, status in ((joined, MemberStatus.WITHDRAWN), (declined, MemberStatus.DECLINED),
                      (waiting, MemberStatus.WITHDRAWN), (bandai, MemberStatus.WITHDRAWN)):
        outcome = await m.finish()
        assert outcome.status is status, m.lgcode
    assert await joined.types() == ["member_offered", "member_joined", "member_offer_withdrawn"]
    assert await waiting.types() == ["member_offered", "member_offer_withdrawn"]
    assert await declined.types() == ["member_offered", "member_declined"]
    batch = kyoso.client.get_workflow_handle(batch_workflow_id(run.proposal_id, 0))
    assert (await batch.describe()).status is WorkflowExecutionStatus.CANCELED
    told = {r for t, r in await outbox_templates(kyoso.pool, run.proposal_id)
            if t == "member_offer_withdrawn"}
    assert told == {"011002", "012033", "074071"}
    await run.check()


async def test_adopt_pilot_extend_rollout_complete(kyoso: Harness) -> None:
    """The long way: adoption, a pilot with a report and an extension, success, and a
    rollout in which members join and deploy, decline, or stay silent."""
    await kyoso.add_members(*municipalities("011002", "012025", "012033"))
    run = await kyoso.submit()
    await run.adopt()
    plan = await run.plan_pilot(start_in_days=2, length_days=70)
    assert (await run.state()).stage is Stage.PILOT_PLANNED
    await kyoso.skip(3)
    s = await run.at(Stage.PILOT)
    assert s.deadline(DeadlineKind.REPORT) is not None
    filed = await run.file_report()
    assert filed.events == ["pilot_report_filed"]
    await run.end_pilot()

    new_end = plan.end_date + timedelta(days=45)
    extended = await run.evaluate(PilotOutcome.EXTEND, new_end=new_end)
    assert (extended.stage, extended.events) == ("pilot", ["pilot_evaluated"])
    s = await run.state()
    assert s.pilot is not None and s.pilot.end_date == new_end and s.extensions == 1
    assert s.deadline(DeadlineKind.REPORT) is not None  # a report is due in the extension
    await run.file_report(riders=55)
    assert (await run.state()).deadline(DeadlineKind.REPORT) is None  # the last one
    await run.end_pilot()

    await run.evaluate(PilotOutcome.SUCCESS)
    await run.at(Stage.ROLLOUT)
    deploys, declines, silent, bandai = await run.offered("011002", "012025", "012033",
                                                          "074071")
    assert (await deploys.join()).stage == "joined"
    assert (await declines.decline()).stage == "declined"
    assert (await deploys.deployed()).stage == "deployed"

    await kyoso.skip(61)  # the silent members' window lapses
    final = await run.finish()
    assert final.stage is Stage.COMPLETED
    assert final.rollout_summary is not None
    assert final.rollout_summary.model_dump() == {
        "offered": 4, "joined": 1, "declined": 1, "lapsed": 2, "deployed": 1,
        "deployment_expired": 0, "withdrawn": 0}
    types = await run.types()
    assert types[:6] == [*INTAKE, "vote_cast", "vote_cast", "proposal_adopted"]
    assert types[6:] == [
        "pilot_planned", "pilot_started", "pilot_report_filed",
        "reminder_sent", "escalated",  # the second report was never filed
        "pilot_ended", "pilot_evaluated",  # extended
        "pilot_report_filed", "pilot_ended", "pilot_evaluated",  # success
        "rollout_offered", "proposal_completed"]
    assert await deploys.types() == ["member_offered", "member_joined", "member_deployed"]
    assert await declines.types() == ["member_offered", "member_declined"]
    for quiet in (silent, bandai):
        assert await quiet.types() == ["member_offered", "reminder_sent", "member_lapsed"]
    assert ("completed", "proposer") in await outbox_templates(kyoso.pool, run.proposal_id)
    await run.check()
    await save_history(run.handle, "adopt_pilot_rollout")
    await save_history(kyoso.client.get_workflow_handle(batch_workflow_id(run.proposal_id, 0)),
                       "adopt_pilot_rollout_batch")
    await save_history(deploys.handle, "adopt_pilot_rollout_member")


async def test_pilot_stopped_at_evaluation(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await bring_to(run, Stage.EVALUATING)
    stopped = await run.evaluate(PilotOutcome.STOP)
    assert stopped.stage == "stopped"
    final = await run.finish()
    assert final.stage is Stage.STOPPED and final.closed_reason == "pilot stopped"
    assert (await run.types())[-2:] == ["pilot_ended", "pilot_evaluated"]
    told = {r for t, r in await outbox_templates(kyoso.pool, run.proposal_id)
            if t == "pilot_evaluated"}
    assert told == {"proposer", "yokoze-secretariat"}
    await run.check()


async def test_routing_rule_places_dx_proposals_in_bandai(kyoso: Harness) -> None:
    """Theme routing only matters when the secretariat must choose: see test_deadlines for
    the rule applied when it does not choose in time."""
    run = await kyoso.submit(proposal(preferred_town=PreferredTown.EITHER, theme=Theme.DX))
    await run.at(Stage.AWAITING_ASSIGNMENT)
    told = {r for t, r in await outbox_templates(kyoso.pool, run.proposal_id)
            if t == "submitted"}
    assert told == {"bandai-secretariat"}
    await run.check()


async def test_a_long_history_continues_as_new_without_losing_anything(kyoso: Harness) -> None:
    """With a small history limit the proposal's workflow continues as new several times;
    its state, undelivered notifications and deadlines carry over to each new run."""
    await kyoso.add_members(*municipalities("011002"))
    run = await kyoso.submit(history_limit=40)
    rounds = 6  # each Update lands while the workflow may be about to continue as new
    for n in range(rounds):
        await run.request_changes()
        await run.revise(title=f"On-demand bus trial, version {n + 2}")
    await run.adopt()
    await run.start_pilot()
    await run.file_report()
    await run.end_pilot()
    await run.evaluate(PilotOutcome.SUCCESS)
    await run.at(Stage.ROLLOUT)
    (sapporo,) = await run.offered("011002")
    await sapporo.decline()
    await kyoso.skip(61)
    final = await run.finish()
    assert final.stage is Stage.COMPLETED
    lengths = []  # of each run's history, latest first
    history = await run.handle.fetch_history()
    while True:
        lengths.append(len(history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            break
        history = await kyoso.client.get_workflow_handle(
            run.handle.id, run_id=started.continued_execution_run_id).fetch_history()
    assert len(lengths) >= 3, "the workflow did not continue as new"
    # Each run continues once it passes the limit and its Updates have finished (with people
    # acting back to back, that can take a few more of them).
    assert max(lengths) < 200
    assert final.round == rounds + 1 and final.revisions == rounds
    assert await run.types() == [
        *INTAKE,
        *(["vote_cast", "vote_cast", "changes_requested", "proposal_revised",
           "review_started"] * rounds),
        "vote_cast", "vote_cast", "proposal_adopted", "pilot_planned",
        "pilot_started", "pilot_report_filed", "reminder_sent", "escalated", "pilot_ended",
        "pilot_evaluated", "rollout_offered", "proposal_completed"]
    await run.check()
