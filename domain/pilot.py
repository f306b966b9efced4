"""The pilot (実証実験): its plan, KPIs, progress reports and evaluation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import Field, model_validator

from domain.proposal import Model
from domain.values import Comment, Instant, Paragraph, ShortText, start_of_day_jst

MAX_PILOT_DAYS = 3 * 366


class Kpi(Model):
    name: ShortText
    target: ShortText


class PilotPlan(Model):
    start_date: date
    end_date: date
    kpis: tuple[Kpi, ...] = Field(min_length=1, max_length=20)
    description: Paragraph | None = None
    # By default the pilot runs from 00:00 JST on its start date through its end date. Exact
    # moments within those days may be given instead, for rehearsals and demonstrations.
    exact_start: Instant | None = None
    exact_end: Instant | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> PilotPlan:
        if self.end_date <= self.start_date:
            raise ValueError("the pilot must end after it starts")
        if (self.end_date - self.start_date).days > MAX_PILOT_DAYS:
            raise ValueError(f"a pilot may last at most {MAX_PILOT_DAYS} days")
        first, last = start_of_day_jst(self.start_date), start_of_day_jst(
            self.end_date + timedelta(days=1))
        for name, moment in (("exact_start", self.exact_start), ("exact_end", self.exact_end)):
            if moment is not None and not first <= moment <= last:
                raise ValueError(f"{name} must fall between the start and end dates (JST)")
        if self.starts_at >= self.ends_at:
            raise ValueError("the pilot must end after it starts")
        return self

    @property
    def starts_at(self) -> datetime:
        return self.exact_start or start_of_day_jst(self.start_date)

    @property
    def ends_at(self) -> datetime:
        """The pilot runs through its end date (JST), unless an exact end is given."""
        return self.exact_end or start_of_day_jst(self.end_date + timedelta(days=1))

    def extended_to(self, end_date: date) -> PilotPlan:
        return self.model_copy(update={"end_date": end_date, "exact_end": None})


class KpiValue(Model):
    name: ShortText
    value: ShortText


class PilotReport(Model):
    summary: Comment
    kpis: tuple[KpiValue, ...] = Field(default=(), max_length=20)


class PilotOutcome(StrEnum):
    SUCCESS = "success"
    EXTEND = "extend"
    STOP = "stop"


class PilotEvaluation(Model):
    outcome: PilotOutcome
    comment: Comment
    new_end_date: date | None = None

    @model_validator(mode="after")
    def _end_date_iff_extend(self) -> PilotEvaluation:
        if self.outcome is PilotOutcome.EXTEND and self.new_end_date is None:
            raise ValueError("extending a pilot needs a new end date")
        if self.outcome is not PilotOutcome.EXTEND and self.new_end_date is not None:
            raise ValueError("a new end date is only given when the pilot is extended")
        return self
