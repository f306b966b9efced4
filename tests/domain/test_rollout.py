"""The member decider: one municipality's answer to a rollout offer, and its deployment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest

from domain.commands import (
    Context,
    DeclineRollout,
    ExtendDeadline,
    JoinRollout,
    MemberCommand,
    OfferMembership,
    ReportDeployed,
    Tick,
    WithdrawOffer,
)
from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy
from domain.errors import ErrorCode
from domain.events import (
    DeadlineExtended,
    Escalated,
    Event,
    MemberDeclined,
    MemberDeployed,
    MemberJoined,
    MemberOffered,
    MemberOfferWithdrawn,
    stream_id,
)
from domain.people import Actor
from domain.rollout import MembershipState, decide_member
from domain.stages import MemberStatus
from domain.values import Role, Town
from tests.factories import (
    PROPOSER,
    SAPPORO,
    SECRETARIAT,
    SYSTEM,
    T0,
    MemberStory,
    actor,
    day,
    refuse,
)

SECOND = timedelta(seconds=1)


def what(events: list[Event]) -> list[str]:
    return [f"{e.type}:{getattr(e, 'kind', '')}".rstrip(":") for e in events]


def status(m: MemberStory) -> MemberStatus | None:
    return m.state.status


def offered() -> MemberStory:
    m = MemberStory()
    m.offer()
    return m


def joined() -> MemberStory:
    m = offered()
    m.join()
    return m


def window(m: MemberStory) -> Deadline:
    [d] = m.state.deadlines
    return d


def test_offer_opens_the_window_on_the_member_stream() -> None:
    m = MemberStory()
    [e] = m.offer()
    assert isinstance(e, MemberOffered)
    assert (e.member, e.sequence, e.municipality) == ("011002", 1, SAPPORO)
    assert e.stream_id == stream_id(m.proposal_id, "011002") == f"{m.proposal_id}/member/011002"
    assert e.window == Deadline(kind=DeadlineKind.ROLLOUT_WINDOW, due_at=day(m.now, 60),
                                remind_at=day(m.now, 46))
    assert status(m) is MemberStatus.OFFERED
    assert (m.state.lgcode, m.state.proposal_id) == ("011002", m.proposal_id)
    assert m.state.deadlines == (e.window,)


@pytest.mark.parametrize("who", [actor(Role.MEMBER, "011002"), PROPOSER],
                         ids=lambda a: a.role.value)
def test_only_the_system_or_secretariat_makes_an_offer(who: Actor) -> None:
    m = MemberStory()
    command = OfferMembership(
        actor=who, proposal_id=m.proposal_id, municipality=SAPPORO, host_town=Town.YOKOZE,
        title="On-demand bus trial", window=DeadlinePolicy(days=60),
        deployment=DeadlinePolicy(days=180))
    err = m.refuse(command, ErrorCode.NOT_ALLOWED)
    assert str(err) == f"only the system or secretariat may do this (you are acting as {who.role})"
    assert m.do(command.model_copy(update={"actor": SECRETARIAT}))


def test_an_offer_is_made_once() -> None:
    m = offered()
    err = refuse(m.offer, ErrorCode.ALREADY_SUBMITTED)
    assert str(err) == "this member was already offered it"


@pytest.mark.parametrize(
    "command",
    [JoinRollout(actor=actor(Role.MEMBER, "011002")), Tick(actor=SYSTEM),
     WithdrawOffer(actor=SYSTEM, reason="Stopped.")],
    ids=lambda c: c.kind,
)
def test_nothing_before_the_offer(command: MemberCommand) -> None:
    ctx = Context(command_id=uuid4(), at=T0)
    err = refuse(lambda: decide_member(MembershipState(), command, ctx), ErrorCode.NOT_SUBMITTED)
    assert str(err) == "no rollout offer was made to this member"


def test_join_opens_the_deployment_wait() -> None:
    m = offered()
    [e] = m.join()
    assert isinstance(e, MemberJoined)
    assert e.deployment == Deadline(kind=DeadlineKind.DEPLOYMENT, due_at=day(m.now, 180),
                                    remind_at=day(m.now, 150), expire_at=day(m.now, 240))
    assert status(m) is MemberStatus.JOINED
    assert m.state.deadlines == (e.deployment,)


def test_decline() -> None:
    m = offered()
    [e] = m.do(DeclineRollout(actor=m.me, reason="No budget this year."))
    assert isinstance(e, MemberDeclined)
    assert e.reason == "No budget this year."
    assert (status(m), m.state.deadlines) == (MemberStatus.DECLINED, ())


def test_deployed() -> None:
    m = joined()
    [e] = m.do(ReportDeployed(actor=m.me, note="Running since May."))
    assert isinstance(e, MemberDeployed)
    assert (status(m), m.state.deadlines) == (MemberStatus.DEPLOYED, ())


def test_deployment_is_reported_only_after_joining() -> None:
    m = offered()
    err = m.refuse(ReportDeployed(actor=m.me, note="Done."), ErrorCode.WRONG_STAGE)
    assert str(err) == "reporting a deployment needs the member to be joined; 011002 is offered"
    m = joined()
    m.refuse(JoinRollout(actor=m.me), ErrorCode.WRONG_STAGE)
    m.refuse(DeclineRollout(actor=m.me, reason="Changed our minds."), ErrorCode.WRONG_STAGE)


@pytest.mark.parametrize(
    "who",
    [actor(Role.MEMBER, "113611"), actor(Role.MEMBER, "074071")],
    ids=lambda a: a.id,
)
def test_only_that_municipality_answers(who: Actor) -> None:
    m = offered()
    for command in (JoinRollout(actor=who), DeclineRollout(actor=who, reason="Not us.")):
        err = m.refuse(command, ErrorCode.NOT_ALLOWED)
        assert str(err) == "only municipality 011002 may answer its own rollout offer"
    m.join()
    m.refuse(ReportDeployed(actor=who, note="Done."), ErrorCode.NOT_ALLOWED)


@pytest.mark.parametrize("who", [SECRETARIAT, PROPOSER, SYSTEM], ids=lambda a: a.role.value)
def test_only_a_member_answers(who: Actor) -> None:
    m = offered()
    command = JoinRollout(actor=who)
    err = m.refuse(command, ErrorCode.NOT_ALLOWED)
    assert str(err).startswith("only the member may do this")


def test_window_reminds_then_lapses() -> None:
    m = offered()
    d = window(m)
    assert d.remind_at is not None
    assert m.tick(d.remind_at - SECOND) == []
    assert what(m.tick(d.remind_at)) == ["reminder_sent:rollout_window"]
    assert m.tick(d.remind_at) == []
    assert m.tick(d.due_at - SECOND) == []
    assert what(m.tick(d.due_at)) == ["member_lapsed"]
    assert (status(m), m.state.deadlines) == (MemberStatus.LAPSED, ())
    assert m.tick(d.due_at) == []


def test_deployment_reminds_escalates_and_expires() -> None:
    m = joined()
    d = window(m)
    assert d.remind_at is not None
    assert d.expire_at is not None
    assert m.tick(d.remind_at - SECOND) == []
    assert what(m.tick(d.remind_at)) == ["reminder_sent:deployment"]
    assert m.tick(d.due_at - SECOND) == []
    [escalated] = m.tick(d.due_at)
    assert isinstance(escalated, Escalated)
    assert (escalated.kind, escalated.at_deadline) == (DeadlineKind.DEPLOYMENT, True)
    assert escalated.reason == "011002 has not reported its deployment"
    assert m.tick(d.due_at) == []
    assert status(m) is MemberStatus.JOINED
    assert m.tick(d.expire_at - SECOND) == []
    assert what(m.tick(d.expire_at)) == ["member_deployment_expired"]
    assert (status(m), m.state.deadlines) == (MemberStatus.DEPLOYMENT_EXPIRED, ())


def test_one_late_tick_runs_the_deployment_wait_to_its_end() -> None:
    m = joined()
    assert what(m.tick(day(m.now, 1000))) == [
        "reminder_sent:deployment", "escalated:deployment", "member_deployment_expired"]
    assert m.tick(day(m.now, 2000)) == []


def test_a_deployment_reported_late_but_before_expiry_counts() -> None:
    m = joined()
    m.tick(day(m.now, 200))  # reminded and escalated
    assert status(m) is MemberStatus.JOINED
    assert what(m.do(ReportDeployed(actor=m.me, note="Finally live."))) == ["member_deployed"]


def test_the_secretariat_extends_the_window() -> None:
    m = offered()
    d = window(m)
    [e] = m.do(ExtendDeadline(actor=SECRETARIAT, deadline=DeadlineKind.ROLLOUT_WINDOW,
                              due_at=day(d.due_at, 30)))
    assert isinstance(e, DeadlineExtended)
    assert window(m).due_at == day(d.due_at, 30)
    assert m.tick(d.due_at) == []
    assert status(m) is MemberStatus.OFFERED
    m.refuse(ExtendDeadline(actor=m.me, deadline=DeadlineKind.ROLLOUT_WINDOW,
                            due_at=day(d.due_at, 60)), ErrorCode.NOT_ALLOWED)


@pytest.mark.parametrize("make", [offered, joined], ids=["offered", "joined"])
def test_the_offer_is_withdrawn_by_the_system_or_secretariat(
    make: Callable[[], MemberStory],
) -> None:
    m = make()
    m.refuse(WithdrawOffer(actor=m.me, reason="No."), ErrorCode.NOT_ALLOWED)
    [e] = m.do(WithdrawOffer(actor=SYSTEM, reason="The proposal was withdrawn."))
    assert isinstance(e, MemberOfferWithdrawn)
    assert (status(m), m.state.deadlines) == (MemberStatus.WITHDRAWN, ())


@pytest.mark.parametrize(
    "finish",
    ["declined", "deployed", "lapsed", "expired", "withdrawn"],
)
def test_nothing_after_a_terminal_status(finish: str) -> None:
    m = offered()
    if finish == "declined":
        m.do(DeclineRollout(actor=m.me, reason="No."))
    elif finish == "lapsed":
        m.tick(day(m.now, 100))
    elif finish == "withdrawn":
        m.do(WithdrawOffer(actor=SECRETARIAT, reason="Stopped."))
    else:
        m.join()
        if finish == "deployed":
            m.do(ReportDeployed(actor=m.me, note="Live."))
        else:
            m.tick(day(m.now, 1000))
    final = status(m)
    assert final is not None
    assert final.is_terminal
    assert final.value == {"expired": "deployment_expired"}.get(finish, finish)
    err = m.refuse(JoinRollout(actor=m.me), ErrorCode.WRONG_STAGE)
    assert str(err) == f"011002's part in the rollout of {m.proposal_id} is already {final.value}"
    m.refuse(WithdrawOffer(actor=SYSTEM, reason="Again."), ErrorCode.WRONG_STAGE)
    m.refuse(ReportDeployed(actor=m.me, note="Live."), ErrorCode.WRONG_STAGE)
    assert m.tick(day(m.now, 5000)) == []
