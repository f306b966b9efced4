"""Deadlines: every wait for a person has a reminder before it and an escalation or expiry at it.

A deadline is data in the proposal's state, set by the event that opens the wait, so that the
decider alone says what happens when time passes (the workflow only says what time it is).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field, model_validator

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


class DeadlinePolicy(Model):
    """How long a wait lasts, when to remind, and how long after escalation it expires."""

    days: int = Field(ge=1, le=730)
    remind_days_before: int = Field(default=0, ge=0, le=365)
    # Days between escalation at the due date and expiry; 0 means the wait expires at once
    # (or, for waits that cannot expire, only escalates).
    grace_days: int = Field(default=0, ge=0, le=365)

    @model_validator(mode="after")
    def _reminder_inside_wait(self) -> DeadlinePolicy:
        if self.remind_days_before >= self.days:
            raise ValueError("the reminder must come after the wait starts (remind_days_before < days)")
        return self

    def open(self, kind: DeadlineKind, start: datetime) -> Deadline:
        due = start + timedelta(days=self.days)
        return Deadline(
            kind=kind,
            due_at=due,
            remind_at=due - timedelta(days=self.remind_days_before)
            if self.remind_days_before
            else None,
            expire_at=due + timedelta(days=self.grace_days) if self.grace_days else None,
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
