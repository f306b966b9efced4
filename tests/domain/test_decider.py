"""Every rule of the proposal decider, one or more tests each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.commands import (
    Assign,
    CastVote,
    CompleteIntake,
    CompleteRollout,
    Context,
    EvaluatePilot,
    ExtendDeadline,
    FileReport,
    OfferRollout,
    PlanPilot,
    ProposalCommand,
    Refer,
    Revise,
    Submit,
    Tick,
    Withdraw,
)
from domain.deadlines import Deadline, DeadlineKind
from domain.decider import decide
from domain.errors import ErrorCode
from domain.events import (
    ChangesRequested,
    DeadlineExtended,
    Escalated,
    Event,
    IntakeAccepted,
    IntakeRejected,
    PilotEnded,
    PilotEvaluated,
    PilotPlanned,
    PilotReportFiled,
    ProposalAdopted,
    ProposalCompleted,
    ProposalReferred,
    ProposalRejected,
    ProposalRevised,
    ProposalSubmitted,
    ProposalWithdrawn,
    ReminderSent,
    ReviewReason,
    ReviewStarted,
    RolloutOffered,
    RolloutSummary,
    Tally,
    VoteCast,
    VoteDecision,
)
from domain.pilot import PilotEvaluation, PilotOutcome, PilotReport
from domain.policy import DecisionRule
from domain.proposal import ProposalRevision, Theme
from domain.stages import TERMINAL_STAGES, Stage
from domain.state import ProposalState
from domain.values import PreferredTown, Role, Town, today_jst
from tests.factories import (
    BANDAI_R1,
    PROPOSER,
    SECRETARIAT,
    SYSTEM,
    T0,
    YOKOZE_R1,
    YOKOZE_R2,
    YOKOZE_R3,
    Story,
    actor,
    day,
    pilot_plan,
    policies,
    proposal,
    refuse,
    reviewer,
    reviewer_actor,
    story_at,
    town_policy,
)

A, R, C = VoteDecision.APPROVE, VoteDecision.REJECT, VoteDecision.REQUEST_CHANGES
NON_TERMINAL = [s for s in Stage if s not in TERMINAL_STAGES]
REVIEWER = reviewer_actor(YOKOZE_R1)


def types(events: list[Event]) -> list[type]:
    return [type(e) for e in events]


def vote(reviewer_id: str, decision: VoteDecision = A) -> CastVote:
    return CastVote(actor=reviewer_actor(reviewer_id), decision=decision, comment="ok")


def refer(to: Town, by: str | None = None) -> Refer:
    who = reviewer_actor(by) if by else SECRETARIAT
    return Refer(actor=who, to_town=to, reason="Bandai has the DX know-how for this.")


def report() -> FileReport:
    return FileReport(actor=PROPOSER, report=PilotReport(summary="40 riders a week."))


def evaluation(outcome: PilotOutcome, new_end: date | None = None) -> EvaluatePilot:
    ev = PilotEvaluation(outcome=outcome, comment="Reviewed.", new_end_date=new_end)
    return EvaluatePilot(actor=SECRETARIAT, evaluation=ev)


def extension(kind: DeadlineKind, due_at: datetime, by: Role = Role.SECRETARIAT
              ) -> ExtendDeadline:
    return ExtendDeadline(actor=actor(by, "office"), deadline=kind, due_at=due_at)


# -- submission -----------------------------------------------------------------------------------

def test_submit_records_the_proposal_and_its_policies() -> None:
    s = Story()
    [e] = s.submit()
    assert isinstance(e, ProposalSubmitted)
    assert (e.sequence, e.proposal_id, e.proposal) == (1, s.proposal_id, s.proposal)
    assert e.fingerprint == s.proposal.fingerprint()
    assert s.state.stage is Stage.SUBMITTED
    assert s.state.policies == s.policies
    assert s.state.submitted_at == s.now


def test_submit_twice_is_refused() -> None:
    s = story_at(Stage.IN_REVIEW)
    again = Submit(actor=PROPOSER, proposal_id=s.proposal_id, proposal=s.proposal,
                   policies=s.policies)
    err = s.refuse(again, ErrorCode.ALREADY_SUBMITTED)
    assert str(err) == f"proposal {s.proposal_id} was already submitted"


def test_the_secretariat_may_submit_for_a_proposer_but_a_reviewer_may_not() -> None:
    assert Story().submit(by=SECRETARIAT)
    refuse(lambda: Story().submit(by=reviewer_actor(YOKOZE_R1)), ErrorCode.NOT_ALLOWED)


@pytest.mark.parametrize(
    "command",
    [
        CompleteIntake(actor=SYSTEM, open_towns=frozenset({Town.YOKOZE})),
        Assign(actor=SECRETARIAT, town=Town.YOKOZE),
        vote(YOKOZE_R1),
        Withdraw(actor=PROPOSER, reason="Changed our minds."),
        refer(Town.BANDAI),
        Tick(actor=SYSTEM),
        report(),
    ],
    ids=lambda c: c.kind,
)
def test_commands_before_submit_are_refused(command: ProposalCommand) -> None:
    ctx = Context(command_id=uuid4(), at=T0)
    err = refuse(lambda: decide(ProposalState(), command, ctx), ErrorCode.NOT_SUBMITTED)
    assert str(err) == "the proposal has not been submitted"



# -- intake ---------------------------------------------------------------------------------------

def test_intake_refuses_a_duplicate_of_an_open_proposal() -> None:
    s = story_at(Stage.SUBMITTED)
    [e] = s.intake(Town.YOKOZE, Town.BANDAI, duplicate_of="P-0000000ABC")
    assert isinstance(e, IntakeRejected)
    assert e.reason == "an identical proposal is already open: P-0000000ABC"
    assert s.state.stage is Stage.REJECTED_AT_INTAKE
    assert s.state.closed_reason == e.reason


def test_intake_ignores_a_duplicate_that_is_the_proposal_itself() -> None:
    s = story_at(Stage.SUBMITTED)
    assert types(s.intake(Town.YOKOZE, duplicate_of=s.proposal_id)) == [
        IntakeAccepted, ReviewStarted]


@pytest.mark.parametrize(("preferred", "programme"), [(Town.YOKOZE, "Yokolab"),
                                                     (Town.BANDAI, "Bandai Takara Lab")])
def test_intake_rejects_when_the_preferred_town_is_paused(preferred: Town, programme: str
                                                          ) -> None:
    s = Story(prop=proposal(preferred_town=PreferredTown(preferred.value)))
    s.submit()
    [e] = s.intake(preferred.other)
    assert isinstance(e, IntakeRejected)
    assert e.reason == f"intake of {programme} is paused"
    assert s.state.stage is Stage.REJECTED_AT_INTAKE


def test_intake_sends_the_proposal_to_its_preferred_town() -> None:
    s = Story(prop=proposal(preferred_town=PreferredTown.BANDAI))
    s.submit()
    accepted, started = s.intake(Town.YOKOZE, Town.BANDAI)
    assert isinstance(accepted, IntakeAccepted)
    assert accepted.assignment is None
    assert isinstance(started, ReviewStarted)
    assert (started.town, started.round, started.reason) == (Town.BANDAI, 1, ReviewReason.PREFERRED)
    assert started.eligible == ("bandai-r1", "bandai-r2", "bandai-r3")
    assert started.excluded == ()
    assert (started.quorum, started.rule) == (2, DecisionRule.MAJORITY)
    assert started.deadline == Deadline(kind=DeadlineKind.REVIEW, due_at=day(s.now, 30),
                                        remind_at=day(s.now, 23), expire_at=day(s.now, 44))
    assert s.state.stage is Stage.IN_REVIEW
    assert s.state.deadlines == (started.deadline,)


@pytest.mark.parametrize("town", list(Town))
def test_intake_routes_either_to_the_only_open_town(town: Town) -> None:
    s = Story(prop=proposal(preferred_town=PreferredTown.EITHER, theme=Theme.DX))
    s.submit()
    accepted, started = s.intake(town)
    assert isinstance(accepted, IntakeAccepted)
    assert accepted.assignment is None
    assert isinstance(started, ReviewStarted)
    assert (started.town, started.reason) == (town, ReviewReason.ROUTED)


def test_intake_of_either_with_both_open_awaits_assignment() -> None:
    s = Story(prop=proposal(preferred_town=PreferredTown.EITHER))
    s.submit()
    [e] = s.intake(Town.YOKOZE, Town.BANDAI)
    assert isinstance(e, IntakeAccepted)
    assert e.assignment == Deadline(kind=DeadlineKind.ASSIGNMENT, due_at=day(s.now, 7),
                                    remind_at=day(s.now, 5))
    assert s.state.stage is Stage.AWAITING_ASSIGNMENT
    assert s.state.deadlines == (e.assignment,)
    assert s.state.town is None


def test_intake_of_either_with_both_paused_is_rejected() -> None:
    s = Story(prop=proposal(preferred_town=PreferredTown.EITHER))
    s.submit()
    [e] = s.intake()
    assert isinstance(e, IntakeRejected)
    assert e.reason == "intake of both programmes is paused"


def test_intake_happens_once_and_only_by_the_system() -> None:
    s = story_at(Stage.SUBMITTED)
    s.refuse(CompleteIntake(actor=SECRETARIAT, open_towns=frozenset(Town)), ErrorCode.NOT_ALLOWED)
    s.intake(Town.YOKOZE)
    err = s.refuse(CompleteIntake(actor=SYSTEM, open_towns=frozenset(Town)),
                   ErrorCode.WRONG_STAGE)
    assert str(err) == (f"intake checks needs the proposal to be submitted; "
                        f"{s.proposal_id} is in_review")


# -- assignment -----------------------------------------------------------------------------------

def test_only_the_secretariat_assigns() -> None:
    s = story_at(Stage.AWAITING_ASSIGNMENT)
    err = s.refuse(Assign(actor=PROPOSER, town=Town.YOKOZE), ErrorCode.NOT_ALLOWED)
    assert str(err) == "only the secretariat may do this (you are acting as proposer)"
    s.refuse(Assign(actor=reviewer_actor(YOKOZE_R1), town=Town.YOKOZE), ErrorCode.NOT_ALLOWED)


def test_assignment_starts_the_review_of_the_chosen_town() -> None:
    s = story_at(Stage.AWAITING_ASSIGNMENT)
    [e] = s.do(Assign(actor=SECRETARIAT, town=Town.BANDAI))
    assert isinstance(e, ReviewStarted)
    assert (e.town, e.reason, e.round) == (Town.BANDAI, ReviewReason.ASSIGNED, 1)
    assert s.state.deadline(DeadlineKind.ASSIGNMENT) is None
    assert s.state.deadline(DeadlineKind.REVIEW) == e.deadline


@pytest.mark.parametrize("stage", [Stage.SUBMITTED, Stage.IN_REVIEW, Stage.ADOPTED])
def test_assignment_only_while_awaiting_it(stage: Stage) -> None:
    s = story_at(stage)
    err = s.refuse(Assign(actor=SECRETARIAT, town=Town.BANDAI), ErrorCode.WRONG_STAGE)
    assert f"needs the proposal to be awaiting_assignment; {s.proposal_id} is {stage.value}" in (
        str(err))


# -- votes ----------------------------------------------------------------------------------------

def test_an_unknown_reviewer_may_not_vote() -> None:
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(vote("nobody"), ErrorCode.NOT_ON_COMMITTEE)
    assert str(err) == "nobody is not a reviewer"


def test_a_reviewer_of_the_other_town_may_not_vote() -> None:
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(vote(BANDAI_R1), ErrorCode.NOT_ON_COMMITTEE)
    assert str(err) == ("bandai-r1 sits on Bandai (磐梯町)'s committee; "
                        "this proposal is reviewed by Yokoze (横瀬町)")


def test_only_reviewers_vote() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.refuse(CastVote(actor=actor(Role.SECRETARIAT, YOKOZE_R1), decision=A, comment="ok"),
             ErrorCode.NOT_ALLOWED)


@pytest.mark.parametrize(
    ("organisation", "related", "affiliation"),
    [
        ("Foo", (), "株式会社Foo"),
        ("株式会社Foo", (), "FOO Inc."),
        ("Satoyama Mobility K.K.", (), "Satoyama Mobility"),
        ("Ｆｏｏ", (), "foo"),
        ("Bar Ltd.", ("Foo Holdings",), "ＦＯＯ ＨＯＬＤＩＮＧＳ"),
        ("Bar", ("Other", "(株)ヨコラボ"), "ヨコラボ"),
    ],
)
def test_a_conflicted_reviewer_is_excluded_and_may_not_vote(
    organisation: str, related: tuple[str, ...], affiliation: str
) -> None:
    committee = town_policy(Town.YOKOZE).committee
    conflicted = reviewer(Town.YOKOZE, 3, affiliations=("Town library", affiliation))
    pol = policies(yokoze=town_policy(Town.YOKOZE).model_copy(
        update={"committee": (*committee[:2], conflicted)}))
    s = Story(pol=pol, prop=proposal(organisation=organisation, related_parties=related))
    s.submit()
    _, started = s.intake(Town.YOKOZE)
    assert isinstance(started, ReviewStarted)
    assert started.eligible == (YOKOZE_R1, YOKOZE_R2)
    assert started.excluded == (YOKOZE_R3,)
    err = s.refuse(vote(YOKOZE_R3), ErrorCode.CONFLICT_OF_INTEREST)
    assert str(err) == "yokoze-r3 is affiliated with the proposer and may not vote on this proposal"


def test_a_similar_but_different_affiliation_is_no_conflict() -> None:
    committee = town_policy(Town.YOKOZE).committee
    r3 = reviewer(Town.YOKOZE, 3, affiliations=("Foobar K.K.",))
    pol = policies(yokoze=town_policy(Town.YOKOZE).model_copy(
        update={"committee": (*committee[:2], r3)}))
    s = Story(pol=pol, prop=proposal(organisation="Foo K.K."))
    s.submit()
    s.intake(Town.YOKOZE)
    assert s.state.eligible == (YOKOZE_R1, YOKOZE_R2, YOKOZE_R3)
    assert types(s.vote(YOKOZE_R3)) == [VoteCast]


def test_one_vote_per_reviewer_per_round() -> None:
    s = story_at(Stage.IN_REVIEW)
    [e] = s.vote(YOKOZE_R1)
    assert isinstance(e, VoteCast)
    assert (e.round, e.reviewer_id, e.decision) == (1, YOKOZE_R1, A)
    err = s.refuse(vote(YOKOZE_R1, R), ErrorCode.ALREADY_VOTED)
    assert str(err) == "yokoze-r1 has already voted in review round 1"


def test_no_vote_after_the_decision() -> None:
    s = story_at(Stage.ADOPTED)
    err = s.refuse(vote(YOKOZE_R3), ErrorCode.WRONG_STAGE)
    assert "voting needs the proposal to be in_review" in str(err)


def test_a_reviewer_votes_again_in_the_round_after_a_revision() -> None:
    s = story_at(Stage.CHANGES_REQUESTED)
    s.refuse(vote(YOKOZE_R1), ErrorCode.WRONG_STAGE)
    s.revise()
    [e] = s.vote(YOKOZE_R1)
    assert isinstance(e, VoteCast)
    assert e.round == 2
    assert s.state.votes[0].reviewer_id == YOKOZE_R1


# -- decision rules -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("rule", "members", "quorum", "decisions", "outcome"),
    [
        (DecisionRule.MAJORITY, 3, 2, [A], None),  # below quorum: wait
        (DecisionRule.MAJORITY, 3, 2, [A, A], ProposalAdopted),
        (DecisionRule.MAJORITY, 3, 2, [R, R], ProposalRejected),
        (DecisionRule.MAJORITY, 3, 2, [C, C], ChangesRequested),
        (DecisionRule.MAJORITY, 3, 2, [A, R], None),  # no majority yet, one still to vote
        (DecisionRule.MAJORITY, 3, 2, [A, R, A], ProposalAdopted),
        (DecisionRule.MAJORITY, 3, 2, [A, R, R], ProposalRejected),
        (DecisionRule.MAJORITY, 3, 2, [A, R, C], ChangesRequested),  # all voted, no majority
        (DecisionRule.MAJORITY, 4, 3, [A, A, R], ProposalAdopted),
        (DecisionRule.MAJORITY, 4, 4, [A, A, R, R], ChangesRequested),
        (DecisionRule.MAJORITY, 1, 1, [R], ProposalRejected),
        (DecisionRule.UNANIMOUS, 3, 3, [A, A], None),
        (DecisionRule.UNANIMOUS, 3, 3, [A, A, A], ProposalAdopted),
        (DecisionRule.UNANIMOUS, 3, 3, [A, A, R], ProposalRejected),
        (DecisionRule.UNANIMOUS, 3, 3, [A, A, C], ChangesRequested),
        (DecisionRule.UNANIMOUS, 3, 3, [C, R, A], ProposalRejected),  # any reject rejects
        (DecisionRule.UNANIMOUS, 3, 2, [A, A], ProposalAdopted),  # quorum reached, all approve
        (DecisionRule.UNANIMOUS, 3, 2, [A, C], ChangesRequested),
    ],
)
def test_decision_rules(rule: DecisionRule, members: int, quorum: int,
                        decisions: list[VoteDecision], outcome: type | None) -> None:
    pol = policies(yokoze=town_policy(Town.YOKOZE, members=members, quorum=quorum, rule=rule))
    s = Story(pol=pol)
    s.submit()
    s.intake(Town.YOKOZE)
    for i, decision in enumerate(decisions[:-1], start=1):
        assert types(s.vote(f"yokoze-r{i}", decision)) == [VoteCast]
    last = s.vote(f"yokoze-r{len(decisions)}", decisions[-1])
    if outcome is None:
        assert types(last) == [VoteCast]
        assert s.state.stage is Stage.IN_REVIEW
        return
    assert types(last) == [VoteCast, outcome]
    decided = last[1]
    assert isinstance(decided, ProposalAdopted | ProposalRejected | ChangesRequested)
    counts = {d: decisions.count(d) for d in VoteDecision}
    assert decided.tally == Tally(approve=counts[A], reject=counts[R], request_changes=counts[C])
    expected_stage: dict[type, Stage] = {ProposalAdopted: Stage.ADOPTED,
                                         ProposalRejected: Stage.REJECTED,
                                         ChangesRequested: Stage.CHANGES_REQUESTED}
    assert s.state.stage is expected_stage[outcome]


def test_adoption_opens_the_wait_for_the_pilot_plan() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.vote(YOKOZE_R1)
    _, adopted = s.vote(YOKOZE_R2)
    assert isinstance(adopted, ProposalAdopted)
    assert (adopted.town, adopted.round, adopted.adoption_number) == (Town.YOKOZE, 1, None)
    assert adopted.plan_deadline == Deadline(kind=DeadlineKind.PILOT_PLAN, due_at=day(s.now, 30),
                                             remind_at=day(s.now, 23), expire_at=day(s.now, 60))
    assert s.state.deadlines == (adopted.plan_deadline,)
    assert s.state.decided_at == s.now


def test_rejection_closes_the_proposal() -> None:
    s = story_at(Stage.REJECTED)
    assert s.state.deadlines == ()
    assert s.state.closed_reason == "rejected by the committee"


def test_changes_requested_collects_the_comments_and_opens_the_revision_wait() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.vote(YOKOZE_R1, A, "Fine as it is.")
    s.vote(YOKOZE_R2, C, "Name the bus stops.")
    _, changes = s.vote(YOKOZE_R3, C, "Add a budget.")
    assert isinstance(changes, ChangesRequested)
    assert changes.comments == ("Name the bus stops.", "Add a budget.")
    assert changes.deadline == Deadline(kind=DeadlineKind.REVISION, due_at=day(s.now, 30),
                                        remind_at=day(s.now, 23))
    assert s.state.deadlines == (changes.deadline,)


def test_quorum_impossible_is_escalated_when_the_review_starts() -> None:
    committee = (reviewer(Town.YOKOZE, 1), reviewer(Town.YOKOZE, 2, affiliations=("Foo",)))
    pol = policies(yokoze=town_policy(Town.YOKOZE).model_copy(update={"committee": committee}))
    s = Story(pol=pol, prop=proposal(organisation="Foo K.K."))
    s.submit()
    _, started, escalated = s.intake(Town.YOKOZE)
    assert isinstance(started, ReviewStarted)
    assert isinstance(escalated, Escalated)
    assert (escalated.kind, escalated.at_deadline) == (DeadlineKind.REVIEW, False)
    assert escalated.reason == ("only 1 of 2 reviewers may vote; the quorum is 2: "
                                "refer the proposal or change the committee")
    assert s.state.deadlines == (started.deadline,)  # the review wait itself is unchanged
    assert types(s.vote(YOKOZE_R1)) == [VoteCast]  # and can never reach the quorum


def test_a_full_committee_raises_no_quorum_escalation() -> None:
    s = story_at(Stage.SUBMITTED)
    assert Escalated not in types(s.intake(Town.YOKOZE))


# -- revision -------------------------------------------------------------------------------------

def test_revision_opens_a_new_round() -> None:
    s = story_at(Stage.CHANGES_REQUESTED)
    revised, started = s.revise("Bus trial, phase one")
    assert isinstance(revised, ProposalRevised)
    assert isinstance(started, ReviewStarted)
    assert revised.round == 1
    assert (started.round, started.reason, started.town) == (2, ReviewReason.REVISED, Town.YOKOZE)
    assert s.state.proposal is not None
    assert s.state.proposal.title == "Bus trial, phase one"
    assert s.state.proposal.summary == s.proposal.summary
    assert (s.state.revisions, s.state.votes, s.state.stage) == (1, (), Stage.IN_REVIEW)
    assert [d.kind for d in s.state.deadlines] == [DeadlineKind.REVIEW]


def test_only_the_proposer_revises_and_only_when_changes_were_requested() -> None:
    rev = ProposalRevision(summary="A smaller first phase with two buses only.", note="Smaller.")
    s = story_at(Stage.CHANGES_REQUESTED)
    s.refuse(Revise(actor=SECRETARIAT, revision=rev), ErrorCode.NOT_ALLOWED)
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(Revise(actor=PROPOSER, revision=rev), ErrorCode.WRONG_STAGE)
    assert "revising needs the proposal to be changes_requested" in str(err)


# -- referral -------------------------------------------------------------------------------------

def test_the_secretariat_refers_to_the_other_town() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.vote(YOKOZE_R1)
    referred, started = s.do(refer(Town.BANDAI))
    assert isinstance(referred, ProposalReferred)
    assert (referred.from_town, referred.to_town) == (Town.YOKOZE, Town.BANDAI)
    assert isinstance(started, ReviewStarted)
    assert (started.town, started.reason, started.round) == (Town.BANDAI, ReviewReason.REFERRED, 2)
    assert started.eligible == ("bandai-r1", "bandai-r2", "bandai-r3")
    assert s.state.votes == ()
    assert s.state.referred_from == (Town.YOKOZE,)
    assert types(s.vote(BANDAI_R1)) == [VoteCast]
    s.refuse(vote(YOKOZE_R2), ErrorCode.NOT_ON_COMMITTEE)


def test_a_reviewer_of_the_committee_refers() -> None:
    s = story_at(Stage.IN_REVIEW)
    assert types(s.do(refer(Town.BANDAI, by=YOKOZE_R2))) == [ProposalReferred, ReviewStarted]


def test_a_reviewer_of_the_other_committee_may_not_refer() -> None:
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(refer(Town.BANDAI, by=BANDAI_R1), ErrorCode.NOT_ON_COMMITTEE)
    assert str(err) == "only Yokoze (横瀬町)'s committee or the secretariat may refer this proposal"


def test_the_proposer_may_not_refer() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.refuse(Refer(actor=PROPOSER, to_town=Town.BANDAI, reason="Please."), ErrorCode.NOT_ALLOWED)


def test_no_referral_to_the_same_town() -> None:
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(refer(Town.YOKOZE), ErrorCode.BAD_REFERRAL)
    assert str(err) == "the proposal is already with Yokoze (横瀬町)"


def test_no_referral_back_to_a_town_that_referred_it_away() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.do(refer(Town.BANDAI))
    err = s.refuse(refer(Town.YOKOZE, by=BANDAI_R1), ErrorCode.BAD_REFERRAL)
    assert str(err) == "Yokoze (横瀬町) already referred this proposal away; it cannot go back"
    s.refuse(refer(Town.YOKOZE), ErrorCode.BAD_REFERRAL)


def test_referral_only_during_review() -> None:
    s = story_at(Stage.CHANGES_REQUESTED)
    s.refuse(refer(Town.BANDAI), ErrorCode.WRONG_STAGE)


# -- withdrawal -----------------------------------------------------------------------------------

@pytest.mark.parametrize("stage", NON_TERMINAL, ids=str)
def test_withdrawal_from_every_open_stage(stage: Stage) -> None:
    s = story_at(stage)
    [e] = s.do(Withdraw(actor=PROPOSER, reason="We found another partner."))
    assert isinstance(e, ProposalWithdrawn)
    assert e.stage is stage
    assert s.state.stage is Stage.WITHDRAWN
    assert s.state.deadlines == ()
    assert s.state.closed_reason == "We found another partner."


def test_the_secretariat_may_withdraw_but_a_reviewer_may_not() -> None:
    s = story_at(Stage.IN_REVIEW)
    s.refuse(Withdraw(actor=reviewer_actor(YOKOZE_R1), reason="No."), ErrorCode.NOT_ALLOWED)
    assert types(s.do(Withdraw(actor=SECRETARIAT, reason="At the proposer's request."))) == [
        ProposalWithdrawn]


@pytest.mark.parametrize("stage", sorted(TERMINAL_STAGES), ids=str)
def test_nothing_after_a_terminal_stage(stage: Stage) -> None:
    s = story_at(stage)
    err = s.refuse(Withdraw(actor=PROPOSER, reason="Too late."), ErrorCode.WRONG_STAGE)
    assert str(err) == f"proposal {s.proposal_id} is {stage.value}: nothing more can be done"
    s.refuse(vote(YOKOZE_R1), ErrorCode.WRONG_STAGE)
    assert s.tick(day(s.now, 1000)) == []


# -- extending a deadline -------------------------------------------------------------------------

def test_the_secretariat_extends_a_wait_and_reminder_and_grace_move_with_it() -> None:
    s = story_at(Stage.IN_REVIEW)
    old = s.state.deadline(DeadlineKind.REVIEW)
    assert old is not None
    assert old.remind_at is not None
    assert old.expire_at is not None
    [e] = s.do(extension(DeadlineKind.REVIEW, day(old.due_at, 10)))
    assert isinstance(e, DeadlineExtended)
    assert (e.kind, e.previous_due_at) == (DeadlineKind.REVIEW, old.due_at)
    assert e.deadline == Deadline(kind=DeadlineKind.REVIEW, due_at=day(old.due_at, 10),
                                  remind_at=day(old.remind_at, 10),
                                  expire_at=day(old.expire_at, 10))
    assert s.state.deadlines == (e.deadline,)


def test_an_extension_after_the_escalation_opens_the_wait_again() -> None:
    s = story_at(Stage.IN_REVIEW)
    old = s.state.deadline(DeadlineKind.REVIEW)
    assert old is not None
    assert old.expire_at is not None
    assert types(s.tick(old.due_at)) == [ReminderSent, Escalated]
    new_due = day(s.now, 20)
    s.do(extension(DeadlineKind.REVIEW, new_due))
    moved = s.state.deadline(DeadlineKind.REVIEW)
    assert moved is not None
    assert (moved.reminded, moved.escalated) == (False, False)
    # At the old expiry the proposal lives on, and is reminded of its new due date instead.
    [reminder] = s.tick(old.expire_at)
    assert isinstance(reminder, ReminderSent)
    assert reminder.due_at == new_due
    assert s.state.stage is Stage.IN_REVIEW
    assert types(s.tick(new_due)) == [Escalated]


@pytest.mark.parametrize("by", [Role.PROPOSER, Role.REVIEWER, Role.SYSTEM])
def test_only_the_secretariat_extends(by: Role) -> None:
    s = story_at(Stage.IN_REVIEW)
    s.refuse(extension(DeadlineKind.REVIEW, day(s.now, 60), by=by), ErrorCode.NOT_ALLOWED)


def test_only_an_open_wait_is_extended() -> None:
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(extension(DeadlineKind.REVISION, day(s.now, 60)), ErrorCode.BAD_DEADLINE)
    assert str(err) == "there is no open revision deadline to extend (open: review)"


def test_a_scheduled_moment_is_not_a_wait_to_extend() -> None:
    s = story_at(Stage.PILOT_PLANNED)
    err = s.refuse(extension(DeadlineKind.PILOT_START, day(s.now, 60)), ErrorCode.BAD_DEADLINE)
    assert str(err) == "there is no open pilot_start deadline to extend"


@pytest.mark.parametrize("days_after_due", [0, -1])
def test_an_extension_must_be_later(days_after_due: int) -> None:
    s = story_at(Stage.IN_REVIEW)
    due = s.state.deadlines[0].due_at
    err = s.refuse(extension(DeadlineKind.REVIEW, day(due, days_after_due)),
                   ErrorCode.BAD_DEADLINE)
    assert "must be later than the current one" in str(err)
    assert "and in the future" in str(err)


def test_an_extension_must_be_in_the_future() -> None:
    s = story_at(Stage.IN_REVIEW)
    due = s.state.deadlines[0].due_at
    s.tick(day(due, 5))  # escalated, in the grace period
    s.refuse(extension(DeadlineKind.REVIEW, day(due, 4)), ErrorCode.BAD_DEADLINE)
    assert types(s.do(extension(DeadlineKind.REVIEW, day(due, 6)))) == [DeadlineExtended]


def test_an_extension_is_at_most_a_year_ahead() -> None:
    s = story_at(Stage.IN_REVIEW)
    err = s.refuse(extension(DeadlineKind.REVIEW, day(s.now, 368)), ErrorCode.BAD_DEADLINE)
    assert str(err) == "a deadline may be set at most 366 days ahead"


# -- pilot ----------------------------------------------------------------------------------------

def test_planning_the_pilot_schedules_its_start() -> None:
    s = story_at(Stage.ADOPTED)
    [e] = s.plan(start_in_days=10, length_days=89)
    assert isinstance(e, PilotPlanned)
    assert e.start == Deadline(kind=DeadlineKind.PILOT_START, due_at=e.plan.starts_at)
    assert s.state.stage is Stage.PILOT_PLANNED
    assert s.state.deadlines == (e.start,)  # the pilot-plan wait is over
    [again] = s.plan(start_in_days=20)  # re-planned before it starts
    assert isinstance(again, PilotPlanned)
    assert s.state.deadlines == (again.start,)


def test_a_pilot_cannot_start_in_the_past() -> None:
    s = story_at(Stage.ADOPTED)
    err = s.refuse(PlanPilot(actor=SECRETARIAT, plan=pilot_plan(date(2026, 3, 31))),
                   ErrorCode.INVALID)
    assert str(err) == ("the pilot cannot start in the past (2026-03-31 is before today, "
                        "2026-04-01 JST)")
    assert types(s.do(PlanPilot(actor=SECRETARIAT, plan=pilot_plan(today_jst(s.now))))) == [
        PilotPlanned]


def test_today_is_the_japanese_date() -> None:
    # 15:30 UTC on 1 April is 00:30 JST on 2 April: a pilot starting on 1 April is in the past.
    s = story_at(Stage.ADOPTED, start=datetime(2026, 4, 1, 15, 0, tzinfo=UTC))
    s.refuse(PlanPilot(actor=SECRETARIAT, plan=pilot_plan(date(2026, 4, 1))), ErrorCode.INVALID)


def test_only_the_secretariat_plans_and_only_after_adoption() -> None:
    s = story_at(Stage.ADOPTED)
    plan = pilot_plan(date(2026, 5, 1))
    s.refuse(PlanPilot(actor=PROPOSER, plan=plan), ErrorCode.NOT_ALLOWED)
    s = story_at(Stage.IN_REVIEW)
    s.refuse(PlanPilot(actor=SECRETARIAT, plan=plan), ErrorCode.WRONG_STAGE)


def test_reports_are_refused_before_the_pilot_starts() -> None:
    s = story_at(Stage.PILOT_PLANNED)
    err = s.refuse(report(), ErrorCode.WRONG_STAGE)
    assert str(err) == ("pilot reports can be filed only while the pilot runs; "
                        "the proposal is pilot_planned")


def test_a_report_moves_the_next_report_one_interval_on() -> None:
    s = story_at(Stage.PILOT)
    first = s.state.deadline(DeadlineKind.REPORT)
    assert first is not None
    [e] = s.do(report())
    assert isinstance(e, PilotReportFiled)
    assert e.number == 1
    assert e.next_report is not None
    assert e.next_report.due_at == day(first.due_at, 30)
    assert s.state.reports_filed == 1
    [e2] = s.do(report())
    assert isinstance(e2, PilotReportFiled)
    assert e2.number == 2
    assert e2.next_report is None  # the one after would fall after the pilot's end
    assert s.state.deadline(DeadlineKind.REPORT) is None
    s.refuse(FileReport(actor=SECRETARIAT, report=PilotReport(summary="x")), ErrorCode.NOT_ALLOWED)


def test_the_end_of_the_pilot_opens_the_evaluation() -> None:
    s = story_at(Stage.PILOT)
    assert s.state.pilot is not None
    end = s.state.pilot.ends_at
    events = s.tick(end)
    ended = events[-1]
    assert isinstance(ended, PilotEnded)
    assert ended.evaluation == Deadline(kind=DeadlineKind.EVALUATION, due_at=day(end, 30),
                                        remind_at=day(end, 23), expire_at=day(end, 60))
    assert s.state.stage is Stage.EVALUATING
    assert s.state.deadlines == (ended.evaluation,)
    s.refuse(report(), ErrorCode.WRONG_STAGE)


def test_evaluation_success() -> None:
    s = story_at(Stage.EVALUATING)
    [e] = s.do(evaluation(PilotOutcome.SUCCESS))
    assert isinstance(e, PilotEvaluated)
    assert (e.end, e.next_report) == (None, None)
    assert s.state.stage is Stage.EVALUATED
    assert s.state.deadlines == ()


def test_evaluation_stop() -> None:
    s = story_at(Stage.EVALUATING)
    s.do(evaluation(PilotOutcome.STOP))
    assert (s.state.stage, s.state.deadlines, s.state.closed_reason) == (
        Stage.STOPPED, (), "pilot stopped")


def test_evaluation_extends_the_pilot() -> None:
    s = story_at(Stage.EVALUATING)
    assert s.state.pilot is not None
    new_end = s.state.pilot.end_date + timedelta(days=60)
    [e] = s.do(evaluation(PilotOutcome.EXTEND, new_end))
    assert isinstance(e, PilotEvaluated)
    assert s.state.pilot.end_date == new_end
    assert e.end == Deadline(kind=DeadlineKind.PILOT_END, due_at=s.state.pilot.ends_at)
    assert e.next_report is not None
    assert e.next_report.due_at == day(s.now, 30)
    assert (s.state.stage, s.state.extensions) == (Stage.PILOT, 1)
    assert {d.kind for d in s.state.deadlines} == {DeadlineKind.PILOT_END, DeadlineKind.REPORT}
    assert isinstance(s.tick(s.state.pilot.ends_at)[-1], PilotEnded)
    assert s.state.stage is Stage.EVALUATING


@pytest.mark.parametrize("days_from_today", [0, -1, -30])
def test_an_extended_pilot_must_end_later(days_from_today: int) -> None:
    s = story_at(Stage.EVALUATING)
    assert s.state.pilot is not None
    new_end = today_jst(s.now) + timedelta(days=days_from_today)
    err = s.refuse(evaluation(PilotOutcome.EXTEND, new_end), ErrorCode.INVALID)
    assert str(err) == "an extended pilot must end after today"


def test_the_old_end_date_is_not_a_new_end() -> None:
    s = story_at(Stage.EVALUATING)
    assert s.state.pilot is not None
    s.refuse(evaluation(PilotOutcome.EXTEND, s.state.pilot.end_date), ErrorCode.INVALID)


def test_only_the_secretariat_evaluates_and_only_after_the_end() -> None:
    s = story_at(Stage.EVALUATING)
    s.refuse(EvaluatePilot(actor=PROPOSER, evaluation=PilotEvaluation(
        outcome=PilotOutcome.SUCCESS, comment="We liked it.")), ErrorCode.NOT_ALLOWED)
    s = story_at(Stage.PILOT)
    s.refuse(evaluation(PilotOutcome.SUCCESS), ErrorCode.WRONG_STAGE)


# -- rollout --------------------------------------------------------------------------------------

def test_a_rollout_offered_to_nobody_completes_at_once() -> None:
    s = story_at(Stage.EVALUATED)
    offered, completed = s.offer()
    assert isinstance(offered, RolloutOffered)
    assert offered.members == ()
    assert isinstance(completed, ProposalCompleted)
    assert completed.summary == RolloutSummary()
    assert s.state.stage is Stage.COMPLETED


def test_a_rollout_waits_for_its_members_then_completes() -> None:
    s = story_at(Stage.EVALUATED)
    [offered] = s.offer("011002", "132012")
    assert isinstance(offered, RolloutOffered)
    assert offered.window_due_at == day(s.now, 60)
    assert (s.state.stage, s.state.rollout_members, s.state.deadlines) == (Stage.ROLLOUT, 2, ())
    summary = RolloutSummary(offered=2, joined=1, declined=1, deployed=1)
    [done] = s.do(CompleteRollout(actor=SYSTEM, summary=summary))
    assert isinstance(done, ProposalCompleted)
    assert (s.state.stage, s.state.rollout_summary) == (Stage.COMPLETED, summary)


def test_rollout_steps_need_their_stage() -> None:
    s = story_at(Stage.EVALUATED)
    s.refuse(CompleteRollout(actor=SYSTEM, summary=RolloutSummary()), ErrorCode.WRONG_STAGE)
    s = story_at(Stage.ROLLOUT)
    s.refuse(OfferRollout(actor=SYSTEM, members=()), ErrorCode.WRONG_STAGE)


# -- roles ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("stage", "command"),
    [
        (Stage.SUBMITTED, CompleteIntake(actor=PROPOSER, open_towns=frozenset(Town))),
        (Stage.AWAITING_ASSIGNMENT, Assign(actor=PROPOSER, town=Town.YOKOZE)),
        (Stage.AWAITING_ASSIGNMENT, Assign(actor=SYSTEM, town=Town.YOKOZE)),
        (Stage.IN_REVIEW, CastVote(actor=PROPOSER, decision=A, comment="I approve myself")),
        (Stage.IN_REVIEW, Tick(actor=PROPOSER)),
        (Stage.IN_REVIEW, Tick(actor=SECRETARIAT)),
        (Stage.IN_REVIEW, Withdraw(actor=SYSTEM, reason="No.")),
        (Stage.CHANGES_REQUESTED, Revise(actor=REVIEWER, revision=ProposalRevision(
            title="Another title", note="Mine."))),
        (Stage.ADOPTED, PlanPilot(actor=REVIEWER, plan=pilot_plan(date(2026, 6, 1)))),
        (Stage.PILOT, FileReport(actor=REVIEWER, report=PilotReport(summary="x"))),
        (Stage.EVALUATING, EvaluatePilot(actor=REVIEWER, evaluation=PilotEvaluation(
            outcome=PilotOutcome.STOP, comment="Stop."))),
        (Stage.EVALUATED, OfferRollout(actor=SECRETARIAT, members=())),
        (Stage.ROLLOUT, CompleteRollout(actor=PROPOSER, summary=RolloutSummary())),
    ],
    ids=lambda v: v.value if isinstance(v, Stage) else f"{v.kind}-by-{v.actor.role.value}",
)
def test_role_checks(stage: Stage, command: ProposalCommand) -> None:
    s = story_at(stage)
    err = s.refuse(command, ErrorCode.NOT_ALLOWED)
    assert str(err).startswith("only the ")
    assert f"(you are acting as {command.actor.role.value})" in str(err)
