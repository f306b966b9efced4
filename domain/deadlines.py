"""Deadlines: every wait for a person has a reminder before it and an escalation or expiry at it.

A deadline is data in the proposal's state, set by the event that opens the wait, so that the
decider alone says what happens when time passes (the workflow only says what time it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, model_validator

from domain.proposal import Model
from domain.values import Instant


class DeadlineKind(StrEnum):
    ASSIGNMENT = "assignment"  # secretariat routes an "either" proposal to a committee
    REVIEW = "review"  # committee decides
    REVISION = "revision"  # proposer revises after changes were requested
    PILOT_PLAN = "pilot_plan"  # secretariat and proposer agree the pilot plan
    PILOT_START = "pilot_start"  # scheduled: the pilot begins
    REPORT = "report"  # proposer files the next progress report
    PILOT_END = "pilot_end"  # scheduled: the pilot ends
    EVALUATION = "evaluation"  # hosting town evaluates the pilot
    ROLLOUT_WINDOW = "rollout_window"  # a member municipality joins or declines
    DEPLOYMENT = "deployment"  # a joined member deploys

    @property
    def waits_for_a_person(self) -> bool:
        return self not in {DeadlineKind.PILOT_START, DeadlineKind.PILOT_END}

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    DeadlineKind.ASSIGNMENT: "the secretariat to assign a committee",
    DeadlineKind.REVIEW: "the committee's decision",
    DeadlineKind.REVISION: "the proposer's revision",
    DeadlineKind.PILOT_PLAN: "the pilot plan",
    DeadlineKind.PILOT_START: "the pilot to start",
    DeadlineKind.REPORT: "the next pilot report",
    DeadlineKind.PILOT_END: "the pilot to end",
    DeadlineKind.EVALUATION: "the pilot evaluation",
    DeadlineKind.ROLLOUT_WINDOW: "the member's answer to the rollout offer",
    DeadlineKind.DEPLOYMENT: "the member's deployment",
}


_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([dhms])\s*")


def parse_duration(value: object) -> object:
    """A number of days, or a duration like ``30d``, ``12h``, ``45m``, ``30s``.

    Town policies are written in days; the short units serve rehearsals and demos, where a
    month-long wait would stop the show. ISO 8601 (``P30D``) passes through to pydantic.
    """
    if isinstance(value, str):  # first: the stored form ("P30D") of every policy read back
        m = _DURATION.fullmatch(value)
        return timedelta(**{_UNITS[m[2]]: float(m[1])}) if m else value
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of days or like 30d, 12h, 45m, 30s")
    if isinstance(value, int | float):
        return timedelta(days=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
_ZERO = timedelta(0)
_SHORTEST, _LONGEST, _LONGEST_SIDE = timedelta(seconds=1), timedelta(days=730), timedelta(days=365)


class DeadlinePolicy(Model):
    """How long a wait lasts, when to remind, and how long after escalation it expires.

    Values are days (``30``) or durations (``30d``, ``12h``).
    """

    days: Duration
    remind_days_before: Duration = _ZERO
    # Time between escalation at the due date and expiry; 0 means the wait expires at once
    # (or, for waits that cannot expire, only escalates).
    grace_days: Duration = _ZERO

    @model_validator(mode="after")
    def _durations_in_range(self) -> DeadlinePolicy:
        if not _SHORTEST <= self.days <= _LONGEST:
            raise ValueError("days must be between 1 second and 730 days")
        for name, value in (("remind_days_before", self.remind_days_before),
                            ("grace_days", self.grace_days)):
            if not _ZERO <= value <= _LONGEST_SIDE:
                raise ValueError(f"{name} must be between 0 and 365 days")
        if self.remind_days_before >= self.days:
            raise ValueError("the reminder must come after the wait starts (remind_days_before < days)")
        return self

    def open(self, kind: DeadlineKind, start: datetime) -> Deadline:
        due = start + self.days
        return Deadline(
            kind=kind,
            due_at=due,
            remind_at=due - self.remind_days_before if self.remind_days_before else None,
            expire_at=due + self.grace_days if self.grace_days else None,
        )


class Moment(StrEnum):
    REMIND = "remind"
    DUE = "due"
    EXPIRE = "expire"


class Deadline(Model):
    kind: DeadlineKind
    due_at: Instant
    remind_at: Instant | None = None
    expire_at: Instant | None = None
    reminded: bool = False
    escalated: bool = False  # the due moment has been handled

    def next_moment(self) -> tuple[datetime, Moment] | None:
        if self.remind_at is not None and not self.reminded:
            return self.remind_at, Moment.REMIND
        if not self.escalated:
            return self.due_at, Moment.DUE
        if self.expire_at is not None:
            return self.expire_at, Moment.EXPIRE
        return None

    def moved_to(self, due_at: datetime) -> Deadline:
        """The same wait with a later due date: reminder and grace keep their lengths."""
        shift = due_at - self.due_at
        return Deadline(
            kind=self.kind,
            due_at=due_at,
            remind_at=self.remind_at + shift if self.remind_at else None,
            expire_at=self.expire_at + shift if self.expire_at else None,
        )

    @classmethod
    def scheduled(cls, kind: DeadlineKind, at: datetime) -> Deadline:
        return cls(kind=kind, due_at=at)


def next_wakeup(deadlines: Iterable[Deadline]) -> datetime | None:
    """The earliest moment at which time alone changes something."""
    moments = [m[0] for d in deadlines if (m := d.next_moment()) is not None]
    return min(moments) if moments else None
