"""A refused action is refused by the Update's validator, before anything is written: the
person gets a clear message, the workflow history has no trace of the Update, and the event
store has no new event and no new notification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.commands import CastVote, ExtendDeadline, FileReport, JoinRollout, Withdraw
from domain.deadlines import DeadlineKind
from domain.events import VoteDecision
from domain.pilot import PilotReport
from domain.policy import TownPolicy
from domain.stages import Stage
from domain.values import Town
from tests.factories import policies, proposal
from tests.factories import reviewer as committee_member
from tests.workflows.helpers import (
    PROPOSER,
    SECRETARIAT,
    Harness,
    bring_to,
    database_totals,
    failure_text,
    member,
    municipalities,
    reviewer,
    update_ids_in_history,
)
from workflows.membership import MembershipWorkflow
from workflows.proposal import ProposalWorkflow


@dataclass(frozen=True)
class Refusal:
    code: str | None
    text: str


async def refuse(h: Harness, handle: WorkflowHandle[Any, Any], update: Any, arg: Any
                 ) -> Refusal:
    """Send an Update that must be refused; check that it left no trace anywhere."""
    update_id = f"refused-{uuid4().hex[:8]}"
    totals = await database_totals(h.pool)
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(update, arg, id=update_id)
    history = await handle.fetch_history()
    assert update_id not in update_ids_in_history(history.events), (
        "a refused Update was written to the history")
    assert await database_totals(h.pool) == totals, "a refused Update recorded something"
    cause = caught.value.cause
    code = cause.type if isinstance(cause, ApplicationError) else None
    return Refusal(code, failure_text(caught.value))


def vote(reviewer_id: str, decision: VoteDecision = VoteDecision.APPROVE) -> CastVote:
    return CastVote(actor=reviewer(reviewer_id), decision=decision, comment="My view.")


# Yokoze's third reviewer is tied to the proposer's company.
ORGANISATION = "Kumo Works Inc."
CONFLICTED = policies(yokoze=TownPolicy(
    town=Town.YOKOZE, programme="Yokolab", secretariat_email="office@yokoze.example.jp",
    committee=(committee_member(Town.YOKOZE, 1, chair=True), committee_member(Town.YOKOZE, 2),
               committee_member(Town.YOKOZE, 3, affiliations=("Kumo Works",))),
    quorum=2))

IN_REVIEW_CASES = {
    "unknown reviewer": ("nobody", "not_on_committee", "nobody is not a reviewer"),
    "the other town's reviewer": ("bandai-r1", "not_on_committee",
                                  "bandai-r1 sits on Bandai (磐梯町)'s committee"),
    "conflict of interest": ("yokoze-r3", "conflict_of_interest",
                             "yokoze-r3 is affiliated with the proposer"),
}


@pytest.mark.parametrize("case", list(IN_REVIEW_CASES))
async def test_a_vote_from_someone_who_may_not_vote(kyoso: Harness, case: str) -> None:
    run = await kyoso.submit(proposal(organisation=ORGANISATION), CONFLICTED)
    s = await run.at(Stage.IN_REVIEW)
    assert s.eligible == ("yokoze-r1", "yokoze-r2")  # yokoze-r3 is excluded
    who, code, message = IN_REVIEW_CASES[case]
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.vote, vote(who))
    assert refusal.code == code
    assert message in refusal.text
    assert (await run.state()).votes == ()
    await run.check()


async def test_a_second_vote_in_the_same_round(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.vote("yokoze-r1", VoteDecision.REQUEST_CHANGES)
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.vote, vote("yokoze-r1"))
    assert refusal.code == "already_voted"
    assert "yokoze-r1 has already voted in review round 1" in refusal.text
    assert len((await run.state()).votes) == 1
    await run.check()


async def test_a_vote_after_the_decision(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await run.adopt()
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.vote, vote("yokoze-r3"))
    assert refusal.code == "wrong_stage"
    assert "voting needs the proposal to be in_review" in refusal.text
    await run.check()


async def test_a_report_before_the_pilot_starts(kyoso: Harness) -> None:
    run = await kyoso.submit()
    await bring_to(run, Stage.PILOT_PLANNED)
    report = FileReport(actor=PROPOSER, report=PilotReport(summary="Nothing yet."))
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.file_report, report)
    assert refusal.code == "wrong_stage"
    assert "only while the pilot runs" in refusal.text
    await run.check()


async def test_a_member_answering_for_another(kyoso: Harness) -> None:
    await kyoso.add_members(*municipalities("011002", "012025"))
    run = await kyoso.submit()
    await bring_to(run, Stage.ROLLOUT)
    sapporo, _, _ = await run.offered("011002", "012025", "074071")
    await run.check()  # everything recorded so far is delivered: nothing else is under way
    refusal = await refuse(kyoso, sapporo.handle, MembershipWorkflow.join,
                           JoinRollout(actor=member("012025")))
    assert refusal.code == "not_allowed"
    assert "only municipality 011002 may answer its own rollout offer" in refusal.text
    assert await sapporo.types() == ["member_offered"]
    await run.check()


async def test_a_malformed_payload(kyoso: Harness) -> None:
    """An Update sent by name with a raw payload that does not validate (as a script or
    another SDK might send it) is rejected with pydantic's explanation."""
    run = await kyoso.submit()
    await run.at(Stage.IN_REVIEW)
    raw = {"actor": {"role": "reviewer", "id": "yokoze-r1"}, "decision": "maybe",
           "comment": ""}
    refusal = await refuse(kyoso, run.handle, "vote", raw)
    assert "Failed decoding arguments" in refusal.text
    assert "validation errors for CastVote" in refusal.text
    assert "Input should be 'approve', 'reject' or 'request_changes'" in refusal.text
    await run.check()


async def test_other_refusals_of_the_secretariat_and_proposer(kyoso: Harness) -> None:
    run = await kyoso.submit()
    s = await run.at(Stage.IN_REVIEW)
    review = s.deadline(DeadlineKind.REVIEW)
    assert review is not None
    earlier = ExtendDeadline(actor=SECRETARIAT, deadline=DeadlineKind.REVIEW,
                             due_at=review.due_at - timedelta(days=1))
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.extend_deadline, earlier)
    assert refusal.code == "bad_deadline"
    assert "must be later than the current one" in refusal.text

    no_such_wait = ExtendDeadline(actor=SECRETARIAT, deadline=DeadlineKind.REVISION,
                                  due_at=review.due_at)
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.extend_deadline, no_such_wait)
    assert refusal.code == "bad_deadline"
    assert "no open revision deadline" in refusal.text

    by_a_reviewer = Withdraw(actor=reviewer("yokoze-r1"), reason="Not mine to withdraw.")
    refusal = await refuse(kyoso, run.handle, ProposalWorkflow.withdraw, by_a_reviewer)
    assert refusal.code == "not_allowed"
    assert "only the proposer or secretariat may do this" in refusal.text
    await run.check()
