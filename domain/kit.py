"""What both deciders share: stamping events, walking due deadlines, extending a wait."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import uuid5

from domain.commands import CommandBase, Context, ExtendDeadline
from domain.deadlines import Deadline, Moment
from domain.errors import DomainError, ErrorCode
from domain.events import DeadlineExtended, Event, EventBase
from domain.values import Role

MAX_EXTENSION_DAYS = 366


class Versioned(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def deadlines(self) -> tuple[Deadline, ...]: ...


S = TypeVar("S", bound=Versioned)


class Emitter(Generic[S]):
    """Builds a decision's events one by one, folding each so later rules see its effect."""

    def __init__(
        self,
        state: S,
        evolve: Callable[[S, Event], S],
        ctx: Context,
        command: CommandBase,
        proposal_id: str,
        member: str | None = None,
    ) -> None:
        self.state = state
        self.events: list[Event] = []
        self._evolve = evolve
        self._ctx = ctx
        self._actor = command.actor
        self._proposal_id = proposal_id
        self._member = member

    def emit(self, event_type: type[EventBase], **payload: Any) -> None:
        event = event_type(
            event_id=uuid5(self._ctx.command_id, str(len(self.events))),
            proposal_id=self._proposal_id,
            member=self._member,
            sequence=self.state.version + 1,
            occurred_at=self._ctx.at,
            actor=self._actor,
            **payload,
        )
        self.events.append(event)  # type: ignore[arg-type]
        self.state = self._evolve(self.state, event)  # type: ignore[arg-type]


def due_moments(
    state_of: Callable[[], Versioned], now: datetime, is_open: Callable[[], bool]
) -> Iterator[tuple[Deadline, Moment]]:
    """Yield, earliest first, each deadline moment at or before `now`.

    The caller handles each before asking for the next, so a moment that a handled one
    removes (an expiry after a stage change) is never yielded.
    """
    for _ in range(1000):  # a bound, not a limit anyone reaches: each step consumes a moment
        if not is_open():
            return
        pending = [
            (m[0], d, m[1])
            for d in state_of().deadlines
            if (m := d.next_moment()) is not None and m[0] <= now
        ]
        if not pending:
            return
        _, deadline, moment = min(pending, key=lambda p: (p[0], p[1].kind.value))
        yield deadline, moment
    raise RuntimeError("deadline handling did not converge")


def require_role(command: CommandBase, *roles: Role) -> None:
    if command.actor.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise DomainError(
            ErrorCode.NOT_ALLOWED,
            f"only the {allowed} may do this (you are acting as {command.actor.role.value})",
        )


def extend(emitter: Emitter[Any], command: ExtendDeadline, now: datetime) -> None:
    require_role(command, Role.SECRETARIAT)
    current = next((d for d in emitter.state.deadlines if d.kind is command.deadline), None)
    if current is None or not command.deadline.waits_for_a_person:
        open_waits = [d.kind.value for d in emitter.state.deadlines if d.kind.waits_for_a_person]
        raise DomainError(
            ErrorCode.BAD_DEADLINE,
            f"there is no open {command.deadline.value} deadline to extend"
            + (f" (open: {', '.join(open_waits)})" if open_waits else ""),
        )
    if command.due_at <= current.due_at or command.due_at <= now:
        raise DomainError(
            ErrorCode.BAD_DEADLINE,
            f"the new {command.deadline.value} deadline must be later than the current one "
            f"({current.due_at.isoformat()}) and in the future",
        )
    if (command.due_at - now).days > MAX_EXTENSION_DAYS:
        raise DomainError(
            ErrorCode.BAD_DEADLINE, f"a deadline may be set at most {MAX_EXTENSION_DAYS} days ahead"
        )
    emitter.emit(
        DeadlineExtended,
        kind=command.deadline,
        deadline=current.moved_to(command.due_at),
        previous_due_at=current.due_at,
    )
