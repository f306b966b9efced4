"""A member municipality's part in a wide-area rollout (広域実装): its own small decider.

Each member offered a proven pilot has a stream of its own: it joins or declines within the
window, and each that joins is tracked until it reports the deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

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
from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy, Moment, next_wakeup
from domain.errors import DomainError, ErrorCode
from domain.events import (
    DeadlineExtended,
    Escalated,
    Event,
    MemberDeclined,
    MemberDeployed,
    MemberDeploymentExpired,
    MemberJoined,
    MemberLapsed,
    MemberOffered,
    MemberOfferWithdrawn,
    ReminderSent,
)
from domain.kit import Emitter, due_moments, extend, require_role
from domain.network import Municipality
from domain.proposal import Model
from domain.stages import MemberStatus
from domain.state import with_deadline
from domain.values import Instant, Role, Town


class MembershipState(Model):
    proposal_id: str | None = None
    lgcode: str | None = None
    version: int = 0
    status: MemberStatus | None = None
    municipality: Municipality | None = None
    host_town: Town | None = None
    title: str | None = None
    deployment_policy: DeadlinePolicy | None = None
    deadlines: tuple[Deadline, ...] = ()
    updated_at: Instant | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not None and not self.status.is_terminal

    def next_wakeup(self) -> datetime | None:
        return next_wakeup(self.deadlines)


def evolve_member(state: MembershipState, event: Event) -> MembershipState:
    if event.member is None:
        raise ValueError(f"{event.type} belongs to a proposal's stream, not a member's")
    if event.sequence != state.version + 1:
        raise ValueError(f"member event {event.sequence} does not follow {state.version}")
    common: dict[str, object] = {"version": event.sequence, "updated_at": event.occurred_at}
    dl = state.deadlines
    match event:
        case MemberOffered():
            change: dict[str, object] = {
                "proposal_id": event.proposal_id, "lgcode": event.member,
                "status": MemberStatus.OFFERED, "municipality": event.municipality,
                "host_town": event.host_town, "title": event.title,
                "deployment_policy": event.deployment_policy, "deadlines": (event.window,),
            }
        case MemberJoined():
            change = {"status": MemberStatus.JOINED, "deadlines": (event.deployment,)}
        case MemberDeclined():
            change = {"status": MemberStatus.DECLINED, "deadlines": ()}
        case MemberDeployed():
            change = {"status": MemberStatus.DEPLOYED, "deadlines": ()}
        case MemberLapsed():
            change = {"status": MemberStatus.LAPSED, "deadlines": ()}
        case MemberDeploymentExpired():
            change = {"status": MemberStatus.DEPLOYMENT_EXPIRED, "deadlines": ()}
        case MemberOfferWithdrawn():
            change = {"status": MemberStatus.WITHDRAWN, "deadlines": ()}
        case ReminderSent():
            change = {"deadlines": tuple(
                d.model_copy(update={"reminded": True}) if d.kind is event.kind else d for d in dl)}
        case Escalated():
            change = {"deadlines": tuple(
                d.model_copy(update={"reminded": True, "escalated": True})
                if d.kind is event.kind else d for d in dl)}
        case DeadlineExtended():
            change = {"deadlines": with_deadline(dl, event.deadline)}
        case _:
            raise ValueError(f"{event.type} does not apply to a member's stream")
    return state.model_copy(update={**common, **change})


Step = Emitter[MembershipState]


def decide_member(state: MembershipState, command: MemberCommand, ctx: Context) -> list[Event]:
    if isinstance(command, OfferMembership):
        require_role(command, Role.SYSTEM, Role.SECRETARIAT)
        if state.status is not None:
            raise DomainError(ErrorCode.ALREADY_SUBMITTED, "this member was already offered it")
        step: Step = Emitter(state, evolve_member, ctx, command, command.proposal_id,
                             command.municipality.lgcode)
        step.emit(
            MemberOffered, municipality=command.municipality, host_town=command.host_town,
            title=command.title, deployment_policy=command.deployment,
            window=command.window.open(DeadlineKind.ROLLOUT_WINDOW, ctx.at),
        )
        return step.events
    if state.status is None or state.proposal_id is None:
        raise DomainError(ErrorCode.NOT_SUBMITTED, "no rollout offer was made to this member")
    if state.status.is_terminal:
        if isinstance(command, Tick):
            return []
        raise DomainError(
            ErrorCode.WRONG_STAGE,
            f"{state.lgcode}'s part in the rollout of {state.proposal_id} is already "
            f"{state.status.value}",
        )
    step = Emitter(state, evolve_member, ctx, command, state.proposal_id, state.lgcode)
    handler: Callable[[Step, Any, Context], None] = _HANDLERS[type(command)]
    handler(step, command, ctx)
    return step.events


def _as_this_member(step: Step, command: MemberCommand) -> None:
    require_role(command, Role.MEMBER)
    if command.actor.id != step.state.lgcode:
        raise DomainError(
            ErrorCode.NOT_ALLOWED,
            f"only municipality {step.state.lgcode} may answer its own rollout offer",
        )


def _expect_status(step: Step, status: MemberStatus, doing: str) -> None:
    if step.state.status is not status:
        raise DomainError(
            ErrorCode.WRONG_STAGE,
            f"{doing} needs the member to be {status.value}; {step.state.lgcode} is "
            f"{step.state.status.value if step.state.status else 'not offered'}",
        )


def _join(step: Step, c: JoinRollout, ctx: Context) -> None:
    _as_this_member(step, c)
    _expect_status(step, MemberStatus.OFFERED, "joining")
    assert step.state.deployment_policy is not None
    step.emit(MemberJoined,
              deployment=step.state.deployment_policy.open(DeadlineKind.DEPLOYMENT, ctx.at))


def _decline(step: Step, c: DeclineRollout, ctx: Context) -> None:
    _as_this_member(step, c)
    _expect_status(step, MemberStatus.OFFERED, "declining")
    step.emit(MemberDeclined, reason=c.reason)


def _deployed(step: Step, c: ReportDeployed, ctx: Context) -> None:
    _as_this_member(step, c)
    _expect_status(step, MemberStatus.JOINED, "reporting a deployment")
    step.emit(MemberDeployed, note=c.note)


def _withdraw_offer(step: Step, c: WithdrawOffer, ctx: Context) -> None:
    require_role(c, Role.SYSTEM, Role.SECRETARIAT)
    step.emit(MemberOfferWithdrawn, reason=c.reason)


def _extend(step: Step, c: ExtendDeadline, ctx: Context) -> None:
    extend(step, c, ctx.at)


def _tick(step: Step, c: Tick, ctx: Context) -> None:
    require_role(c, Role.SYSTEM)
    for deadline, moment in due_moments(lambda: step.state, ctx.at, lambda: step.state.is_open):
        if moment is Moment.REMIND:
            step.emit(ReminderSent, kind=deadline.kind, due_at=deadline.due_at)
        elif deadline.kind is DeadlineKind.ROLLOUT_WINDOW:
            step.emit(MemberLapsed)
        elif moment is Moment.DUE and deadline.expire_at is not None:
            step.emit(Escalated, kind=deadline.kind,
                      reason=f"{step.state.lgcode} has not reported its deployment")
        else:
            step.emit(MemberDeploymentExpired)


_HANDLERS: dict[type, Callable[[Step, Any, Context], None]] = {
    JoinRollout: _join,
    DeclineRollout: _decline,
    ReportDeployed: _deployed,
    WithdrawOffer: _withdraw_offer,
    ExtendDeadline: _extend,
    Tick: _tick,
}
