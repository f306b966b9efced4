"""Property tests: random command sequences never break the invariants of a proposal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.commands import (
    Assign,
    CastVote,
    CompleteIntake,
    CompleteRollout,
    Context,
    DeclineRollout,
    EvaluatePilot,
    ExtendDeadline,
    FileReport,
    JoinRollout,
    MemberCommand,
    OfferMembership,
    OfferRollout,
    PlanPilot,
    ProposalCommand,
    Refer,
    ReportDeployed,
    Revise,
    Submit,
    Tick,
    Withdraw,
    WithdrawOffer,
)
from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy
from domain.decider import decide
from domain.errors import DomainError
from domain.events import (
    Event,
    ProposalAdopted,
    RolloutSummary,
    VoteCast,
    VoteDecision,
)
from domain.people import Actor
from domain.pilot import PilotEvaluation, PilotOutcome, PilotReport
from domain.policy import DecisionRule, ProgrammePolicies, TownPolicy
from domain.proposal import ProposalRevision, Theme
from domain.rollout import MembershipState, decide_member, evolve_member
from domain.stages import MemberStatus, Stage
from domain.state import ProposalState, evolve, fold
from domain.values import PreferredTown, Role, Town, today_jst
from tests.factories import (
    OTHER_MEMBERS,
    PROPOSER,
    SAPPORO,
    SECRETARIAT,
    SYSTEM,
    T0,
    new_proposal_id,
    pilot_plan,
    proposal,
    reviewer,
)

Action = tuple[Any, ...]

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])

REVIEWERS = [f"{t.value}-r{i}" for t in Town for i in range(1, 5)] + ["stranger"]
# None stands for the actor who would normally give the command; a role for someone else.
ROLES = st.sampled_from([None, None, None, None, None, *Role])


# -- strategies -----------------------------------------------------------------------------------

@st.composite
def deadline_policies(draw: st.DrawFn) -> DeadlinePolicy:
    days = draw(st.integers(1, 45))
    return DeadlinePolicy(days=days, remind_days_before=draw(st.integers(0, days - 1)),
                          grace_days=draw(st.sampled_from([0, 0, 3, 14, 30])))


@st.composite
def town_policies(draw: st.DrawFn, town: Town) -> TownPolicy:
    members = draw(st.integers(1, 4))
    conflicted = draw(st.sets(st.integers(1, members), max_size=2))
    committee = tuple(
        reviewer(town, i, affiliations=("株式会社Foo",) if i in conflicted else (), chair=i == 1)
        for i in range(1, members + 1)
    )
    waits = {
        name: draw(deadline_policies())
        for name in ("assignment", "review", "revision", "pilot_plan", "report", "evaluation")
        if draw(st.booleans())
    }
    return TownPolicy(
        town=town, programme=f"{town.value} programme",
        secretariat_email=f"office@{town.value}.example.jp", committee=committee,
        quorum=draw(st.integers(1, members)), rule=draw(st.sampled_from(DecisionRule)), **waits,
    )


@st.composite
def programme_policies(draw: st.DrawFn) -> ProgrammePolicies:
    return ProgrammePolicies(yokoze=draw(town_policies(Town.YOKOZE)),
                             bandai=draw(town_policies(Town.BANDAI)))


_PARAMS: dict[str, st.SearchStrategy[Action]] = {
    "submit": st.tuples(st.just("submit"), ROLES),
    "intake": st.tuples(st.just("intake"), ROLES, st.sampled_from(
        [frozenset(Town)] * 5 + [frozenset({Town.YOKOZE}), frozenset({Town.BANDAI}), frozenset()]),
        st.sampled_from([False] * 9 + [True])),
    "assign": st.tuples(st.just("assign"), ROLES, st.sampled_from(Town)),
    "vote": st.tuples(st.just("vote"), ROLES, st.sampled_from(REVIEWERS),
                      st.sampled_from(VoteDecision)),
    "revise": st.tuples(st.just("revise"), ROLES),
    "refer": st.tuples(st.just("refer"), ROLES, st.sampled_from([None, *REVIEWERS]),
                       st.sampled_from(Town)),
    "extend": st.tuples(st.just("extend"), ROLES, st.sampled_from(DeadlineKind),
                        st.integers(-3, 400)),
    "withdraw": st.tuples(st.just("withdraw"), ROLES),
    "plan": st.tuples(st.just("plan"), ROLES, st.integers(-2, 40), st.integers(1, 200)),
    "report": st.tuples(st.just("report"), ROLES),
    "evaluate": st.tuples(st.just("evaluate"), ROLES, st.sampled_from(PilotOutcome),
                          st.integers(-10, 120)),
    "offer": st.tuples(st.just("offer"), ROLES, st.integers(0, 3)),
    "complete": st.tuples(st.just("complete"), ROLES),
    "tick": st.tuples(st.just("tick"), ROLES),
}
# Every command type can be drawn in every stage; the ones that move the proposal on from its
# current stage are drawn more often, so that random runs reach the pilot and the rollout.
_USEFUL: dict[Stage | None, tuple[str, ...]] = {
    None: ("submit",),
    Stage.SUBMITTED: ("intake",),
    Stage.AWAITING_ASSIGNMENT: ("assign", "tick", "extend"),
    Stage.IN_REVIEW: ("vote", "vote", "vote", "vote", "refer"),
    Stage.CHANGES_REQUESTED: ("revise", "revise", "extend"),
    Stage.ADOPTED: ("plan",),
    Stage.PILOT_PLANNED: ("tick",),
    Stage.PILOT: ("report", "tick"),
    Stage.EVALUATING: ("evaluate", "evaluate", "extend"),
    Stage.EVALUATED: ("offer",),
    Stage.ROLLOUT: ("complete",),
}


def kinds_for(stage: Stage | None, focus: int) -> list[str]:
    every = [k for k in _PARAMS for _ in range(1 if k == "withdraw" else 3)]
    return [*(_USEFUL.get(stage, ()) * focus), *every]


advances = st.one_of(
    st.just(timedelta(minutes=1)),
    st.just(timedelta(minutes=1)),
    st.just(timedelta(minutes=1)),
    st.integers(1, 72).map(lambda h: timedelta(hours=h)),
    st.integers(3, 40).map(lambda d: timedelta(days=d)),
    st.integers(60, 500).map(lambda d: timedelta(days=d)),  # long: several deadlines at once
)


def draw_action(data: st.DataObject, s: ProposalState, focus: int) -> Action:
    kind = data.draw(st.sampled_from(kinds_for(s.stage, focus)), label="kind")
    # Half of the votes and extensions are drawn from what the state makes plausible.
    if kind == "vote" and s.eligible and data.draw(st.booleans(), label="eligible voter"):
        return data.draw(st.tuples(st.just("vote"), ROLES, st.sampled_from(s.eligible),
                                   st.sampled_from(VoteDecision)), label="action")
    if kind == "extend" and s.deadlines and data.draw(st.booleans(), label="open wait"):
        return data.draw(st.tuples(st.just("extend"), ROLES,
                                   st.sampled_from([d.kind for d in s.deadlines]),
                                   st.integers(-3, 60)), label="action")
    return data.draw(_PARAMS[kind], label="action")


# -- building a command from an action ------------------------------------------------------------

def _actor(role: Role | None, usual: Actor, ident: str = "someone") -> Actor:
    return usual if role is None else Actor(role=role, id=ident)


def _after(base: datetime, days: int) -> datetime:
    return base + timedelta(days=days)


def build(action: Action, s: ProposalState, submit: Submit, now: datetime) -> ProposalCommand:
    kind, role, *args = action
    today = today_jst(now)
    match kind:
        case "submit":
            return submit.model_copy(update={"actor": _actor(role, PROPOSER)})
        case "intake":
            towns, duplicate = args
            return CompleteIntake(actor=_actor(role, SYSTEM), open_towns=towns,
                                  duplicate_of="P-00000000ZZ" if duplicate else None)
        case "assign":
            return Assign(actor=_actor(role, SECRETARIAT), town=args[0])
        case "vote":
            rid, decision = args
            who = _actor(role, Actor(role=Role.REVIEWER, id=rid), rid)
            return CastVote(actor=who, decision=decision, comment="A comment.")
        case "revise":
            return Revise(actor=_actor(role, PROPOSER), revision=ProposalRevision(
                summary=f"A revised summary, version {s.revisions + 1}.", note="Revised."))
        case "refer":
            rid, town = args
            usual = SECRETARIAT if rid is None else Actor(role=Role.REVIEWER, id=rid)
            return Refer(actor=_actor(role, usual, rid or "someone"), to_town=town,
                         reason="Better placed there.")
        case "extend":
            deadline_kind, days = args
            current = s.deadline(deadline_kind)
            base = current.due_at if current else now
            return ExtendDeadline(actor=_actor(role, SECRETARIAT), deadline=deadline_kind,
                                  due_at=_after(base, days))
        case "withdraw":
            return Withdraw(actor=_actor(role, PROPOSER), reason="Withdrawn.")
        case "plan":
            start_in, length = args
            start = today + timedelta(days=start_in)
            return PlanPilot(actor=_actor(role, SECRETARIAT), plan=pilot_plan(start, length))
        case "report":
            return FileReport(actor=_actor(role, PROPOSER), report=PilotReport(summary="Going."))
        case "evaluate":
            outcome, days = args
            end = s.pilot.end_date if s.pilot else today
            ev = PilotEvaluation(
                outcome=outcome, comment="Evaluated.",
                new_end_date=end + timedelta(days=days) if outcome is PilotOutcome.EXTEND
                else None)
            return EvaluatePilot(actor=_actor(role, SECRETARIAT), evaluation=ev)
        case "offer":
            return OfferRollout(actor=_actor(role, SYSTEM), members=OTHER_MEMBERS[: args[0]])
        case "complete":
            return CompleteRollout(actor=_actor(role, SYSTEM), summary=RolloutSummary())
        case _:
            return Tick(actor=_actor(role, SYSTEM))


@st.composite
def submissions(draw: st.DrawFn) -> Submit:
    """A proposal (its proposer sometimes tied to the reviewers' "Foo") and both policies."""
    prop = proposal(
        organisation=draw(st.sampled_from(["Foo", "Foo K.K.", "Bar Ltd."])),
        related_parties=draw(st.sampled_from([(), ("Foo",)])),
        preferred_town=draw(st.sampled_from(PreferredTown)),
        theme=draw(st.sampled_from([Theme.DX, Theme.MOBILITY])),
    )
    return Submit(actor=PROPOSER, proposal_id=new_proposal_id(), proposal=prop,
                  policies=draw(programme_policies()))


# -- invariants -----------------------------------------------------------------------------------

def check_deadline(d: Deadline) -> None:
    assert d.remind_at is None or d.remind_at <= d.due_at
    assert d.expire_at is None or d.due_at <= d.expire_at


def check_state(s: ProposalState, version: int) -> None:
    assert s.version == version
    assert isinstance(s.stage, Stage)
    if s.stage.is_terminal:
        assert s.deadlines == ()
    kinds = [d.kind for d in s.deadlines]
    assert len(kinds) == len(set(kinds)), kinds
    for d in s.deadlines:
        check_deadline(d)
    voters = [v.reviewer_id for v in s.votes]
    assert len(voters) == len(set(voters))
    assert set(voters) <= set(s.eligible)


def check_events(before: ProposalState, events: list[Event], after: ProposalState,
                 ctx: Context) -> None:
    """Replay the decision's events one by one and check each against the state it meets."""
    assert [e.sequence for e in events] == list(range(before.version + 1, after.version + 1))
    s = before
    for e in events:
        assert (e.occurred_at, e.member) == (ctx.at, None)
        if isinstance(e, VoteCast):
            assert s.stage is Stage.IN_REVIEW
            assert s.policies is not None
            assert s.proposal is not None
            assert e.round == s.round
            assert e.reviewer_id in s.eligible
            r = s.policies.find_reviewer(e.reviewer_id)
            assert r is not None
            assert r.town is s.town
            assert not r.conflicted_with(s.proposal.parties())
            assert e.reviewer_id not in {v.reviewer_id for v in s.votes}
        if isinstance(e, ProposalAdopted):
            assert s.stage is Stage.IN_REVIEW
            assert len(s.votes) >= s.town_policy().quorum
            assert e.tally.approve * 2 > len(s.votes)
            assert e.town is s.town
        s = evolve(s, e)
    assert s == after


# -- the properties -------------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(submit=submissions(), data=st.data())
def test_random_commands_keep_every_invariant(submit: Submit, data: st.DataObject) -> None:
    state = ProposalState()
    now = T0
    produced: list[Event] = []
    visited: set[str] = set()
    # How strongly this run favours the commands that move the proposal on.
    focus = data.draw(st.sampled_from([0, 5, 20, 80]), label="focus")
    for _ in range(data.draw(st.integers(8, 60), label="steps")):
        now += data.draw(advances, label="advance")
        command = build(draw_action(data, state, focus), state, submit, now)
        ctx = Context(command_id=uuid4(), at=now)
        snapshot = state.model_copy(deep=True)
        refused: DomainError | None = None
        try:
            events = decide(state, command, ctx)
        except DomainError as err:
            refused = err
        if refused is not None:
            assert refused.message
            assert state == snapshot
            continue
        assert decide(state, command, ctx) == events  # deterministic
        after = fold(events, state)
        check_events(state, events, after, ctx)
        check_state(after, len(produced) + len(events))
        if isinstance(command, Tick):
            wakeup = after.next_wakeup()
            assert wakeup is None or wakeup > now  # everything due has been handled
            assert decide(after, command, Context(command_id=uuid4(), at=now)) == []
        produced += events
        state = after
        visited |= {type(e).__name__ for e in events}
    for name in sorted(visited):
        event(name)
    assert fold(produced) == state
    assert len({e.event_id for e in produced}) == len(produced)


MEMBER_ACTIONS = st.sampled_from(["tick", "join", "tick", "deployed", "decline", "extend",
                                  "withdraw", "offer"])
SAPPORO_ME = Actor(role=Role.MEMBER, id=SAPPORO.lgcode)


def member_command(kind: str, role: Role | None, lgcode: str, days: int, pid: str,
                   s: MembershipState, now: datetime) -> MemberCommand:
    who = Actor(role=role or Role.MEMBER, id=lgcode)
    current = s.deadlines[0] if s.deadlines else None
    match kind:
        case "offer":
            return OfferMembership(
                actor=_actor(role, SYSTEM), proposal_id=pid, municipality=SAPPORO,
                host_town=Town.YOKOZE, title="Bus trial",
                window=DeadlinePolicy(days=30, remind_days_before=7),
                deployment=DeadlinePolicy(days=90, remind_days_before=14, grace_days=30))
        case "join":
            return JoinRollout(actor=who)
        case "decline":
            return DeclineRollout(actor=who, reason="No.")
        case "deployed":
            return ReportDeployed(actor=who, note="Live.")
        case "withdraw":
            return WithdrawOffer(actor=_actor(role, SYSTEM), reason="Stopped.")
        case "extend":
            return ExtendDeadline(
                actor=_actor(role, SECRETARIAT),
                deadline=current.kind if current else DeadlineKind.DEPLOYMENT,
                due_at=_after(current.due_at if current else now, days))
        case _:
            return Tick(actor=_actor(role, SYSTEM))


@PROPERTY_SETTINGS
@given(plan=st.lists(st.tuples(advances, MEMBER_ACTIONS, ROLES,
                               st.sampled_from([SAPPORO.lgcode, SAPPORO.lgcode, "113611"]),
                               st.integers(-3, 120)), max_size=25))
def test_random_member_commands_keep_every_invariant(
    plan: list[tuple[timedelta, str, Role | None, str, int]]
) -> None:
    pid = new_proposal_id()
    state, now, produced = MembershipState(), T0, []
    first = (timedelta(0), "offer", None, SAPPORO.lgcode, 0)
    for advance, kind, role, lgcode, days in [first, *plan]:
        now += advance
        command = member_command(kind, role, lgcode, days, pid, state, now)
        try:
            events = decide_member(state, command, Context(command_id=uuid4(), at=now))
        except DomainError:
            continue
        if isinstance(command, JoinRollout | DeclineRollout | ReportDeployed):
            assert command.actor == SAPPORO_ME  # only the municipality itself answers
        for e in events:
            assert (e.member, e.proposal_id, e.occurred_at) == (SAPPORO.lgcode, pid, now)
            state = evolve_member(state, e)
        produced += events
        assert state.version == len(produced)
        assert isinstance(state.status, MemberStatus)
        if state.status.is_terminal:
            assert state.deadlines == ()
        for d in state.deadlines:
            check_deadline(d)
        if isinstance(command, Tick):
            wakeup = min((m[0] for d in state.deadlines if (m := d.next_moment())), default=None)
            assert wakeup is None or wakeup > now  # everything due has been handled
    replayed = MembershipState()
    for e in produced:
        replayed = evolve_member(replayed, e)
    assert replayed == state
