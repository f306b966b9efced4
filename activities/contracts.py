"""Inputs and outputs of activities: plain pydantic models, shared with the workflows."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from domain.events import Event
from domain.network import Municipality
from domain.notifications import Notification
from domain.values import Town


class RecordRequest(BaseModel):
    stream_id: str
    expected_version: int
    events: list[Event]
    notifications: list[Notification] = Field(default_factory=list)


class RecordResult(BaseModel):
    version: int
    positions: list[int]
    adoption_number: int | None = None
    replayed: bool = False


class IntakeRequest(BaseModel):
    proposal_id: str
    fingerprint: str


class IntakeFindings(BaseModel):
    open_towns: list[Town]
    duplicate_of: str | None = None


class DeliveryRequest(BaseModel):
    event_ids: list[UUID]


class DeliveryReport(BaseModel):
    sent: int = 0
    recorded: int = 0
    already_done: int = 0


class RolloutTargetsRequest(BaseModel):
    host_town: Town


class RolloutTargets(BaseModel):
    members: list[Municipality]
